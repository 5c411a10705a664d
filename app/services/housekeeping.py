"""Periodic work in embedded mode, where there is no Redis, no worker and no scheduler.

The web process does it itself, at most once a minute per process, at the start of a
request: holds that ran out expire (their places come back), the outbox sweep
re-delivers events a crash left behind, payments left unsettled are reconciled, messages
and conversions left queued are sent, receipts left without a PDF are rendered,
reminders go out; once a day, old request details
(IP, user agent) of attribution are cleared. With Redis, ``flask bookwell scheduler``
does this.
"""
from __future__ import annotations

import logging
import threading
import time

from app import events
from app.services import (
    attribution_privacy,
    bookings,
    conversions,
    notifications,
    payment_reconciliation,
    receipts,
)

log = logging.getLogger(__name__)
EVERY_SECONDS = 60
_lock = threading.Lock()
DAILY_SECONDS = 24 * 3600
_last_run = {"at": float("-inf"), "daily": float("-inf")}


def run_if_due(clock=time.monotonic) -> bool:
    """Run the periodic work if a minute has passed; never fails the caller's request."""
    moment = clock()
    if moment - _last_run["at"] < EVERY_SECONDS or not _lock.acquire(blocking=False):
        return False
    try:
        _last_run["at"] = moment
        bookings.expire_holds()
        events.sweep()
        payment_reconciliation.reconcile()
        notifications.sweep()
        notifications.queue_reminders()
        conversions.sweep()
        receipts.sweep()
        if moment - _last_run["daily"] >= DAILY_SECONDS:
            _last_run["daily"] = moment
            attribution_privacy.clear_expired_request_details()
        return True
    except Exception:
        log.exception("embedded housekeeping failed; it runs again in a minute")
        return False
    finally:
        _lock.release()


def reset() -> None:
    _last_run["at"] = _last_run["daily"] = float("-inf")
