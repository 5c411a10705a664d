"""The geocoding job on a real RQ worker: RQ retries transient failures, not Google's "no"."""
from __future__ import annotations

import pytest
from rq import Retry, SimpleWorker
from rq.job import JobStatus

from app import jobqueue
from app.extensions import db
from app.models import Location
from app.redis import redis_client
from app.services import geocoding
from app import job_registry
from jobs.worker import run_worker
from tests.fakes.google_maps import (
    TEST_KEY,
    google_maps_for,
    GEOCODE_PATH,
    geocoded,
    maps_settings,
    over_query_limit,
    zero_results,
)

KEY = TEST_KEY
ADDRESS = "Kurfürstendamm 21, Berlin"


@pytest.fixture
def google_maps(app):
    with google_maps_for(app) as fake:
        yield fake


@pytest.fixture
def queued(app):
    """Jobs go to Redis: the real one when TEST_REDIS_URL is set, fakeredis otherwise."""
    real_redis = app.config["REDIS_URL"]
    with maps_settings(app, REDIS_URL=real_redis or "redis://fakeredis"):
        yield lambda: _work_off(app, real_redis)


def _work_off(app, real_redis) -> None:
    if real_redis:
        run_worker(app, ["default"], burst=True)  # the production worker, forking per job
    else:  # fakeredis lives in this process only, so the job must not fork
        SimpleWorker([jobqueue.get_queue("default")], connection=redis_client()).work(
            burst=True)


def pending_location(provider_id: int) -> int:
    row = Location(provider_id=provider_id, name="Studio", address=ADDRESS,
                   geocode_status="pending")
    db.session.add(row)
    db.session.commit()
    return row.id


def location(location_id: int) -> Location:
    db.session.expire_all()
    return db.session.get(Location, location_id)


def test_a_worker_geocodes_the_location(google_maps, queued, build):
    google_maps.answer_geocode(ADDRESS, geocoded(52.5036, 13.3326, place_id="ChIJ-kudamm"))
    location_id = pending_location(build.provider())
    job = geocoding.enqueue_geocoding(location_id)
    assert location(location_id).geocode_status == "pending"  # queued, not yet run
    queued()
    job.refresh()
    assert job.is_finished and job.return_value() == "ok"
    row = location(location_id)
    assert (row.lat, row.lng, row.place_id, row.geocode_status) == (
        52.5036, 13.3326, "ChIJ-kudamm", "ok")


def test_a_transient_failure_raises_so_rq_schedules_a_retry(google_maps, queued, build):
    google_maps.answer_geocode(ADDRESS, over_query_limit())
    location_id = pending_location(build.provider())
    job = geocoding.enqueue_geocoding(location_id)
    queued()
    job.refresh()
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 2
    row = location(location_id)
    assert row.geocode_status == "pending"  # still something for the retry to do
    assert "OVER_QUERY_LIMIT" in row.geocode_error


def test_the_last_attempt_records_error(google_maps, queued, build):
    google_maps.answer_geocode(ADDRESS, over_query_limit())
    location_id = pending_location(build.provider())
    # No interval: the retry is queued at once and the same burst runs it.
    job = jobqueue.enqueue(geocoding.JOB, location_id, retry=Retry(max=1))
    queued()
    job.refresh()
    assert job.is_finished and job.return_value() == "error"
    assert len(google_maps.requests_to(GEOCODE_PATH)) == 2
    assert location(location_id).geocode_status == "error"


def test_a_permanent_failure_does_not_raise(google_maps, queued, build):
    google_maps.answer_geocode(ADDRESS, zero_results())
    location_id = pending_location(build.provider())
    job = geocoding.enqueue_geocoding(location_id)
    queued()
    job.refresh()
    assert job.is_finished and job.return_value() == "zero_results"
    assert location(location_id).geocode_status == "zero_results"


def test_inline_a_transient_failure_is_recorded_not_raised(app, google_maps, build):
    google_maps.answer_geocode(ADDRESS, over_query_limit())
    location_id = pending_location(build.provider())
    with maps_settings(app, REDIS_URL=None):
        assert geocoding.enqueue_geocoding(location_id) == "error"
    assert location(location_id).geocode_status == "error"


def test_the_job_skips_a_location_that_is_not_pending(app_ctx, google_maps, build):
    location_id = pending_location(build.provider())
    db.session.get(Location, location_id).geocode_status = "manual"
    db.session.commit()
    assert job_registry.geocode_location(location_id) == "skipped"
    assert google_maps.requests == []
