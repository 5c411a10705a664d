"""Jobs run on a real RQ worker when Redis is configured, inline otherwise."""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq import SimpleWorker

from app import jobqueue
from app.extensions import db
from app.models import RevokedToken
from app.models.types import utcnow
from app.redis import redis_client
from jobs.worker import run_worker


def _revocations(user_id: int, *, expired: int, live: int) -> None:
    now = utcnow()
    for i in range(expired):
        db.session.add(RevokedToken(jti=f"old-{i}", user_id=user_id,
                                    expires_at=now - timedelta(hours=1)))
    for i in range(live):
        db.session.add(RevokedToken(jti=f"live-{i}", user_id=user_id,
                                    expires_at=now + timedelta(hours=1)))
    db.session.commit()


def test_job_runs_on_a_worker_when_redis_is_configured(app, app_ctx, build):
    _revocations(build.customer(), expired=3, live=2)
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = saved or "redis://fakeredis"  # fakeredis client stands in
    try:
        job = jobqueue.enqueue("maintenance.purge_revoked_tokens")
        assert db.session.query(RevokedToken).count() == 5  # queued, not yet run
        if saved:
            # A real Redis: the production worker, which forks per job.
            run_worker(app, ["default"], burst=True)
        else:
            # fakeredis lives in this process only, so the job must not fork.
            SimpleWorker([jobqueue.get_queue("default")], connection=redis_client()).work(
                burst=True)
    finally:
        app.config["REDIS_URL"] = saved
    db.session.expire_all()
    job.refresh()
    assert job.is_finished, job.get_status()
    assert job.return_value() == 3
    assert sorted(t.jti for t in db.session.query(RevokedToken)) == ["live-0", "live-1"]


def test_job_runs_inline_without_redis(app, app_ctx, build):
    _revocations(build.customer(), expired=2, live=1)
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    try:
        result = jobqueue.enqueue("maintenance.purge_revoked_tokens")
    finally:
        app.config["REDIS_URL"] = saved
    assert result == 2
    assert db.session.query(RevokedToken).count() == 1


def test_unknown_queue_is_refused(app_ctx):
    with pytest.raises(ValueError, match="unknown queue"):
        jobqueue.get_queue("nope")


def test_the_in_process_worker_runs_jobs_without_forking_and_starts_each_clean(
        app, app_ctx, build):
    import os

    _revocations(build.customer(), expired=2, live=1)
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = saved or "redis://fakeredis"
    try:
        first = jobqueue.enqueue("maintenance.purge_revoked_tokens")
        second = jobqueue.enqueue("maintenance.purge_revoked_tokens")
        parent = os.getpid()
        if saved:
            run_worker(app, ["default"], burst=True, fork=False)
        else:  # fakeredis runs no Lua, which RQ's scheduler needs: the worker alone
            from jobs.worker import InProcessWorker

            InProcessWorker([jobqueue.get_queue("default")], connection=redis_client()).work(
                burst=True)
    finally:
        app.config["REDIS_URL"] = saved
    first.refresh()
    second.refresh()
    assert first.worker_name and os.getpid() == parent
    assert first.return_value() == 2 and second.return_value() == 0
    db.session.expire_all()
    assert db.session.query(RevokedToken).count() == 1
