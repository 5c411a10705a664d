"""Keeping the search index in step with the catalog.

- ``offerings_changed(ids)``: the catalog (and tenancy) services call it *after* their
  commit for every offering created, changed, deactivated or deleted. With OpenSearch it
  enqueues ``jobs.search.index_offerings`` on the ``default`` queue; with the database
  backend it does nothing (that backend reads the tables themselves).
- ``reindex_all(progress=...)``: the full rebuild behind ``flask bookwell reindex``;
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable

from flask import current_app
from sqlalchemy import select

from app import jobqueue
from app.errors import DomainError
from app.extensions import db
from app.gateways.opensearch import OpenSearchError
from app.models import Offering
from app.services.search import get_backend

log = logging.getLogger(__name__)

INDEX_JOB = "jobs.search.index_offerings"
JOB_BATCH = 500  # offering ids per indexing job


def opensearch_configured() -> bool:
    return bool(current_app.config.get("OPENSEARCH_URL"))


def index_job_id(offering_ids: list[int]) -> str:
    """The same sorted ids give the same job id, so a burst of edits queues one job."""
    digest = hashlib.sha1(",".join(map(str, offering_ids)).encode()).hexdigest()[:20]
    return f"search-index-{digest}"


def offerings_changed(offering_ids: Iterable[int]) -> int:
    """Have the search index catch up with these offerings; call after commit.

    Returns how many indexing jobs were enqueued (0 with the database backend, or when
    an identical job is still waiting in the queue). Without Redis the job runs inline;
    an OpenSearch failure is then logged, not raised, since the caller's change is
    already committed (``flask bookwell reindex`` repairs the index).
    """
    if not opensearch_configured():
        return 0
    ids = sorted({int(i) for i in offering_ids})
    enqueued = 0
    for start in range(0, len(ids), JOB_BATCH):
        if _enqueue_index_job(ids[start:start + JOB_BATCH]):
            enqueued += 1
    return enqueued


def _enqueue_index_job(ids: list[int]) -> bool:
    job_id = index_job_id(ids)
    if not current_app.config.get("REDIS_URL"):
        try:
            jobqueue.enqueue(INDEX_JOB, ids, queue="default")
        except OpenSearchError:
            log.exception("indexing offerings %s failed; the search index is stale until "
                          "the next `flask bookwell reindex`", ids)
        return True
    waiting = jobqueue.get_queue("default").fetch_job(job_id)
    if waiting is not None:
        status = waiting.get_status(refresh=False)
        if status == "queued":
            return False  # not started yet: it will read what was just committed
        if status == "started":
            job_id = None  # never overwrite a running job; queue a fresh one
    jobqueue.enqueue(INDEX_JOB, ids, queue="default", job_id=job_id)
    return True


def provider_changed(provider_id: int) -> int:
    """A provider was (de)activated or renamed: all its offerings change in the index."""
    if not opensearch_configured():
        return 0
    ids = db.session.scalars(select(Offering.id).where(Offering.provider_id == provider_id))
    return offerings_changed(list(ids))


def sync_offerings(offering_ids: list[int]) -> None:
    """Upsert or remove these offerings in the configured backend's index (the job)."""
    get_backend().index_offerings(offering_ids)


def reindex_all(progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the OpenSearch index from the database; returns the offerings indexed.

    ``progress(done, total)`` is called before the first batch and after each one.
    """
    if not opensearch_configured():
        raise DomainError("search.not_configured",
                          "Search runs on the database (OPENSEARCH_URL is not set); "
                          "there is no index to rebuild.")
    return get_backend().rebuild(progress=progress)


