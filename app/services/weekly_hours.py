"""Weekly hours: several time ranges on several weekdays, checked and saved as one change.

The rules about a week of opening hours (a range ends after it starts, ranges of one
weekday never overlap, slots are at least a minute long and hold at least one place) are
plain functions over ``TimeRange`` values, so anything that has weekly hours — an offering
today, a staff member or a room later — checks them the same way. Saving is per owner: an
offering's hours replace its ``AvailabilityRule`` rows and regenerate its slots in one
transaction (``replace_offering_hours``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from flask import current_app
from sqlalchemy import delete, select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import AvailabilityRule, Offering, Provider
from app.models.availability import WEEKDAYS
from app.models.catalog import SERVICE
from app.models.types import utcnow
from app.services import agenda, availability, tenancy
from app.services.cache import bump_catalog_generation
from app.services.scopes import Scope, require_scope
from app.services.transactions import unit_of_work

MAX_RANGES = 100  # far more than a week needs; keeps one save's work bounded


@dataclass(frozen=True, order=True)
class TimeRange:
    """From ``start`` to ``end`` on a weekday (0 = Monday), wall-clock times."""

    weekday: int
    start: time
    end: time

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True)
class WeeklyHours:
    ranges: tuple[TimeRange, ...]
    slot_minutes: int
    capacity: int

    def on(self, weekday: int) -> list[TimeRange]:
        return sorted(r for r in self.ranges if r.weekday == weekday)


def hours_problems(hours: WeeklyHours) -> list[str]:
    """What is wrong with a week of hours, in words (empty: nothing)."""
    problems = []
    if not (hours.slot_minutes or 0) >= 1:
        problems.append("Slots must be at least one minute long.")
    if not (hours.capacity or 0) >= 1:
        problems.append("Capacity must be at least 1.")
    return ranges_problems(hours.ranges) + problems


def ranges_problems(ranges: tuple[TimeRange, ...]) -> list[str]:
    """What is wrong with the time ranges of a week (anyone's hours: an offering's, a
    staff member's), in words."""
    problems = []
    if len(ranges) > MAX_RANGES:
        problems.append(f"At most {MAX_RANGES} time ranges.")
    for span in ranges:
        if not 0 <= span.weekday <= 6:
            problems.append("Pick a weekday from Monday to Sunday.")
        elif span.end <= span.start:
            problems.append(f"{span}: the end must be after the start.")
    for weekday in range(7):
        on_day = sorted(r for r in ranges if r.weekday == weekday and r.end > r.start)
        for earlier, later in zip(on_day, on_day[1:]):
            if later.start < earlier.end:
                problems.append(f"{later} overlaps {earlier}.")
    return problems


def check_hours(hours: WeeklyHours) -> None:
    check_problems(hours_problems(hours))


def check_problems(problems: list[str]) -> None:
    if problems:
        raise ValidationFailed("availability.invalid_hours", " ".join(problems),
                               {"ranges": problems})


# --- an offering's hours -------------------------------------------------------------

@dataclass(frozen=True)
class OfferingHours:
    offering_id: int
    name: str
    timezone: str  # the provider's: every time of the week is a wall-clock time there
    hours: WeeklyHours


def _service_offering(offering_id: int, scope: Scope) -> Offering:
    offering = tenancy.get_owned(Offering, offering_id, scope=scope, label="offering")
    if offering.kind != SERVICE:
        raise ValidationFailed("availability.not_a_service", "Only services have slots.",
                               {"offering_id": ["Products have stock, not opening hours."]})
    return offering


def offering_hours(*, scope: Scope, offering_id: int) -> OfferingHours:
    """The offering's current weekly hours (its rules in force today or later)."""
    require_scope(scope)
    offering = _service_offering(offering_id, scope)
    rules = list(db.session.scalars(select(AvailabilityRule).where(
        AvailabilityRule.offering_id == offering.id).order_by(
        AvailabilityRule.weekday, AvailabilityRule.start_time)))
    today = _local_today(offering.provider_id)
    rules = [r for r in rules if r.valid_to is None or r.valid_to >= today]
    first = rules[0] if rules else None
    hours = WeeklyHours(
        ranges=tuple(TimeRange(r.weekday, r.start_time, r.end_time) for r in rules),
        slot_minutes=first.slot_minutes if first else (offering.duration_minutes or 60),
        capacity=first.capacity if first else 1)
    return OfferingHours(offering.id, offering.name, _zone(offering.provider_id), hours)


def replace_offering_hours(*, scope: Scope, offering_id: int,
                           hours: WeeklyHours) -> availability.GenerationReport:
    """The offering's weekly hours become ``hours``, from today on: its rules are replaced
    and its slots regenerated (slots no longer asked for are removed, or retired where
    they have bookings) in one transaction. Refused as a whole (``ValidationFailed``)
    when a range is wrong; then nothing changes."""
    require_scope(scope)
    check_hours(hours)
    with unit_of_work():
        offering = _service_offering(offering_id, scope)
        owner = Scope.of_provider(offering.provider_id)
        today = _local_today(offering.provider_id)
        db.session.execute(delete(AvailabilityRule).where(
            AvailabilityRule.offering_id == offering.id))
        db.session.add_all(
            AvailabilityRule(provider_id=offering.provider_id, offering_id=offering.id,
                             weekday=span.weekday, start_time=span.start, end_time=span.end,
                             slot_minutes=hours.slot_minutes, capacity=hours.capacity,
                             valid_from=today)
            for span in sorted(hours.ranges))
        db.session.flush()
        report = availability.generate_slots(
            scope=owner, offering_id=offering.id,
            days=current_app.config["SLOT_DAYS_AHEAD"], commit=False)
    bump_catalog_generation()
    return report


def _zone(provider_id: int) -> str:
    return db.session.scalar(select(Provider.timezone).where(Provider.id == provider_id))


def _local_today(provider_id: int) -> date:
    return utcnow().astimezone(agenda.zone_of(_zone(provider_id))).date()


__all__ = ["OfferingHours", "TimeRange", "WeeklyHours", "check_hours", "check_problems",
           "hours_problems", "offering_hours", "ranges_problems", "replace_offering_hours"]
