"""Event delivery and the outbox sweep."""
from __future__ import annotations

from rq import get_current_job

from app import events
from jobs.context import with_app_context


@with_app_context
def deliver_event(event_id: str) -> str:
    job = get_current_job()
    final = job is None or not job.retries_left
    return events.deliver(event_id, final_attempt=final)


@with_app_context
def sweep_outbox() -> int:
    return events.sweep()
