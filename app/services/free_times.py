"""What a customer picks a time from: the days of a month with free places, and one day's
free times grouped by part of the day, on the provider's wall clock; and the full times
a customer may join the waiting list of.

Days are the provider's days (a slot at 23:30 in Berlin is on that Berlin day, whatever
UTC says), so a month is read as one window from local midnight to local midnight, DST
included. A time is free for ``quantity`` places when that many are left now, and full
for them when fewer are left (but the time has that many in all: otherwise no place that
comes free could ever be enough). A slot already begun, or retired, or outside the
offering's booking window is neither. Read on every request: any booking changes it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Slot
from app.models.types import utcnow
from app.services import agenda, booking_window, browse, resource_time

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
class FullTime:
    """A time without ``quantity`` places left: one to wait for."""

    slot_id: int
    starts_at: datetime  # on the provider's wall clock (aware)
    ends_at: datetime


@dataclass(frozen=True)
class FreeDays:
    """A month's days that have at least one free time, with how many; and, when asked
    for (``with_full``), the month's full times, soonest first."""

    offering_id: int
    timezone: str
    month: date  # its first day
    quantity: int
    free_times_per_day: dict[date, int]
    full_times: tuple[FullTime, ...] = ()

    @property
    def full_days(self) -> set[date]:
        """The days with a full time and no free one: days to wait on, not to book."""
        return {full.starts_at.date() for full in self.full_times} - \
            set(self.free_times_per_day)

    def full_times_on(self, day: date) -> list[FullTime]:
        return [full for full in self.full_times if full.starts_at.date() == day]

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
              now: datetime | None = None, with_full: bool = False,
              resource_id: int | None = None) -> FreeDays:
    """The days of ``month`` (any day of it) with a free time for ``quantity`` places;
    ``with_full``: the month's full times too, from the same read. ``resource_id``: only
    the times the customer's chosen person (one of the offering's resources) is free."""
    zone_name = _zone_of_visible_offering(offering_id)
    quantity = _checked_quantity(quantity)
    first = _checked_month(month, zone_name, now)
    following = (first + timedelta(days=31)).replace(day=1)
    counts: dict[date, int] = {}
    full: list[FullTime] = []
    for time_, free in _times_between(offering_id, zone_name, first, following, quantity,
                                      now, with_full=with_full, resource_id=resource_id):
        if free:
            day = time_.starts_at.date()
            counts[day] = counts.get(day, 0) + 1
        else:
            full.append(_full(time_))
    return FreeDays(offering_id=offering_id, timezone=zone_name, month=first,
                    quantity=quantity, free_times_per_day=counts, full_times=tuple(full))


def free_times_on(offering_id: int, *, day: date, quantity: int = 1,
                  now: datetime | None = None,
                  resource_id: int | None = None) -> FreeTimesOfDay:
    """The free times of one of the provider's days, grouped by part of the day."""
    zone_name = _zone_of_visible_offering(offering_id)
    quantity = _checked_quantity(quantity)
    _checked_month(day, zone_name, now)
    times = _free_between(offering_id, zone_name, day, day + timedelta(days=1), quantity, now,
                          resource_id=resource_id)
    parts = []
    for index, (name, hour) in enumerate(PARTS_OF_DAY):
        until = PARTS_OF_DAY[index + 1][1] if index + 1 < len(PARTS_OF_DAY) else 24
        in_part = [free for free in times if hour <= free.starts_at.hour < until]
        if in_part:
            parts.append((name, in_part))
    return FreeTimesOfDay(offering_id=offering_id, timezone=zone_name, day=day,
                          quantity=quantity, parts=parts)


def full_times_on(offering_id: int, *, day: date, quantity: int = 1,
                  now: datetime | None = None,
                  resource_id: int | None = None) -> list[FullTime]:
    """The full times of one of the provider's days for ``quantity`` places."""
    zone_name = _zone_of_visible_offering(offering_id)
    quantity = _checked_quantity(quantity)
    _checked_month(day, zone_name, now)
    return [_full(time_) for time_, free in _times_between(
        offering_id, zone_name, day, day + timedelta(days=1), quantity, now, with_full=True,
        resource_id=resource_id)
        if not free]


