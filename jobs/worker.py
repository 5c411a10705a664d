"""The RQ worker entry point: the Flask app is built once, then each job forks from it.

``fork=False`` runs jobs in the worker process itself (RQ's ``SimpleWorker``): no fork and
no new database connection per job, several times cheaper for small frequent jobs such as
event delivery. The session is removed after every job, so nothing carries over.
"""
from __future__ import annotations

import logging
import os

from rq import SimpleWorker, Worker

from app import job_registry, metrics, tracing
from app.extensions import db
from app.jobqueue import get_queue
from app.redis import redis_client
from app.services.transactions import end_session

log = logging.getLogger(__name__)


def _fresh_connections_after_fork(app):
    # A forked job must not share the parent's database sockets.
    def reset():
        with app.app_context():
            db.engine.dispose(close=False)

    os.register_at_fork(after_in_child=reset)


class TracedJobs:
    """Each job runs in a span, the child of the span that handed it over
    (``app.tracing``); nothing when tracing is off."""

    def perform_job(self, job, queue, *args, **kwargs) -> bool:
        with tracing.job_span(job, job_registry.name_of(job.func_name)):
            return super().perform_job(job, queue, *args, **kwargs)


class ForkingWorker(TracedJobs, Worker):
    """A fork per job; once a job's process has exited, its live metrics stop counting."""

    def perform_job(self, job, queue, *args, **kwargs) -> bool:
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            tracing.flush()  # in the job's process, which ends without a goodbye

    def execute_job(self, job, queue):
        try:
            return super().execute_job(job, queue)
        finally:
            if self.horse_pid:
                metrics.process_gone(self.horse_pid)


class InProcessWorker(TracedJobs, SimpleWorker):
    """Jobs run here, one after another; each starts with a fresh database session."""

    def execute_job(self, job, queue):
        try:
            return super().execute_job(job, queue)
        finally:
            end_session()


def load_before_forking() -> None:
    """What jobs would otherwise load in every forked process, loaded once here: a receipt
    paid about a second for xhtml2pdf and its fonts, a payment job about 70 ms for
    stripe-python's lazily loaded parts."""
    from app.gateways import payments as payment_gateways
    from app.services import receipts

    receipts.warm_up()
    payment_gateways.warm_up()


def run_worker(app, queue_names: list[str], *, burst: bool = False, fork: bool = True) -> bool:
    with app.app_context():
        queues = [get_queue(name) for name in queue_names]
        if fork:
            load_before_forking()
            _fresh_connections_after_fork(app)
            worker = ForkingWorker(queues, connection=redis_client())
        else:
            worker = InProcessWorker(queues, connection=redis_client())
        log.info("worker listening on %s (%s)", ", ".join(queue_names),
                 "a fork per job" if fork else "jobs in process")
        return worker.work(burst=burst, with_scheduler=True)
