"""Where staff can move a booking: the free slots of its offering around its day.

Read-only. The console's booking page and calendar list these; the move itself is
``booking_lifecycle.reschedule_booking``, which checks the same guards again under lock
(a slot listed here may have filled up by the time the move is asked).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import Booking, Provider, Slot
from app.models.bookings import CONFIRMED, PENDING
from app.models.types import utcnow
from app.services import booking_window
from app.services.agenda import zone_of
from app.services.scopes import Scope, require_scope

MAX_DAYS = 31
MAX_TARGETS = 200
MOVABLE = (PENDING, CONFIRMED)


@dataclass(frozen=True)
class MoveTarget:
    slot_id: int
    starts_at: datetime  # in the provider's zone
    ends_at: datetime  # in the provider's zone
    remaining: int


@dataclass(frozen=True)
class MoveOptions:
    reference: str
    zone: str
    movable: bool  # False: the booking's state does not allow a move
    start_day: date
    days: int
    targets: tuple[MoveTarget, ...]


def move_targets(reference: str, *, scope: Scope, start_day: date | None = None,
                 days: int = 7, now: datetime | None = None) -> MoveOptions:
    """Free slots of the booking's offering that can take its places, from ``start_day``
    (a day in the provider's zone; default: the booking's day, or today if that is past)
    for ``days`` days (at most a month), excluding the booking's own slot, retired slots
    and slots that have started."""
    require_scope(scope)
    booking = db.session.scalar(
        scope.filter(select(Booking).where(Booking.reference == reference), Booking))
    if booking is None:
        raise NotFound("booking.not_found", f"No booking {reference}.")
    zone_name = db.session.scalar(
        select(Provider.timezone).where(Provider.id == booking.provider_id)) or "UTC"
    zone = zone_of(zone_name)
    now = now or utcnow()
    days = max(1, min(int(days), MAX_DAYS))
    if start_day is None:
        start_day = max(booking.starts_at, now).astimezone(zone).date() \
            if booking.starts_at is not None else now.astimezone(zone).date()
    window_start = datetime.combine(start_day, time(), zone)
    window_end = datetime.combine(start_day + timedelta(days=days), time(), zone)
    movable = booking.status in MOVABLE and booking.slot_id is not None
    targets: tuple[MoveTarget, ...] = ()
    if movable:
        rows = db.session.execute(
            select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.capacity - Slot.booked)
            .where(*booking_window.slot_conditions(booking.offering_id, now,
                                                   moving_booking=booking.id),
                   Slot.id != booking.slot_id,
                   Slot.retired_at.is_(None),
                   Slot.starts_at >= max(window_start, now),
                   Slot.starts_at < window_end,
                   Slot.capacity - Slot.booked >= booking.quantity)
            .order_by(Slot.starts_at, Slot.id).limit(MAX_TARGETS))
        targets = tuple(
            MoveTarget(slot_id, starts_at.astimezone(zone), ends_at.astimezone(zone),
                       remaining)
            for slot_id, starts_at, ends_at, remaining in rows)
    return MoveOptions(reference=booking.reference, zone=zone_name, movable=movable,
                       start_day=start_day, days=days, targets=targets)


__all__ = ["MoveOptions", "MoveTarget", "move_targets"]
