"""Hand work to RQ when Redis is configured; run it inline otherwise (embedded mode).

Jobs are named by import path (``"jobs.maintenance.purge_revoked_tokens"``) so that
``app`` never imports ``jobs``. Callers enqueue only after their transaction committed.
"""
from __future__ import annotations

import importlib
import logging

from flask import current_app
from rq import Queue, Retry

from app.redis import redis_client

log = logging.getLogger(__name__)

QUEUES = ("events", "payments", "notifications", "integrations", "default")


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}")
    return Queue(name, connection=redis_client())


def enqueue(func_path: str, *args, queue: str = "default", job_id: str | None = None,
            retry: Retry | None = None, **kwargs):
    """Run ``func_path(*args, **kwargs)`` on a worker, or right here without Redis.

    ``retry`` (RQ's ``Retry``) applies on a worker; inline there is one attempt.
    """
    if current_app.config.get("REDIS_URL"):
        return get_queue(queue).enqueue(func_path, *args, job_id=job_id, retry=retry, **kwargs)
    module_name, _, func_name = func_path.rpartition(".")
    func = getattr(importlib.import_module(module_name), func_name)
    log.info("running %s inline (no REDIS_URL)", func_path)
    return func(*args, **kwargs)
