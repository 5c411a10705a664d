"""What a customer picks a time from: the days of a month with free places, and one day's
free times grouped by part of the day, on the provider's wall clock.

Days are the provider's days (a slot at 23:30 in Berlin is on that Berlin day, whatever
UTC says), so a month is read as one window from local midnight to local midnight, DST
included. A time is free for ``quantity`` places when that many are left now; a slot
already begun, or retired, is never offered. Read on every request: any booking changes it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Slot
from app.models.types import utcnow
from app.services import agenda, booking_window, browse

MAX_PLACES = 100
MONTHS_AHEAD = 24
# A part of the day begins at its hour, on the provider's wall clock.
PARTS_OF_DAY = (("morning", 0), ("afternoon", 12), ("evening", 17))


@dataclass(frozen=True)
class FreeTime:
    slot_id: int
    starts_at: datetime  # on the provider's wall clock (aware)
    ends_at: datetime
    remaining: int


@dataclass(frozen=True)
class FreeDays:
    """A month's days that have at least one free time, with how many."""

    offering_id: int
    timezone: str
    month: date  # its first day
    quantity: int
    free_times_per_day: dict[date, int]

    @property
    def previous_month(self) -> date:
        return (self.month - timedelta(days=1)).replace(day=1)

    @property
    def next_month(self) -> date:
        return (self.month + timedelta(days=31)).replace(day=1)


@dataclass(frozen=True)
class FreeTimesOfDay:
    offering_id: int
    timezone: str
    day: date
    quantity: int
    parts: list[tuple[str, list[FreeTime]]]  # only parts with a free time, in day order

    @property
    def times(self) -> list[FreeTime]:
        return [free for _part, times in self.parts for free in times]


def free_days(offering_id: int, *, month: date, quantity: int = 1,
              now: datetime | None = None) -> FreeDays:
    """The days of ``month`` (any day of it) with a free time for ``quantity`` places."""
    zone_name = _zone_of_visible_offering(offering_id)
    quantity = _checked_quantity(quantity)
    first = _checked_month(month, zone_name, now)
    following = (first + timedelta(days=31)).replace(day=1)
    counts: dict[date, int] = {}
    for free in _free_between(offering_id, zone_name, first, following, quantity, now):
        day = free.starts_at.date()
        counts[day] = counts.get(day, 0) + 1
    return FreeDays(offering_id=offering_id, timezone=zone_name, month=first,
                    quantity=quantity, free_times_per_day=counts)


def free_times_on(offering_id: int, *, day: date, quantity: int = 1,
                  now: datetime | None = None) -> FreeTimesOfDay:
    """The free times of one of the provider's days, grouped by part of the day."""
    zone_name = _zone_of_visible_offering(offering_id)
    quantity = _checked_quantity(quantity)
    _checked_month(day, zone_name, now)
    times = _free_between(offering_id, zone_name, day, day + timedelta(days=1), quantity, now)
    parts = []
    for index, (name, hour) in enumerate(PARTS_OF_DAY):
        until = PARTS_OF_DAY[index + 1][1] if index + 1 < len(PARTS_OF_DAY) else 24
        in_part = [free for free in times if hour <= free.starts_at.hour < until]
        if in_part:
            parts.append((name, in_part))
    return FreeTimesOfDay(offering_id=offering_id, timezone=zone_name, day=day,
                          quantity=quantity, parts=parts)


def first_free_day(offering_id: int, *, quantity: int = 1,
                   now: datetime | None = None) -> date | None:
    """The provider's day of the soonest free time, if there is one."""
    zone_name = _zone_of_visible_offering(offering_id)
    starts_at = db.session.scalar(
        _free_slots(offering_id, now or utcnow(), _checked_quantity(quantity), now)
        .with_only_columns(Slot.starts_at).order_by(Slot.starts_at).limit(1))
    return starts_at.astimezone(agenda.zone_of(zone_name)).date() if starts_at else None


# --- reading -----------------------------------------------------------------------------

def _free_between(offering_id: int, zone_name: str, first_day: date, end_day: date,
                  quantity: int, now: datetime | None) -> list[FreeTime]:
    zone = agenda.zone_of(zone_name)
    start = datetime.combine(first_day, time(0), zone).astimezone(timezone.utc)
    end = datetime.combine(end_day, time(0), zone).astimezone(timezone.utc)
    rows = db.session.execute(
        _free_slots(offering_id, max(start, now or utcnow()), quantity, now)
        .where(Slot.starts_at < end)
        .with_only_columns(Slot.id, Slot.starts_at, Slot.ends_at, Slot.capacity, Slot.booked)
        .order_by(Slot.starts_at))
    return [FreeTime(slot_id=row.id, starts_at=row.starts_at.astimezone(zone),
                     ends_at=row.ends_at.astimezone(zone),
                     remaining=row.capacity - row.booked) for row in rows]


def _free_slots(offering_id: int, not_before: datetime, quantity: int,
                now: datetime | None = None):
    """Times with ``quantity`` places left, inside the offering's booking window."""
    return select(Slot).where(*booking_window.slot_conditions(offering_id, now or utcnow()),
                              Slot.starts_at >= not_before,
                              Slot.retired_at.is_(None), Slot.booked + quantity <= Slot.capacity)


def _zone_of_visible_offering(offering_id: int) -> str:
    return browse.visible_offering_provider(offering_id).timezone or "UTC"


def _checked_quantity(quantity: int) -> int:
    if not 1 <= quantity <= MAX_PLACES:
        raise ValidationFailed("free_times.bad_quantity",
                               f"Ask for 1 to {MAX_PLACES} places.",
                               {"quantity": [f"Between 1 and {MAX_PLACES}."]})
    return quantity


def _checked_month(day: date, zone_name: str, now: datetime | None) -> date:
    """The first of ``day``'s month, if it is between this month and two years ahead."""
    today = (now or utcnow()).astimezone(agenda.zone_of(zone_name)).date()
    first = day.replace(day=1)
    months = (first.year - today.year) * 12 + first.month - today.month
    if not 0 <= months <= MONTHS_AHEAD:
        raise ValidationFailed("free_times.month_out_of_range",
                               f"Choose a month from now up to {MONTHS_AHEAD} months ahead.",
                               {"month": ["Out of range."]})
    return first
