"""The RQ worker entry point: the Flask app is built once, then each job forks from it."""
from __future__ import annotations

import logging
import os

from rq import Worker

from app.extensions import db
from app.jobqueue import get_queue
from app.redis import redis_client

log = logging.getLogger(__name__)


def _fresh_connections_after_fork(app):
    # A forked job must not share the parent's database sockets.
    def reset():
        with app.app_context():
            db.engine.dispose(close=False)

    os.register_at_fork(after_in_child=reset)


def run_worker(app, queue_names: list[str], *, burst: bool = False) -> bool:
    with app.app_context():
        _fresh_connections_after_fork(app)
        queues = [get_queue(name) for name in queue_names]
        worker = Worker(queues, connection=redis_client())
        log.info("worker listening on %s", ", ".join(queue_names))
        return worker.work(burst=burst, with_scheduler=True)
