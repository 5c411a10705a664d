"""Conversion delivery (the ``integrations`` queue) and its sweep."""
from __future__ import annotations

from rq import get_current_job

from app.services import attribution_privacy, conversions
from jobs.context import with_app_context


@with_app_context
def send_conversion(row_id: int) -> str:
    job = get_current_job()  # None inline: one attempt, and it is the last
    return conversions.send(row_id, final_attempt=job is None or not job.retries_left)


@with_app_context
def sweep_conversions() -> int:
    return conversions.sweep()


@with_app_context
def clear_request_details() -> int:
    return attribution_privacy.clear_expired_request_details()
