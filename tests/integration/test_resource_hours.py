"""A staff member's weekly hours: their shifts are laid out in UTC across daylight-saving
changes, lists show only times when someone on shift is free, a booking outside every
suitable person's shift is refused, and a resource without hours is there whenever
needed."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.job_registry import generate_all_slots
from app.models import Booking, Resource, ResourceBooking, ResourceHours, ResourceShift
from app.models.types import utcnow
from app.services import bookings, free_times, resource_hours, resources
from app.services.resource_hours import shifts_for
from app.services.scopes import Scope
from app.services.weekly_hours import TimeRange

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(UTC)


def every_day(start: time, end: time) -> tuple[TimeRange, ...]:
    return tuple(TimeRange(weekday, start, end) for weekday in range(7))


# --- laying out shifts -----------------------------------------------------------------

def test_shifts_keep_wall_clock_hours_across_both_changes_of_time():
    spring, autumn = date(2027, 3, 28), date(2027, 10, 31)  # Sundays
    sunday_night = (TimeRange(6, time(1), time(4)),)
    [(start, end)] = shifts_for(sunday_night, "Europe/Berlin", spring, 1)
    assert (start, end) == (datetime(2027, 3, 28, 0, tzinfo=UTC),
                            datetime(2027, 3, 28, 2, tzinfo=UTC))  # 01:00 CET–04:00 CEST
    [(start, end)] = shifts_for(sunday_night, "Europe/Berlin", autumn, 1)
    assert (start, end) == (datetime(2027, 10, 30, 23, tzinfo=UTC),
                            datetime(2027, 10, 31, 3, tzinfo=UTC))  # four hours long


def test_a_start_in_the_spring_gap_moves_on_and_meeting_ranges_join():
    gap = (TimeRange(6, time(2, 30), time(5)),)
    [(start, _)] = shifts_for(gap, "Europe/Berlin", date(2027, 3, 28), 1)
    assert start == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST
    late = (TimeRange(0, time(9), time(13)), TimeRange(0, time(13), time(17)),
            TimeRange(0, time(20), time(23, 59)), TimeRange(1, time(0), time(2)))
    monday = date(2027, 6, 7)
    assert shifts_for(late, "Europe/Berlin", monday, 2) == [
        (at(monday, 9), at(monday, 17)),
        (at(monday, 20), at(monday + timedelta(days=1), 2))]


def test_no_ranges_no_shifts_and_a_wrong_week_is_refused_whole(build):
    provider = build.provider(timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada").id
    resource_hours.replace_hours(ada, scope=scope, ranges=every_day(time(9), time(17)))
    with pytest.raises(ValidationFailed) as wrong:
        resource_hours.replace_hours(ada, scope=scope, ranges=[
            TimeRange(0, time(9), time(12)), TimeRange(0, time(11), time(14)),
            TimeRange(2, time(18), time(8))])
    assert wrong.value.code == "availability.invalid_hours"
    assert len(wrong.value.errors["ranges"]) == 2
    week = resource_hours.hours_of(ada, scope=scope)
    assert week.ranges == every_day(time(9), time(17))  # unchanged
    assert week.timezone == "Europe/Berlin"
    resource_hours.replace_hours(ada, scope=scope, ranges=[])
    db.session.expire_all()
    assert db.session.get(Resource, ada).keeps_hours is False
    assert db.session.scalar(select(func.count()).select_from(ResourceShift)) == 0
    assert db.session.scalar(select(func.count()).select_from(ResourceHours)) == 0


def test_another_providers_resource_is_not_found(build):
    mine, theirs = build.provider(), build.provider()
    stranger = resources.create_resource(scope=Scope.of_provider(theirs), name="Zed").id
    from app.errors import NotFound
    with pytest.raises(NotFound):
        resource_hours.replace_hours(stranger, scope=Scope.of_provider(mine),
                                     ranges=every_day(time(9), time(17)))
    assert db.session.get(Resource, stranger).keeps_hours is False


def test_the_daily_job_moves_the_shifts_on(app_ctx, build):
    provider = build.provider(timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada").id
    resource_hours.replace_hours(ada, scope=scope, ranges=every_day(time(9), time(17)))
    db.session.execute(ResourceShift.__table__.delete())  # as if the window had run out
    db.session.commit()
    generate_all_slots()
    days = app_ctx.config["SLOT_DAYS_AHEAD"]
    last = db.session.scalar(select(func.max(ResourceShift.ends_at)))
    assert last >= utcnow() + timedelta(days=days - 1)  # the last day ahead has a shift
    assert db.session.scalar(select(func.count()).select_from(ResourceShift)) >= days


# --- what the hours mean for customers ----------------------------------------------------

@pytest.fixture
def barbers(build):
    """Ada works mornings, Bob afternoons; a cut takes one of them."""
    provider = build.provider(timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada").id
    bob = resources.create_resource(scope=scope, name="Bob").id
    cut = build.offering(provider, name="Cut", price_minor=3000)
    resources.set_offering_resources(cut, [ada, bob], scope=scope)
    resource_hours.replace_hours(ada, scope=scope, ranges=every_day(time(8), time(13)))
    resource_hours.replace_hours(bob, scope=scope, ranges=every_day(time(13), time(19)))
    day = (utcnow() + timedelta(days=10)).astimezone(BERLIN).date()
    return {"scope": scope, "ada": ada, "bob": bob, "cut": cut, "day": day,
            "morning": build.slot(cut, at(day, 9), capacity=3),
            "afternoon": build.slot(cut, at(day, 15), capacity=3),
            "across": build.slot(cut, at(day, 12, 30), capacity=3),  # 12:30–13:30
            "evening": build.slot(cut, at(day, 20), capacity=3)}


def listed(shop, resource_id=None) -> list[int]:
    return [t.slot_id for t in free_times.free_times_on(
        shop["cut"], day=shop["day"], resource_id=resource_id).times]


def booked_by(build, shop, slot, **fields) -> list[int]:
    placed = bookings.place_booking(customer_id=build.customer(), offering_id=shop["cut"],
                                    slot_id=shop[slot], **fields)
    booking = db.session.scalar(select(Booking).where(Booking.reference == placed.reference))
    return list(db.session.scalars(select(ResourceBooking.resource_id).where(
        ResourceBooking.booking_id == booking.id)))


def test_lists_show_times_someone_on_shift_covers(barbers):
    assert listed(barbers) == [barbers["morning"], barbers["afternoon"]]
    assert listed(barbers, barbers["ada"]) == [barbers["morning"]]
    assert listed(barbers, barbers["bob"]) == [barbers["afternoon"]]


def test_any_available_gives_the_one_on_shift_and_off_shift_is_refused(build, barbers):
    assert booked_by(build, barbers, "afternoon") == [barbers["bob"]]
    assert booked_by(build, barbers, "morning") == [barbers["ada"]]
    with pytest.raises(Conflict) as off_duty:
        booked_by(build, barbers, "morning", resource_id=barbers["bob"])
    assert off_duty.value.code == "booking.resource_busy"
    for slot in ("across", "evening"):  # through the API's own path, not only the lists
        with pytest.raises(Conflict):
            booked_by(build, barbers, slot)
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 2


def test_without_hours_a_resource_is_there_whenever_needed(build, barbers):
    resource_hours.replace_hours(barbers["bob"], scope=barbers["scope"], ranges=[])
    assert listed(barbers, barbers["bob"]) == [barbers["morning"], barbers["across"],
                                               barbers["afternoon"], barbers["evening"]]
    assert booked_by(build, barbers, "evening") == [barbers["bob"]]
