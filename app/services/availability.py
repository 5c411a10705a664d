"""Availability: weekly rules, closed days and time off, and the slots generated from them.

Rules are in the provider's local time; slots are stored in UTC. A 09:00 rule gives a
09:00 local slot on both sides of a daylight-saving change (its UTC time moves), a local
time that does not exist that day (the spring-forward gap) gives no slot, and an
ambiguous one (fall-back) is taken at its first occurrence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, exists, or_, select, update

from app import events
from app.errors import ValidationFailed
from app.extensions import db
from app.models import AvailabilityRule, Booking, ClosedDay, Offering, Provider, Slot, TimeOff
from app.models.catalog import SERVICE
from app.models.types import utcnow
from app.services import resource_time
from app.services.cache import bump_catalog_generation
from app.services.scopes import Scope, require_scope
from app.services.tenancy import scoped
from app.services.transactions import unit_of_work

INSERT_BATCH = 1000


# --- rules -----------------------------------------------------------------------------

def check_rule(rule: AvailabilityRule) -> None:
    # Rules are wall times in the provider's zone; an offset would mean another zone.
    problems = {name: ["A local time of day, without an offset or Z."]
                for name in ("start_time", "end_time")
                if getattr(rule, name) is not None and getattr(rule, name).tzinfo is not None}
    if problems:
        raise ValidationFailed("availability.invalid_rule", "The rule has invalid values.",
                               problems)
    if rule.weekday is None or not 0 <= rule.weekday <= 6:
        problems["weekday"] = ["Weekday must be 0 (Monday) to 6 (Sunday)."]
    if rule.start_time is not None and rule.end_time is not None \
            and rule.end_time <= rule.start_time:
        problems["end_time"] = ["The end must be after the start."]
    if not (rule.slot_minutes or 0) > 0:
        problems["slot_minutes"] = ["Slots must be at least one minute long."]
    if not (rule.capacity or 0) >= 1:
        problems["capacity"] = ["Capacity must be at least 1."]
    if rule.valid_from is None:
        problems["valid_from"] = ["A start date is required."]
    elif rule.valid_to is not None and rule.valid_to < rule.valid_from:
        problems["valid_to"] = ["The end date must not be before the start date."]
    if problems:
        raise ValidationFailed("availability.invalid_rule", "The rule has invalid values.",
                               problems)
    offering = db.session.get(Offering, rule.offering_id)
    if offering is None or offering.provider_id != rule.provider_id:
        raise ValidationFailed("catalog.unknown_reference", "No such offering here.",
                               {"offering_id": ["No such offering here."]})
    if offering.kind != SERVICE:
        raise ValidationFailed("availability.not_a_service", "Only services have slots.",
                               {"offering_id": ["Products have stock, not slots."]})
    if _overlapping_rule(rule) is not None:
        raise ValidationFailed(
            "availability.rules_overlap",
            "This rule overlaps another rule of the same offering.",
            {"start_time": ["Overlaps another rule on the same weekday and dates."]})


def _overlapping_rule(rule: AvailabilityRule) -> int | None:
    far_future = date.max
    return db.session.scalar(
        select(AvailabilityRule.id).where(
            AvailabilityRule.offering_id == rule.offering_id,
            AvailabilityRule.weekday == rule.weekday,
            AvailabilityRule.id != (rule.id or 0),
            AvailabilityRule.start_time < rule.end_time,
            AvailabilityRule.end_time > rule.start_time,
            AvailabilityRule.valid_from <= (rule.valid_to or far_future),
            or_(AvailabilityRule.valid_to.is_(None),
                AvailabilityRule.valid_to >= rule.valid_from),
        ).limit(1))


def check_closed_day(closed: ClosedDay) -> None:
    if closed.day is None:
        raise ValidationFailed("availability.day_required", "A date is required.",
                               {"day": ["A date is required."]})
    if closed.offering_id is not None and db.session.scalar(
            select(Offering.provider_id).where(Offering.id == closed.offering_id)) \
            != closed.provider_id:
        raise ValidationFailed("catalog.unknown_reference", "No such offering here.",
                               {"offering_id": ["No such offering here."]})


def check_time_off(period: TimeOff) -> None:
    problems = {}
    for name in ("starts_at", "ends_at"):
        moment = getattr(period, name)
        if moment is None:
            problems[name] = ["A date and time is required."]
        elif moment.tzinfo is None:
            problems[name] = ["A moment with its zone (stored in UTC)."]
    if not problems and period.ends_at <= period.starts_at:
        problems["ends_at"] = ["The end must be after the start."]
    if problems:
        raise ValidationFailed("availability.invalid_time_off", "The time off has invalid "
                               "values.", problems)
    if period.offering_id is not None and db.session.scalar(
            select(Offering.provider_id).where(Offering.id == period.offering_id)) \
            != period.provider_id:
        raise ValidationFailed("catalog.unknown_reference", "No such offering here.",
                               {"offering_id": ["No such offering here."]})


# --- slot generation ------------------------------------------------------------------

@dataclass
class GenerationReport:
    offerings: int = 0
    created: int = 0
    removed: int = 0  # deleted: no rule asks for them and nobody ever booked them
    retired: int = 0  # no rule asks for them, but they have bookings: kept, not bookable
    restored: int = 0  # retired slots a rule asks for again
    kept_booked: int = 0  # of the slots no rule asks for, those with places still taken
    resized: int = 0
    per_offering: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.removed or self.retired or self.restored
                    or self.resized)


@dataclass(frozen=True)
class PlannedSlot:
    starts_at: datetime
    ends_at: datetime
    capacity: int


def local_slot_starts(day: date, rule: AvailabilityRule, zone: ZoneInfo,
                      length: timedelta) -> Iterable[datetime]:
    """The UTC start of every slot the rule gives on ``day`` (a local date).

    Slots start every ``slot_minutes`` and must end (``length`` later) by closing time.
    """
    step = timedelta(minutes=rule.slot_minutes)
    cursor = datetime.combine(day, rule.start_time)
    end = datetime.combine(day, rule.end_time)
    while cursor + length <= end:
        local = cursor.replace(tzinfo=zone)
        as_utc = local.astimezone(timezone.utc)
        # A wall time in the spring-forward gap does not survive the round trip: skip it.
        if as_utc.astimezone(zone).replace(tzinfo=None) == cursor:
            yield as_utc
        cursor += step


def plan_slots(offering: Offering, rules: list[AvailabilityRule], closed: set[date],
               zone: ZoneInfo, first_day: date, days: int, now: datetime,
               time_off: Iterable[tuple[datetime, datetime]] = ()) -> dict:
    """The slots the rules ask for, minus closed days and any slot that touches time off
    (``time_off``: (start, end) in UTC)."""
    duration = timedelta(minutes=offering.duration_minutes or 0)
    time_off = list(time_off)
    planned: dict[datetime, PlannedSlot] = {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if day in closed:
            continue
        for rule in rules:
            if rule.weekday != day.weekday() or day < rule.valid_from or (
                    rule.valid_to is not None and day > rule.valid_to):
                continue
            length = duration or timedelta(minutes=rule.slot_minutes)
            for start in local_slot_starts(day, rule, zone, length):
                if start >= now and start not in planned and not any(
                        off_start < start + length and start < off_end
                        for off_start, off_end in time_off):
                    planned[start] = PlannedSlot(start, start + length, rule.capacity)
    return planned


def generate_slots(*, scope: Scope, offering_id: int | None = None,
                   days: int = 60, now: datetime | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   commit: bool = True) -> GenerationReport:
    """Bring future slots in line with the rules for ``days`` ahead. Idempotent.

    Missing slots are inserted (a retired one is brought back); slots no rule asks for any
    more are deleted if nobody ever booked them and retired otherwise; a changed capacity
    is applied where the bookings still fit.

    ``commit=True`` (the daily job, the command, the generate endpoint) commits each
    offering on its own, so a long run keeps its progress and a rerun finishes it.
    ``commit=False`` (a rule or closed-day change) commits nothing: the change and the
    slots it shapes commit together in the caller's transaction, or not at all, and the
    caller refreshes the catalog cache after its commit.
    """
    require_scope(scope)
    query = scoped(select(Offering.id), Offering, scope=scope).where(
        Offering.kind == SERVICE, Offering.active.is_(True))
    now = now or utcnow()
    if offering_id is not None:
        query = query.where(Offering.id == offering_id)
    offering_ids = list(db.session.scalars(query.order_by(Offering.id)))
    report = GenerationReport(offerings=len(offering_ids))
    for done, oid in enumerate(offering_ids, start=1):
        if commit:  # each offering on its own: a long run keeps its progress
            with unit_of_work():
                _sync_offering(oid, days, now, report)
        else:
            _sync_offering(oid, days, now, report)
        if progress:
            progress(done, len(offering_ids))
    if commit and report.changed:
        bump_catalog_generation()
    return report


def _sync_offering(offering_id: int, days: int, now: datetime, report: GenerationReport):
    """Bring one offering's slots in line with its rules, in the open transaction."""
    offering = db.session.get(Offering, offering_id)
    provider = db.session.get(Provider, offering.provider_id)
    zone = ZoneInfo(provider.timezone)
    first_day = now.astimezone(zone).date()
    rules = list(db.session.scalars(
        select(AvailabilityRule).where(AvailabilityRule.offering_id == offering_id)))
    closed = set(db.session.scalars(select(ClosedDay.day).where(
        ClosedDay.provider_id == provider.id,
        or_(ClosedDay.offering_id.is_(None), ClosedDay.offering_id == offering_id))))
    window_end = datetime.combine(first_day + timedelta(days=days), time(), tzinfo=zone)
    time_off = db.session.execute(select(TimeOff.starts_at, TimeOff.ends_at).where(
        TimeOff.provider_id == provider.id, TimeOff.ends_at > now,
        TimeOff.starts_at < window_end + timedelta(days=1),
        or_(TimeOff.offering_id.is_(None), TimeOff.offering_id == offering_id))).all()
    planned = plan_slots(offering, rules, closed, zone, first_day, days, now,
                         time_off=[tuple(period) for period in time_off])
    existing = {
        row.starts_at: row for row in db.session.execute(
            select(Slot.id, Slot.starts_at, Slot.capacity, Slot.booked, Slot.retired_at)
            .where(Slot.offering_id == offering_id, Slot.starts_at >= now,
                   Slot.starts_at < window_end))
    }
    created = _insert_missing(offering, [p for s, p in planned.items() if s not in existing])
    stale = [row for start, row in existing.items() if start not in planned]
    removed, retired = _remove_or_retire([row.id for row in stale], now)
    restored = resized = 0
    for start, plan in planned.items():
        row = existing.get(start)
        if row is None:
            continue
        if row.retired_at is not None:
            restored += db.session.execute(
                update(Slot).where(Slot.id == row.id, Slot.retired_at.is_not(None))
                .values(retired_at=None)).rowcount
        if row.capacity != plan.capacity and row.booked <= plan.capacity:
            # The condition is repeated in SQL so a booking taken meanwhile is respected.
            changed = db.session.execute(
                update(Slot).where(and_(Slot.id == row.id, Slot.booked <= plan.capacity))
                .values(capacity=plan.capacity)).rowcount
            resized += changed
            if changed and plan.capacity > row.capacity:  # the waiting list is offered them
                events.publish("slot.capacity_raised",
                               {"slot_id": row.id, "offering_id": offering_id,
                                "provider_id": provider.id, "capacity": plan.capacity},
                               provider_id=provider.id)
    report.created += created
    report.removed += removed
    report.retired += retired
    report.restored += restored
    report.kept_booked += sum(1 for row in stale if row.booked > 0)
    report.resized += resized
    report.per_offering[offering_id] = created