def first_free_day(offering_id: int, *, quantity: int = 1, now: datetime | None = None,
                   or_full: bool = False, resource_id: int | None = None) -> date | None:
    """The provider's day of the soonest free time, if there is one; ``or_full``: when
    there is none, of the soonest full time (still one read)."""
    zone_name = _zone_of_visible_offering(offering_id)
    quantity = _checked_quantity(quantity)
    now_ = now or utcnow()
    if or_full:
        query = _offered_slots(offering_id, now_, now, resource_id) \
            .where(Slot.capacity >= quantity).order_by(case((_free_condition(quantity), 0), else_=1))
    else:
        query = _free_slots(offering_id, now_, quantity, now, resource_id)
    starts_at = db.session.scalar(
        query.with_only_columns(Slot.starts_at).order_by(Slot.starts_at).limit(1))
    return starts_at.astimezone(agenda.zone_of(zone_name)).date() if starts_at else None


# --- reading -----------------------------------------------------------------------------

def _free_between(offering_id: int, zone_name: str, first_day: date, end_day: date,
                  quantity: int, now: datetime | None, *,
                  resource_id: int | None = None) -> list[FreeTime]:
    return [free for free, _ in _times_between(offering_id, zone_name, first_day, end_day,
                                               quantity, now, resource_id=resource_id,
                                               people_left=True)]


def _times_between(offering_id: int, zone_name: str, first_day: date, end_day: date,
                   quantity: int, now: datetime | None, *, with_full: bool = False,
                   resource_id: int | None = None,
                   people_left: bool = False) -> list[tuple[FreeTime, bool]]:
    """The free times (and with ``with_full`` the full ones) of the provider's days
    ``first_day`` up to ``end_day``, soonest first, each with whether it is free.
    ``people_left``: an appointment's ``remaining`` is at most how many of the people it
    needs are free then (one barber free: one left, whatever the places say)."""
    zone = agenda.zone_of(zone_name)
    start, end = _utc_window(zone, first_day, end_day)
    not_before = max(start, now or utcnow())
    if with_full:
        # Free or full: any time with ``quantity`` places in all; full also when nobody
        # (or not the one chosen) is free to do it, which is worth waiting for too.
        query = select(Slot).where(
            *booking_window.slot_conditions(offering_id, now or utcnow(), people=False),
            Slot.starts_at >= not_before, Slot.retired_at.is_(None),
            Slot.capacity >= quantity)
        free = and_(_free_condition(quantity),
                    *booking_window.people_free(offering_id, resource_id))
    else:
        query = _free_slots(offering_id, not_before, quantity, now, resource_id)
        free = _free_condition(quantity)
    counts = resource_time.free_counts(resource_time.needs(db.session, offering_id),
                                       resource_id) if people_left else []
    rows = db.session.execute(
        query.where(Slot.starts_at < end)
        .with_only_columns(Slot.id, Slot.starts_at, Slot.ends_at, Slot.capacity, Slot.booked,
                           free.label("free"), *counts)
        .order_by(Slot.starts_at))
    return [(FreeTime(slot_id=row.id, starts_at=row.starts_at.astimezone(zone),
                      ends_at=row.ends_at.astimezone(zone),
                      remaining=min((row.capacity - row.booked, *row[6:]))), bool(row.free))
            for row in rows]


def _full(time_: FreeTime) -> FullTime:
    return FullTime(slot_id=time_.slot_id, starts_at=time_.starts_at, ends_at=time_.ends_at)


def _utc_window(zone, first_day: date, end_day: date) -> tuple[datetime, datetime]:
    """From the provider's midnight starting ``first_day`` to the one starting
    ``end_day``, in UTC."""
    return (datetime.combine(first_day, time(0), zone).astimezone(timezone.utc),
            datetime.combine(end_day, time(0), zone).astimezone(timezone.utc))


def _offered_slots(offering_id: int, not_before: datetime, now: datetime | None = None,
                   resource_id: int | None = None):
    """Times offered to customers: not retired, from ``not_before``, inside the
    offering's booking window, with someone free (``resource_id``: that one); free or
    not."""
    return select(Slot).where(*booking_window.slot_conditions(offering_id, now or utcnow(),
                                                              resource_id=resource_id),
                              Slot.starts_at >= not_before, Slot.retired_at.is_(None))


def _free_slots(offering_id: int, not_before: datetime, quantity: int,
                now: datetime | None = None, resource_id: int | None = None):
    """Times with ``quantity`` places left, inside the offering's booking window."""
    return _offered_slots(offering_id, not_before, now, resource_id) \
        .where(_free_condition(quantity))


def _free_condition(quantity: int):
    """``quantity`` places left. A time with fewer left, of at least ``quantity`` in all,
    is full for them (``Slot.booked + quantity > Slot.capacity``)."""
    return Slot.booked + quantity <= Slot.capacity


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
