"""Geocoding jobs."""
from __future__ import annotations

from rq import get_current_job

from app.services import geocoding
from jobs.context import with_app_context


class GeocodingRetry(RuntimeError):
    """A transient geocoding failure; raised so that RQ retries the job."""


@with_app_context
def geocode_location(location_id: int) -> str:
    job = get_current_job()  # None inline: one attempt, and it is the last
    final_attempt = job is None or not job.retries_left
    outcome = geocoding.geocode_location(location_id, final_attempt=final_attempt)
    if outcome.retry_later:
        raise GeocodingRetry(f"location {location_id}: {outcome.message}")
    return outcome.status