def _remove_or_retire(slot_ids: list[int], now: datetime) -> tuple[int, int]:
    """Delete the slots nobody ever booked; retire the others (a booking, even a
    cancelled or expired one, refers to its slot for good). (removed, newly retired)."""
    if not slot_ids:
        return 0, 0
    # Locked first, in id order: a booking placed or given back meanwhile waits for the
    # commit, and the statements below (each reading afresh) see any that came before.
    slot_ids = list(db.session.scalars(
        select(Slot.id).where(Slot.id.in_(slot_ids)).order_by(Slot.id).with_for_update()))
    never_booked = ~exists().where(Booking.slot_id == Slot.id)
    removed = db.session.execute(
        delete(Slot).where(Slot.id.in_(slot_ids), Slot.booked == 0, never_booked)
        .execution_options(synchronize_session=False)).rowcount
    retired = db.session.execute(
        update(Slot).where(Slot.id.in_(slot_ids), Slot.retired_at.is_(None))
        .values(retired_at=now).execution_options(synchronize_session=False)).rowcount
    return removed, retired


def _insert_missing(offering: Offering, plans: list[PlannedSlot]) -> int:
    if not plans:
        return 0
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    created = 0
    for start in range(0, len(plans), INSERT_BATCH):
        rows = [dict(provider_id=offering.provider_id, offering_id=offering.id,
                     starts_at=p.starts_at, ends_at=p.ends_at, capacity=p.capacity, booked=0,
                     **_resource_bounds(offering, p.starts_at, p.ends_at))
                for p in plans[start:start + INSERT_BATCH]]
        # A concurrent run may have inserted some already: the unique key decides.
        statement = insert(Slot.__table__).on_conflict_do_nothing(
            index_elements=["offering_id", "starts_at"]).returning(Slot.__table__.c.id)
        created += len(db.session.execute(statement, rows).all())
    return created


