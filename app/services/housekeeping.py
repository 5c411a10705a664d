"""Periodic work in embedded mode, where there is no Redis, no worker and no scheduler.

The web process runs the periodic table (``app.job_registry.PERIODIC``, the one the RQ
scheduler uses) itself: at the start of a request, at most once a minute per process,
each entry whose interval has passed (an entry on a daily cron: once a day). With Redis,
``flask bookwell scheduler`` does this.
"""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)
EVERY_SECONDS = 60
_lock = threading.Lock()
_last_run: dict[str, float] = {}


def run_if_due(clock=time.monotonic) -> bool:
    """Run the periodic work that is due, if a minute has passed since the last look;
    never fails the caller's request (one entry failing does not hold up the others)."""
    from app.job_registry import PERIODIC, job  # the registry imports every service

    moment = clock()
    if moment - _last_run.get("", float("-inf")) < EVERY_SECONDS \
            or not _lock.acquire(blocking=False):
        return False
    try:
        _last_run[""] = moment
        for entry in PERIODIC:
            if moment - _last_run.get(entry.key, float("-inf")) < entry.every_seconds:
                continue
            _last_run[entry.key] = moment
            try:
                job(entry.job).func()
            except Exception:
                log.exception("embedded periodic work %s failed; it runs again when due",
                              entry.key)
        return True
    finally:
        _lock.release()


def reset() -> None:
    _last_run.clear()
