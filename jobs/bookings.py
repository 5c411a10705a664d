"""Booking housekeeping: holds that ran out."""
from __future__ import annotations

from app.services import bookings
from jobs.context import with_app_context


@with_app_context
def expire_holds() -> int:
    return bookings.expire_holds()