def _resource_bounds(offering: Offering, starts_at: datetime, ends_at: datetime) -> dict:
    resource_from, resource_until = resource_time.slot_bounds(
        starts_at, ends_at, offering.buffer_before_minutes or 0,
        offering.buffer_after_minutes or 0)
    return {"resource_from": resource_from, "resource_until": resource_until}


def refresh_resource_bounds(offering_id: int, now: datetime | None = None) -> int:
    """After the offering's buffers changed: its slots still to come take the new time of
    their resources (bookings already placed keep theirs). Returns the slots changed."""
    offering = db.session.get(Offering, offering_id)
    rows = db.session.execute(
        select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.resource_from, Slot.resource_until)
        .where(Slot.offering_id == offering_id, Slot.starts_at > (now or utcnow()))).all()
    changed = []
    for row in rows:
        bounds = _resource_bounds(offering, row.starts_at, row.ends_at)
        if (row.resource_from, row.resource_until) != (bounds["resource_from"],
                                                       bounds["resource_until"]):
            changed.append({"slot_id": row.id, **bounds})
    if changed:
        db.session.execute(
            update(Slot.__table__).where(Slot.__table__.c.id == bindparam("slot_id"))
            .values(resource_from=bindparam("resource_from"),
                    resource_until=bindparam("resource_until")), changed)
    return len(changed)
