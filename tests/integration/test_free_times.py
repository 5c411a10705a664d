"""What customers pick a time from: a month's free days and a day's free times, on the
provider's calendar (DST included), for the places they want, never a past, full or
retired time, never an inactive offering's."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Offering, Slot
from app.services import free_times

NEW_YORK = ZoneInfo("America/New_York")
# 1 March 2031, New York: clocks go forward on Sunday 9 March.
NOW = datetime(2031, 3, 1, 12, 0, tzinfo=timezone.utc)


def _at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2031, month, day, hour, minute, tzinfo=NEW_YORK)


@pytest.fixture
def barber(build):
    provider = build.provider(timezone="America/New_York", currency="USD")
    return build.offering(provider, name="Beard trim", currency="USD")


def test_days_are_the_providers_days_with_their_free_times(build, barber):
    build.slot(barber, _at(9, 9), capacity=1)          # the morning of the DST change
    build.slot(barber, _at(9, 23, 30), capacity=1)     # 03:30 UTC on the 10th
    build.slot(barber, _at(10, 10), capacity=2, booked=2)  # full
    build.slot(barber, _at(12, 14), capacity=3, booked=1)
    build.slot(barber, _at(1, 6), capacity=1)          # 11:00 UTC: before now
    build.slot(barber, _at(1, 10, month=4), capacity=1)  # next month

    month = free_times.free_days(barber, month=date(2031, 3, 17), now=NOW)

    assert month.month == date(2031, 3, 1) and month.timezone == "America/New_York"
    assert month.free_times_per_day == {date(2031, 3, 9): 2, date(2031, 3, 12): 1}
    assert month.previous_month == date(2031, 2, 1) and month.next_month == date(2031, 4, 1)


def test_a_time_is_free_only_for_as_many_places_as_are_left(build, barber):
    build.slot(barber, _at(12, 14), capacity=3, booked=1)
    build.slot(barber, _at(13, 14), capacity=5, booked=1)

    month = free_times.free_days(barber, month=date(2031, 3, 1), quantity=3, now=NOW)

    assert month.free_times_per_day == {date(2031, 3, 13): 1}


def test_a_days_times_by_part_of_the_day_on_the_wall_clock(build, barber):
    evening = build.slot(barber, _at(9, 18), capacity=1)
    morning = build.slot(barber, _at(9, 9), capacity=2)
    afternoon = build.slot(barber, _at(9, 12), capacity=1)
    retired = build.slot(barber, _at(9, 13), capacity=1)
    db.session.get(Slot, retired).retired_at = NOW
    db.session.commit()

    day = free_times.free_times_on(barber, day=date(2031, 3, 9), now=NOW)

    assert [(part, [t.slot_id for t in times]) for part, times in day.parts] == [
        ("morning", [morning]), ("afternoon", [afternoon]), ("evening", [evening])]
    first = day.times[0]
    # 09:00 on the day the clocks went forward is EDT (UTC-4), not EST.
    assert first.starts_at.hour == 9 and first.starts_at.utcoffset().total_seconds() == -4 * 3600
    assert first.remaining == 2


def test_the_soonest_free_day(build, barber):
    build.slot(barber, _at(20, 9), capacity=1, booked=1)
    build.slot(barber, _at(21, 23, 30), capacity=1)

    assert free_times.first_free_day(barber, now=NOW) == date(2031, 3, 21)
    assert free_times.first_free_day(barber, quantity=2, now=NOW) is None


def test_an_inactive_offering_has_no_free_times(build, barber):
    build.slot(barber, _at(12, 14), capacity=3)
    db.session.get(Offering, barber).active = False
    db.session.commit()

    with pytest.raises(NotFound):
        free_times.free_days(barber, month=date(2031, 3, 1), now=NOW)


@pytest.mark.parametrize("month, quantity", [
    (date(2031, 2, 1), 1),   # before this month
    (date(2033, 4, 1), 1),   # more than two years ahead
    (date(2031, 3, 1), 0),
    (date(2031, 3, 1), 101),
])
def test_out_of_range_asks_are_refused(build, barber, month, quantity):
    with pytest.raises(ValidationFailed):
        free_times.free_days(barber, month=month, quantity=quantity, now=NOW)
