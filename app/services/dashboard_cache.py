"""The dashboards' period figures, kept for a minute per process.

The figures over 7, 30 or 90 days add up hundreds of thousands of rows for an admin at a
million bookings (a few hundred milliseconds of database time); a minute-old total is as
good for deciding anything, so each is computed at most once a minute per scope, period
and day. The lists beside them (today, waiting, check-ins, needs attention) are always
read fresh. ``DASHBOARD_CACHE_SECONDS`` (0: off) sets the minute; the page says how old
the figures are. Values are frozen dataclasses, safe to share between threads.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from flask import current_app

MAX_ENTRIES = 512
_entries: OrderedDict[tuple, tuple[datetime, object]] = OrderedDict()
_lock = threading.Lock()


def seconds() -> int:
    return int(current_app.config.get("DASHBOARD_CACHE_SECONDS", 60) or 0)


def kept(key: tuple, now: datetime, compute) -> tuple[object, datetime]:
    """(value, when it was computed): ``compute()`` unless a value for ``key`` younger
    than the configured seconds is kept."""
    ttl = seconds()
    if ttl <= 0:
        return compute(), now
    with _lock:
        found = _entries.get(key)
        if found is not None and now - found[0] < timedelta(seconds=ttl):
            _entries.move_to_end(key)
            return found[1], found[0]
    value = compute()  # outside the lock: two first requests may both compute, once
    with _lock:
        _entries[key] = (now, value)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value, now


def forget() -> None:
    with _lock:
        _entries.clear()
