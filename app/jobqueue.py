"""Hand work to RQ when Redis is configured; run it inline otherwise (embedded mode).

Jobs are named by their stable name in ``app.job_registry`` (``"notifications.send"``),
which also says their queue and retry policy. Callers enqueue only after their
transaction committed.
"""
from __future__ import annotations

import logging

from datetime import timedelta

from flask import current_app
from rq import Queue, Retry

from app import tracing
from app.logging import job_meta
from app.redis import redis_client

log = logging.getLogger(__name__)

# ``webhooks`` on its own, so that receivers never hold up anything else; deliveries to a
# receiver that answered slowly of late go to ``webhooks_slow``, so it holds up only itself
# and the other slow ones.
QUEUES = ("events", "payments", "notifications", "integrations", "webhooks", "webhooks_slow",
          "default")


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}")
    return Queue(name, connection=redis_client())


def _meta() -> dict:
    """What a job carries of its cause: the request id, provider and user for the logs,
    and the trace context its span continues."""
    return {**job_meta(), **tracing.job_context()}


def enqueue(name: str, *args, job_id: str | None = None, retry: Retry | None = None,
            **kwargs):
    """Run the job ``name`` with these arguments on a worker, or right here without Redis.

    Its retries (the job's own, or RQ's ``Retry`` given here) apply on a worker; inline
    there is one attempt.
    """
    from app.job_registry import job  # the registry imports the services that call this

    entry = job(name)
    if current_app.config.get("REDIS_URL"):
        if retry is None and entry.retry_intervals:
            retry = Retry(max=len(entry.retry_intervals), interval=list(entry.retry_intervals))
        return get_queue(entry.queue).enqueue(entry.func, *args, job_id=job_id, retry=retry,
                                              meta=_meta(), **kwargs)
    log.info("running %s inline (no REDIS_URL)", name)
    return entry.func(*args, **kwargs)


def enqueue_in(delay: timedelta, name: str, *args, job_id: str | None = None):
    """Run the job ``name`` on a worker once ``delay`` has passed (RQ's scheduler, which
    every worker runs); without Redis there is no scheduler, and it runs here at once."""
    from app.job_registry import job

    entry = job(name)
    if current_app.config.get("REDIS_URL"):
        return get_queue(entry.queue).enqueue_in(delay, entry.func, *args, job_id=job_id,
                                                 meta=_meta())
    log.info("running %s inline now (no REDIS_URL: no scheduler)", name)
    return entry.func(*args)
