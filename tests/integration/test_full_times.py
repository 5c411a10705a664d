"""The full times a customer may join the waiting list of: inside the booking window, not
started, not retired, without the places asked for but with at least that many in all;
read with the month's free days in one query, and for one day."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import Offering, Slot
from app.services import free_times

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2031, 3, 1, 12, 0, tzinfo=timezone.utc)


def _at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2031, month, day, hour, minute, tzinfo=NEW_YORK)


@pytest.fixture
def barber(build):
    provider = build.provider(timezone="America/New_York", currency="USD")
    return build.offering(provider, name="Beard trim", currency="USD")


def test_a_months_full_times_and_the_days_with_nothing_else(build, barber):
    full_early = build.slot(barber, _at(9, 9), capacity=2, booked=2)
    build.slot(barber, _at(9, 11), capacity=2)                      # free: the 9th is not full
    only_full = build.slot(barber, _at(10, 23, 30), capacity=1, booked=1)  # the 10th, locally
    two_left = build.slot(barber, _at(12, 14), capacity=3, booked=1)
    build.slot(barber, _at(1, 6), capacity=1, booked=1)              # started before now
    retired = build.slot(barber, _at(13, 9), capacity=1, booked=1)
    db.session.get(Slot, retired).retired_at = NOW
    build.slot(barber, _at(1, 10, month=4), capacity=1, booked=1)    # next month
    db.session.commit()

    one = free_times.free_days(barber, month=date(2031, 3, 1), now=NOW, with_full=True)
    three = free_times.free_days(barber, month=date(2031, 3, 1), quantity=3, now=NOW,
                                 with_full=True)

    assert [full.slot_id for full in one.full_times] == [full_early, only_full]
    assert one.full_times[1].starts_at.date() == date(2031, 3, 10)  # the provider's day
    assert one.full_days == {date(2031, 3, 10)}
    assert one.free_times_per_day == {date(2031, 3, 9): 1, date(2031, 3, 12): 1}
    assert one.full_times_on(date(2031, 3, 9))[0].slot_id == full_early
    # For three places only the time with three in all is one to wait for.
    assert [full.slot_id for full in three.full_times] == [two_left]
    assert three.full_days == {date(2031, 3, 12)}
    # Without asking, nothing is read for them.
    assert free_times.free_days(barber, month=date(2031, 3, 1), now=NOW).full_times == ()


def test_a_days_full_times(build, barber):
    full = build.slot(barber, _at(9, 9), capacity=2, booked=1)
    build.slot(barber, _at(9, 11), capacity=2)

    assert [t.slot_id for t in free_times.full_times_on(
        barber, day=date(2031, 3, 9), quantity=2, now=NOW)] == [full]
    assert free_times.full_times_on(barber, day=date(2031, 3, 9), now=NOW) == []


def test_full_times_outside_the_booking_window_are_not_listed(build, barber):
    offering = db.session.get(Offering, barber)
    offering.min_notice_minutes, offering.booking_horizon_days = 24 * 60, 10
    build.slot(barber, _at(1, 20), capacity=1, booked=1)   # within the notice
    inside = build.slot(barber, _at(5, 9), capacity=1, booked=1)
    build.slot(barber, _at(20, 9), capacity=1, booked=1)   # beyond the horizon
    db.session.commit()

    month = free_times.free_days(barber, month=date(2031, 3, 1), now=NOW, with_full=True)

    assert [t.slot_id for t in month.full_times] == [inside]


def test_the_picker_reads_full_times_with_the_free_days_in_one_query(build, barber):
    build.slot(barber, _at(9, 9), capacity=2, booked=2)
    build.slot(barber, _at(9, 11), capacity=2)
    statements = []

    def count(conn, cursor, statement, *args):
        if "FROM slot" in statement:
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        free_times.free_days(barber, month=date(2031, 3, 1), now=NOW, with_full=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_the_soonest_day_is_a_full_one_only_when_nothing_is_free(build, barber):
    build.slot(barber, _at(9, 9), capacity=1, booked=1)
    free = build.slot(barber, _at(12, 9), capacity=1)

    assert free_times.first_free_day(barber, now=NOW) == date(2031, 3, 12)
    assert free_times.first_free_day(barber, now=NOW, or_full=True) == date(2031, 3, 12)
    db.session.get(Slot, free).retired_at = NOW
    db.session.commit()
    assert free_times.first_free_day(barber, now=NOW) is None
    assert free_times.first_free_day(barber, now=NOW, or_full=True) == date(2031, 3, 9)
