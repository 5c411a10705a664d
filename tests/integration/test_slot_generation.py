"""Slots from weekly rules: local times across DST, idempotent, never losing bookings."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AvailabilityRule, ClosedDay, Slot
from app.services.availability import generate_slots
from app.services.scopes import Scope


def _slots(offering_id: int) -> list[Slot]:
    return list(db.session.scalars(
        select(Slot).where(Slot.offering_id == offering_id).order_by(Slot.starts_at)))


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("zone, before_change, after_change", [
    # Europe/Berlin leaves summer time on 2026-10-25; New York on 2026-11-01.
    ("Europe/Berlin", date(2026, 10, 24), date(2026, 10, 26)),
    ("America/New_York", date(2026, 10, 31), date(2026, 11, 2)),
    # ... and both enter it in spring.
    ("Europe/Berlin", date(2026, 3, 28), date(2026, 3, 30)),
    ("America/New_York", date(2026, 3, 7), date(2026, 3, 9)),
])
def test_nine_oclock_stays_nine_oclock_across_dst(build, zone, before_change, after_change):
    provider = build.provider(timezone=zone)
    offering = build.offering(provider)
    for weekday in range(7):
        build.rule(offering, weekday=weekday, start="09:00", end="10:00")
    now = datetime.combine(before_change, datetime.min.time(), tzinfo=ZoneInfo(zone))

    generate_slots(offering_id=offering, days=4, now=now.astimezone(timezone.utc),
                   scope=Scope.all_providers())

    local_starts = {s.starts_at.astimezone(ZoneInfo(zone)) for s in _slots(offering)}
    by_day = {start.date(): start for start in local_starts}
    for day in (before_change, after_change):
        assert by_day[day].hour == 9 and by_day[day].minute == 0
    offsets = {by_day[before_change].utcoffset(), by_day[after_change].utcoffset()}
    assert len(offsets) == 2  # the UTC time moved, the local time did not


def test_a_local_time_in_the_spring_gap_gives_no_slot(build):
    provider = build.provider(timezone="Europe/Berlin")
    offering = build.offering(provider, duration_minutes=30)
    build.rule(offering, weekday=6, start="01:30", end="03:30", slot_minutes=30)  # Sunday

    generate_slots(offering_id=offering, days=1, now=_utc(2026, 3, 28, 23, 0),
                   scope=Scope.all_providers())

    local = [s.starts_at.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M")
             for s in _slots(offering)]
    assert local == ["01:30", "03:00"]  # 02:00 and 02:30 do not exist that night


def test_generation_is_idempotent_and_respects_closed_days_and_validity(build):
    provider = build.provider(timezone="UTC")
    offering = build.offering(provider)
    build.rule(offering, weekday=0, start="09:00", end="12:00", capacity=4)  # Mondays
    build.rule(offering, weekday=2, start="09:00", end="10:00",
               valid_to=date(2026, 1, 7))  # one last Wednesday
    db.session.add(ClosedDay(provider_id=provider, day=date(2026, 1, 12), reason="Holiday"))
    db.session.commit()
    now = _utc(2026, 1, 1, 0, 0)  # a Thursday

    first = generate_slots(offering_id=offering, days=21, now=now, scope=Scope.all_providers())
    second = generate_slots(offering_id=offering, days=21, now=now, scope=Scope.all_providers())

    days = sorted({s.starts_at.date() for s in _slots(offering)})
    assert days == [date(2026, 1, 5), date(2026, 1, 7), date(2026, 1, 19)]
    assert first.created == 3 + 1 + 3 and second.created == 0 and second.removed == 0
    assert {s.capacity for s in _slots(offering) if s.starts_at.date() != date(2026, 1, 7)} \
        == {4}


def test_removing_a_rule_keeps_slots_that_have_bookings(build):
    provider = build.provider(timezone="UTC")
    offering = build.offering(provider)
    rule_id = build.rule(offering, weekday=0, start="09:00", end="12:00")
    now = _utc(2026, 1, 1, 0, 0)
    generate_slots(offering_id=offering, days=7, now=now, scope=Scope.all_providers())
    booked = _slots(offering)[1]
    booked.booked = 1
    db.session.delete(db.session.get(AvailabilityRule, rule_id))
    db.session.commit()

    report = generate_slots(offering_id=offering, days=7, now=now, scope=Scope.all_providers())

    assert (report.removed, report.kept_booked) == (2, 1)
    assert [s.id for s in _slots(offering)] == [booked.id]


def test_capacity_change_applies_only_where_bookings_still_fit(build):
    provider = build.provider(timezone="UTC")
    offering = build.offering(provider)
    rule_id = build.rule(offering, weekday=0, start="09:00", end="11:00", capacity=5)
    now = _utc(2026, 1, 1, 0, 0)
    generate_slots(offering_id=offering, days=7, now=now, scope=Scope.all_providers())
    first, second = _slots(offering)
    first.booked = 4
    db.session.get(AvailabilityRule, rule_id).capacity = 3
    db.session.commit()

    report = generate_slots(offering_id=offering, days=7, now=now, scope=Scope.all_providers())

    db.session.expire_all()
    assert report.resized == 1
    assert [(s.capacity, s.booked) for s in _slots(offering)] == [(5, 4), (3, 0)]


def test_past_slots_are_never_created(build):
    provider = build.provider(timezone="UTC")
    offering = build.offering(provider)
    build.rule(offering, weekday=3, start="09:00", end="12:00")  # Thursday

    generate_slots(offering_id=offering, days=1, now=_utc(2026, 1, 1, 10, 30),
                   scope=Scope.all_providers())

    assert [s.starts_at.hour for s in _slots(offering)] == [11]
