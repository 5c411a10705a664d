"""The storefront's time picker: a month of days marking those with free times, the chosen
day's times by part of the day, and the number of places, all as plain links and a small
GET form (it works without JavaScript; ``time_picker.js`` only saves the page reloads).

Used to pick a time for a new booking (offering page → review) and to move a booking.
For a new booking (``waitlist=True``) it also marks the days whose times are all fully
booked, and lists the chosen day's full times to join the waiting list of (read with the
month's free days, in the same query).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

from flask import request

from app.errors import ValidationFailed
from app.models.types import utcnow
from app.services import agenda, free_times

MAX_PLACES = free_times.MAX_PLACES


@dataclass(frozen=True)
class PickerDay:
    day: date
    in_month: bool
    free_times: int
    chosen: bool
    past: bool
    full: bool = False  # fully booked: only full times that day (a waiting list to join)


@dataclass(frozen=True)
class Picker:
    month: free_times.FreeDays
    weeks: list[list[PickerDay]]
    day: date | None
    times: free_times.FreeTimesOfDay | None
    quantity: int
    max_quantity: int
    zone: str
    zone_label: str  # "CET" / "CEST" of the chosen day (or of the month's first day)
    can_go_back: bool
    error: str | None
    fixed_quantity: bool  # moving a booking: its places, not a choice
    full_times: list[free_times.FullTime]  # the chosen day's (only with the waiting list)
    waitlist: bool  # full times are shown, to join their waiting list
    # The offering's staff a customer may choose from (id, name), empty when none or when
    # moving a booking; ``resource_id`` the chosen one (None: anyone available).
    people: tuple[tuple[int, str], ...] = ()
    resource_id: int | None = None

    @property
    def month_label(self) -> str:
        return self.month.month.strftime("%B %Y")


def _arg_date(name: str, fmt: str) -> date | None:
    value = request.args.get(name, "")
    try:
        return datetime.strptime(value, fmt).date() if value else None
    except ValueError:
        return None


def _arg_quantity(max_quantity: int) -> int:
    quantity = request.args.get("quantity", 1, type=int) or 1
    return max(1, min(quantity, max_quantity))


def build_picker(offering_id: int, zone: str, *, max_quantity: int = MAX_PLACES,
                 quantity: int | None = None, waitlist: bool = False,
                 now: datetime | None = None, people: tuple[tuple[int, str], ...] = (),
                 resource_id: int | None = None) -> Picker:
    """The picker for the request's ``month`` (YYYY-MM), ``day`` (YYYY-MM-DD) and
    ``quantity`` (unless ``quantity`` is given): by default the month and day of the
    soonest free time. ``waitlist``: with the full times, to join their waiting list (and
    with no free time at all, the month and day of the soonest full one). ``people``: the
    staff to choose from; ``resource_id``: the chosen one's times only (one of them)."""
    now = now or utcnow()
    today = now.astimezone(agenda.zone_of(zone)).date()
    fixed = quantity is not None
    quantity = quantity if fixed else _arg_quantity(max_quantity)
    day = _arg_date("day", "%Y-%m-%d")
    month = _arg_date("month", "%Y-%m") or (day.replace(day=1) if day else None)
    error = None
    if month is None:
        soonest = free_times.first_free_day(offering_id, quantity=quantity, now=now,
                                            or_full=waitlist, resource_id=resource_id)
        month = (soonest or today).replace(day=1)
        day = day or soonest
    try:
        days = free_times.free_days(offering_id, month=month, quantity=quantity, now=now,
                                    with_full=waitlist, resource_id=resource_id)
    except ValidationFailed as exc:
        error = exc.message
        days = free_times.free_days(offering_id, month=today, quantity=quantity, now=now,
                                    with_full=waitlist, resource_id=resource_id)
        day = None
    if day is not None and day.replace(day=1) != days.month:
        day = None
    if day is None:
        day = min(days.free_times_per_day, default=None)
    times = free_times.free_times_on(offering_id, day=day, quantity=quantity, now=now,
                                     resource_id=resource_id) if day is not None else None
    full = days.full_times_on(day) if day is not None else []
    # The abbreviation of the times shown (on a day the clocks change, both, in order).
    shown = sorted((t.starts_at for t in [*(times.times if times else []), *full]),
                   key=lambda moment: moment.timestamp())
    zone_label = "/".join(dict.fromkeys(moment.strftime("%Z") for moment in shown)) or \
        datetime.combine(day or days.month, datetime.min.time(),
                         agenda.zone_of(zone)).strftime("%Z")
    return Picker(month=days, weeks=_weeks(days, day, today), day=day, times=times,
                  quantity=quantity, max_quantity=max_quantity, zone=zone,
                  zone_label=zone_label, can_go_back=days.month > today.replace(day=1),
                  error=error, fixed_quantity=fixed, full_times=full, waitlist=waitlist,
                  people=tuple(people), resource_id=resource_id)


def _weeks(days: free_times.FreeDays, chosen: date | None, today: date) -> list[list[PickerDay]]:
    weeks, full_days = [], days.full_days
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(days.month.year,
                                                                     days.month.month):
        weeks.append([PickerDay(day=day, in_month=day.month == days.month.month,
                                free_times=days.free_times_per_day.get(day, 0),
                                chosen=day == chosen, past=day < today,
                                full=day in full_days)
                      for day in week])
    return weeks


__all__ = ["Picker", "PickerDay", "build_picker"]
