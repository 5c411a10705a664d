"""Keeping the search index in step with the catalog.

- ``offerings_changed(ids)``: the catalog (and tenancy) services call it *after* their
  commit for every offering created, changed, deactivated or deleted. With OpenSearch it
  enqueues ``jobs.search.index_offerings`` on the ``default`` queue; with the database
  backend it does nothing (that backend reads the tables themselves).
- ``reindex_all(progress=...)``: the full rebuild behind ``flask bookwell reindex``;
  ``ProgressReporter`` draws its progress on a terminal or logs it in plain lines.
"""
from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from flask import current_app
from sqlalchemy import select

from app import jobqueue
from app.errors import DomainError
from app.gateways.opensearch import OpenSearchError
from app.extensions import db
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


class ProgressReporter:
    """``progress(done, total)`` for the CLI.

    On a terminal: one line redrawn with ``\\r`` (bar, counts, percent, rate), at most
    every ``redraw_seconds``, finished with a newline. Elsewhere (logs, CI): a plain line
    each time another ``every_percent`` is done, and at the end.
    """

    def __init__(self, stream: TextIO | None = None, *, label: str = "indexed",
                 tty: bool | None = None, every_percent: int = 10, width: int = 30,
                 redraw_seconds: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.label = label
        self.every_percent = max(1, every_percent)
        self.width = width
        self.redraw_seconds = redraw_seconds
        self.clock = clock
        self.started = clock()
        self._last_draw = None
        self._next_percent = 0
        self._finished = False

    def __call__(self, done: int, total: int) -> None:
        if self._finished:
            return
        total = max(total, done)
        percent = 100 if total == 0 else int(done * 100 / total)
        final = done >= total
        if self.tty:
            self._draw(done, total, percent, final)
        elif percent >= self._next_percent or final:
            self.stream.write(f"{self.label} {done:,}/{total:,} ({percent}%) "
                              f"{self._rate(done):,.0f}/s\n")
            self._next_percent = (percent // self.every_percent + 1) * self.every_percent
        if final:
            self._finished = True
        self.stream.flush()

    def _draw(self, done: int, total: int, percent: int, final: bool) -> None:
        now = self.clock()
        if not final and self._last_draw is not None and \
                now - self._last_draw < self.redraw_seconds:
            return
        self._last_draw = now
        filled = self.width if total == 0 else self.width * done // total
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done:,}/{total:,} {percent:3d}% "
                          f"{self._rate(done):,.0f}/s")
        if final:
            self.stream.write("\n")

    def _rate(self, done: int) -> float:
        elapsed = self.clock() - self.started
        return done / elapsed if elapsed > 0 else 0.0
