"""A resource's weekly hours, and the shifts laid out from them.

A staff member or a room may keep weekly hours (wall-clock ranges in the provider's zone,
checked by the same rules as an offering's: :func:`weekly_hours.ranges_problems`). A
resource without hours is there whenever its offerings are; one with hours can be booked
only for a time inside one of its shifts.

Shifts are the hours laid out on the calendar, in UTC, for the days slots are generated
(``SLOT_DAYS_AHEAD``, extended by the daily slot job), with back-to-back ranges joined so
a booking can run across them. Working out daylight-saving time once here lets the lists
and the booking check compare plain columns (see :mod:`app.services.resource_time`).
Saving new hours replaces the shifts in the same transaction; bookings already taken
outside the new hours stay (staff see them and move them), as with opening hours.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import delete, insert, select

from app.extensions import db
from app.models import Provider, Resource, ResourceHours, ResourceShift
from app.models.types import utcnow
from app.services import agenda
from app.services.cache import bump_catalog_generation
from app.services.resources import get_resource
from app.services.scopes import Scope, require_scope
from app.services.transactions import unit_of_work
from app.services.weekly_hours import TimeRange, check_problems, ranges_problems

LAST_MINUTE = time(23, 59)  # "until 23:59" means until midnight


@dataclass(frozen=True)
class ResourceWeek:
    resource_id: int
    name: str
    timezone: str  # the provider's
    ranges: tuple[TimeRange, ...]  # empty: no hours kept, there whenever needed


def hours_of(resource_id: int, *, scope: Scope) -> ResourceWeek:
    resource = get_resource(resource_id, scope=require_scope(scope))
    return ResourceWeek(resource.id, resource.name, agenda.provider_zone(resource.provider_id),
                        ranges_of(resource.id))


def ranges_of(resource_id: int) -> tuple[TimeRange, ...]:
    """The weekly ranges of a resource the caller already holds (found in its scope)."""
    rows = db.session.scalars(select(ResourceHours).where(
        ResourceHours.resource_id == resource_id).order_by(
        ResourceHours.weekday, ResourceHours.start_time))
    return tuple(TimeRange(r.weekday, r.start_time, r.end_time) for r in rows)


def replace_hours(resource_id: int, *, scope: Scope,
                  ranges: tuple[TimeRange, ...] | list[TimeRange]) -> ResourceWeek:
    """The resource's weekly hours become ``ranges`` (none: it keeps no hours) and its
    shifts are laid out again, in one transaction; refused as a whole
    (``ValidationFailed``) when a range is wrong."""
    require_scope(scope)
    ranges = tuple(sorted(ranges))
    check_problems(ranges_problems(ranges))
    with unit_of_work():
        resource = get_resource(resource_id, scope=scope)
        db.session.execute(delete(ResourceHours).where(
            ResourceHours.resource_id == resource.id))
        db.session.add_all(
            ResourceHours(provider_id=resource.provider_id, resource_id=resource.id,
                          weekday=span.weekday, start_time=span.start, end_time=span.end)
            for span in ranges)
        resource.keeps_hours = bool(ranges)
        db.session.flush()
        _lay_out(resource, ranges, _days_ahead(), utcnow())
    bump_catalog_generation()  # free times depend on who works when
    return hours_of(resource_id, scope=scope)


def lay_out_all_shifts(days: int | None = None, now: datetime | None = None) -> int:
    """Every resource with hours gets its shifts laid out afresh for the days ahead (the
    daily job: the window moves on by a day). Returns how many shifts there are."""
    days, now = days or _days_ahead(), now or utcnow()
    total = 0
    resources = db.session.scalars(select(Resource).where(Resource.keeps_hours.is_(True))
                                   .order_by(Resource.id)).all()
    for resource in resources:
        with unit_of_work():
            total += _lay_out(resource, ranges_of(resource.id), days, now)
    if resources:
        bump_catalog_generation()
    return total


def shifts_for(ranges, zone_name: str, first_day: date, days: int) -> list[tuple[datetime,
                                                                                 datetime]]:
    """The UTC stretches the weekly ``ranges`` cover from ``first_day`` (a local date) for
    ``days`` days. A range ending at 23:59 runs to midnight, and ranges that meet (until
    17:00, then from 17:00; or a late shift into the next morning) are joined. A wall
    time in the spring-forward gap is pushed on by the gap (02:30 becomes 03:30); in the
    autumn's repeated hour the first, earlier instant is meant."""
    zone = agenda.zone_of(zone_name)
    stretches: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for span in sorted(r for r in ranges if r.weekday == day.weekday()):
            start = _instant(day, span.start, zone)
            end = (_instant(day + timedelta(days=1), time(0), zone) if span.end >= LAST_MINUTE
                   else _instant(day, span.end, zone))
            if end <= start:
                continue
            if stretches and stretches[-1][1] >= start:
                stretches[-1] = (stretches[-1][0], max(stretches[-1][1], end))
            else:
                stretches.append((start, end))
    return stretches


def _instant(day: date, wall: time, zone) -> datetime:
    return datetime.combine(day, wall, zone).astimezone(timezone.utc)


def _lay_out(resource: Resource, ranges, days: int, now: datetime) -> int:
    db.session.execute(delete(ResourceShift).where(ResourceShift.resource_id == resource.id))
    if not ranges:
        return 0
    zone = db.session.scalar(select(Provider.timezone).where(
        Provider.id == resource.provider_id))
    # From yesterday, local: a booking made now may be for a shift that began yesterday.
    first_day = agenda.local_today(zone, now=now) - timedelta(days=1)
    stretches = shifts_for(ranges, zone, first_day, days + 2)
    if stretches:
        db.session.execute(insert(ResourceShift), [
            {"provider_id": resource.provider_id, "resource_id": resource.id,
             "starts_at": start, "ends_at": end} for start, end in stretches])
    return len(stretches)


def _days_ahead() -> int:
    return current_app.config["SLOT_DAYS_AHEAD"]


__all__ = ["ResourceWeek", "hours_of", "lay_out_all_shifts", "ranges_of", "replace_hours",
           "shifts_for"]
