"""The bookings calendar: the time-grid layout (DST weeks in Berlin and New York), the
day and week screens, tenancy, the offering filter, admins across providers, and moving a
booking from the calendar through the same service as the API.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, Slot
from app.models.types import utcnow
from app.services import booking_calendar
from app.services.booking_calendar import DAY, WEEK, calendar_view
from app.services.bookings import Actor, Scope, cancel_booking, place_booking
from tests.views.console import select_options, signed_in

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Europe's clocks go back on Sunday 25 October 2026 (03:00 CEST -> 02:00 CET); America's
# on Sunday 1 November 2026 (02:00 EDT -> 01:00 EST) and forward on Sunday 8 March 2026.
BERLIN_FALL_WEEK = date(2026, 10, 19)
NEW_YORK_FALL_WEEK = date(2026, 10, 26)
NEW_YORK_SPRING_WEEK = date(2026, 3, 2)
PAST = datetime(2026, 1, 1, tzinfo=timezone.utc)  # "now" when the test bookings were placed


@dataclass(frozen=True)
class Placed:
    id: int
    reference: str
    slot_id: int


def _at(day: date, hour: int, minute: int = 0, zone=BERLIN, fold: int = 0) -> datetime:
    """A wall-clock time in ``zone`` as a UTC moment (``fold=1``: a repeated hour's second
    pass)."""
    return datetime.combine(day, time(hour, minute), zone).replace(fold=fold).astimezone(
        timezone.utc)


def _book(build, provider_id: int, starts_at: datetime, *, offering_id: int | None = None,
          minutes: int = 60, capacity: int = 5, quantity: int = 1) -> Placed:
    if offering_id is None:
        offering_id = build.offering(provider_id, price_minor=0)
    slot_id = build.slot(offering_id, starts_at, minutes=minutes, capacity=capacity)
    booking = place_booking(customer_id=build.customer(), offering_id=offering_id,
                            slot_id=slot_id, quantity=quantity,
                            now=min(utcnow(), starts_at - timedelta(hours=1), PAST))
    return Placed(booking.id, booking.reference, slot_id)


def _by_reference(view) -> dict:
    return {b.reference: (day.day, b) for day in view.days for b in day.bookings}


def _row_index(view, row) -> int:
    return view.rows.index(row)


def _shown(page: str) -> list[str]:
    return re.findall(r'class="calendar-booking [^"]*" data-reference="([^"]+)"', page)


# --- the layout --------------------------------------------------------------------------

def test_berlin_fall_back_week_has_a_25_hour_sunday_with_the_repeated_hour(app_ctx, build):
    provider_id = build.provider(timezone="Europe/Berlin")
    sunday = BERLIN_FALL_WEEK + timedelta(days=6)
    monday_ten = _book(build, provider_id, _at(BERLIN_FALL_WEEK, 10))
    sunday_ten = _book(build, provider_id, _at(sunday, 10))
    first_pass = _book(build, provider_id, _at(sunday, 2, 30, fold=0), minutes=30)
    second_pass = _book(build, provider_id, _at(sunday, 2, 30, fold=1), minutes=30)
    # 01:30 CEST to 03:30 CET: three real hours across the change.
    across = _book(build, provider_id, _at(sunday, 1, 30), minutes=180)

    view = calendar_view(scope=Scope.of_provider(provider_id), first_day=BERLIN_FALL_WEEK)

    shown = _by_reference(view)
    assert [day.hours for day in view.days] == [24] * 6 + [25]
    assert (2, 0) in view.rows and (2, 1) in view.rows
    assert view.row_labels[_row_index(view, (2, 0))] == "02:00 CEST"
    assert view.row_labels[_row_index(view, (2, 1))] == "02:00 CET"
    assert view.days[0].missing_rows == {(2, 1)} and view.days[6].missing_rows == set()
    [change] = view.changes
    assert (change.day, change.forward) == (sunday, False)
    assert (change.old_wall.strftime("%H:%M"), change.new_wall.strftime("%H:%M %Z")) == (
        "03:00", "02:00 CET")
    # Ten o'clock is on the same row on both sides of the change.
    assert shown[monday_ten.reference][1].top == shown[sunday_ten.reference][1].top == \
        _row_index(view, (10, 0))
    assert shown[first_pass.reference][1].top == _row_index(view, (2, 0)) + 0.5
    assert shown[second_pass.reference][1].top == _row_index(view, (2, 1)) + 0.5
    crossing = shown[across.reference][1]
    assert (crossing.top, crossing.height) == (_row_index(view, (1, 0)) + 0.5, 3)
    assert crossing.starts_at.strftime("%H:%M %Z") == "01:30 CEST"
    assert crossing.ends_at.strftime("%H:%M %Z") == "03:30 CET"
    assert all(day == sunday for day, _ in (shown[r.reference] for r in (
        first_pass, second_pass, across)))


def test_new_york_fall_back_puts_each_1_30_on_its_own_row(app_ctx, build):
    provider_id = build.provider(timezone="America/New_York")
    sunday = NEW_YORK_FALL_WEEK + timedelta(days=6)
    daylight = _book(build, provider_id, _at(sunday, 1, 30, NEW_YORK, fold=0), minutes=30)
    standard = _book(build, provider_id, _at(sunday, 1, 30, NEW_YORK, fold=1), minutes=30)

    view = calendar_view(scope=Scope.of_provider(provider_id), first_day=NEW_YORK_FALL_WEEK)

    shown = _by_reference(view)
    assert view.days[6].hours == 25
    assert shown[daylight.reference][1].starts_at.strftime("%H:%M %Z") == "01:30 EDT"
    assert shown[standard.reference][1].starts_at.strftime("%H:%M %Z") == "01:30 EST"
    assert shown[standard.reference][1].top - shown[daylight.reference][1].top == 1
    assert view.row_labels[_row_index(view, (1, 1))] == "01:00 EST"
    # Not overlapping: an hour apart, each keeps the full width.
    assert shown[daylight.reference][1].lanes == shown[standard.reference][1].lanes == 1


def test_new_york_spring_forward_skips_an_hour(app_ctx, build):
    provider_id = build.provider(timezone="America/New_York")
    sunday = NEW_YORK_SPRING_WEEK + timedelta(days=6)
    # 01:30 EST for an hour: ends at 03:30 EDT.
    across = _book(build, provider_id, _at(sunday, 1, 30, NEW_YORK))

    view = calendar_view(scope=Scope.of_provider(provider_id), first_day=NEW_YORK_SPRING_WEEK)

    [(_day, booking)] = _by_reference(view).values()
    assert booking.reference == across.reference
    assert view.days[6].hours == 23 and view.days[6].missing_rows == {(2, 0)}
    assert view.days[0].missing_rows == set()
    assert view.changes[0].forward
    assert booking.ends_at.strftime("%H:%M %Z") == "03:30 EDT"
    assert booking.top == _row_index(view, (1, 0)) + 0.5
    assert booking.top + booking.height == _row_index(view, (3, 0)) + 0.5


def test_overlapping_bookings_sit_side_by_side(app_ctx, build):
    provider_id = build.provider(timezone="Europe/Berlin")
    day = date(2026, 6, 10)
    ten = _book(build, provider_id, _at(day, 10))
    half_past = _book(build, provider_id, _at(day, 10, 30))
    eleven = _book(build, provider_id, _at(day, 11), minutes=30)  # after ten ends
    noon = _book(build, provider_id, _at(day, 12))

    view = calendar_view(scope=Scope.of_provider(provider_id), first_day=day, days=DAY)

    shown = {ref: b for ref, (_d, b) in _by_reference(view).items()}
    assert (shown[ten.reference].lane, shown[ten.reference].lanes) == (0, 2)
    assert (shown[half_past.reference].lane, shown[half_past.reference].lanes) == (1, 2)
    assert (shown[eleven.reference].lane, shown[eleven.reference].lanes) == (0, 2)
    assert (shown[noon.reference].lane, shown[noon.reference].lanes) == (0, 1)
    assert shown[ten.reference].height == 1 and shown[eleven.reference].height == 0.5
    assert view.rows[0] == (7, 0) and view.rows[-1] == (20, 0)  # working hours by default


def test_the_layout_shows_one_provider_and_one_offering(app_ctx, build):
    mine = build.provider(timezone="Europe/Berlin")
    theirs = build.provider(timezone="Europe/Berlin")
    day = date(2026, 6, 10)
    yoga = build.offering(mine, price_minor=0, name="Yoga")
    own_yoga = _book(build, mine, _at(day, 9), offering_id=yoga)
    own_other = _book(build, mine, _at(day, 11))
    foreign = _book(build, theirs, _at(day, 9))

    own_view = calendar_view(scope=Scope.of_provider(mine), first_day=day, days=DAY)
    yoga_view = calendar_view(scope=Scope.of_provider(mine), first_day=day, days=DAY,
                              offering_id=yoga)
    everyone = calendar_view(scope=Scope.all_providers(), first_day=day, days=DAY)

    assert set(_by_reference(own_view)) == {own_yoga.reference, own_other.reference}
    assert set(_by_reference(yoga_view)) == {own_yoga.reference}
    assert {own_yoga.reference, own_other.reference, foreign.reference} <= set(
        _by_reference(everyone))
    assert everyone.zone is None and own_view.zone == "Europe/Berlin"
    assert booking_calendar.calendar_offerings(scope=Scope.of_provider(theirs)) != [] and \
        yoga not in dict(booking_calendar.calendar_offerings(scope=Scope.of_provider(theirs)))


def test_admin_layout_puts_each_booking_on_its_own_provider_day(app_ctx, build):
    tokyo = build.provider(name="Tokyo Tea", timezone="Asia/Tokyo")
    berlin = build.provider(name="Berlin Bath", timezone="Europe/Berlin")
    day = date(2026, 6, 10)
    # 08:00 in Tokyo is 23:00 the day before in UTC.
    in_tokyo = _book(build, tokyo, _at(day, 8, zone=ZoneInfo("Asia/Tokyo")))
    in_berlin = _book(build, berlin, _at(day, 23))

    everyone = calendar_view(scope=Scope.all_providers(), first_day=day, days=DAY)
    tokyo_only = calendar_view(scope=Scope.of_provider(tokyo), first_day=day, days=DAY)

    shown = _by_reference(everyone)
    assert {in_tokyo.reference, in_berlin.reference} <= set(shown)
    assert shown[in_tokyo.reference][1].starts_at.strftime("%H:%M") == "08:00"
    assert shown[in_tokyo.reference][1].zone == "Asia/Tokyo"
    assert set(_by_reference(tokyo_only)) == {in_tokyo.reference}


def test_the_layout_refuses_a_bad_range_and_needs_a_scope(app_ctx):
    from app.errors import ValidationFailed

    with pytest.raises(TypeError):
        calendar_view(first_day=date(2026, 6, 10))  # type: ignore[call-arg]
    with pytest.raises(ValidationFailed):
        calendar_view(scope=Scope.all_providers(), first_day=date(2026, 6, 10), days=3)
    with pytest.raises(ValidationFailed):
        calendar_view(scope=Scope.all_providers(), first_day=date(1, 1, 1))


# --- the screens -------------------------------------------------------------------------

def test_week_screen_in_a_dst_week(app, build, tenant_a):
    sunday = BERLIN_FALL_WEEK + timedelta(days=6)
    early = _book(build, tenant_a.provider_id, _at(sunday, 1, 30), minutes=30)
    monday = _book(build, tenant_a.provider_id, _at(BERLIN_FALL_WEEK, 9))
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get(f"/calendar/week?week={sunday.isoformat()}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _shown(page) == [monday.reference, early.reference]
    assert "Clocks go back on Sun 25 Oct" in page and "25-hour day" in page
    assert "times in Europe/Berlin" in page and "01:30–02:00 CEST" in page
    assert "02:00 CEST" in page and "02:00 CET" in page
    assert "week=2026-10-12" in page and "week=2026-10-26" in page
    assert f"/bookingview/show/{early.id}" in page
    assert 'class="label label-primary status status-confirmed">Confirmed<' in page


def test_day_screen_shows_the_local_day(app, build, tenant_a):
    day = date.today() + timedelta(days=20)
    late = _book(build, tenant_a.provider_id, _at(day, 23, 30), minutes=30)
    early = _book(build, tenant_a.provider_id, _at(day, 8))
    after = _book(build, tenant_a.provider_id, _at(day + timedelta(days=1), 0, 30))
    before = _book(build, tenant_a.provider_id, _at(day - timedelta(days=1), 23, 59))
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get(f"/calendar/day?day={day.isoformat()}").get_data(as_text=True)

    assert _shown(page) == [early.reference, late.reference]
    assert after.reference not in page and before.reference not in page
    assert f"day={(day - timedelta(days=1)).isoformat()}" in page
    assert f"day={(day + timedelta(days=1)).isoformat()}" in page
    next_page = staff.get(f"/calendar/day?day={day + timedelta(days=1)}")
    assert _shown(next_page.get_data(as_text=True)) == [after.reference]


def test_calendar_defaults_to_this_week_in_the_provider_zone(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    today = utcnow().astimezone(BERLIN).date()

    week = staff.get("/calendar/week").get_data(as_text=True)
    day = staff.get("/calendar/day").get_data(as_text=True)

    monday = today - timedelta(days=today.weekday())
    assert f'data-first-day="{monday.isoformat()}"' in week
    assert f'data-first-day="{today.isoformat()}"' in day


def test_staff_never_see_another_providers_bookings(app, build, tenant_a, tenant_b):
    day = date.today() + timedelta(days=20)
    own = _book(build, tenant_a.provider_id, _at(day, 10))
    foreign = _book(build, tenant_b.provider_id, _at(day, 10))
    foreign_offering = db.session.scalar(select(Booking.offering_id).where(
        Booking.id == foreign.id))
    staff = signed_in(app, tenant_a.staff_email)

    plain = staff.get(f"/calendar/week?week={day}").get_data(as_text=True)
    asking = staff.get(f"/calendar/day?day={day}&provider_id={tenant_b.provider_id}"
                       ).get_data(as_text=True)

    assert _shown(plain) == [own.reference] and _shown(asking) == [own.reference]
    assert foreign.reference not in plain + asking and tenant_b.name not in plain + asking
    assert staff.get(f"/calendar/week?week={day}&offering_id={foreign_offering}"
                     ).status_code == 404
    assert staff.get(f"/calendar/move/{foreign.reference}").status_code == 404


def test_offering_filter(app, build, tenant_a):
    day = date.today() + timedelta(days=20)
    yoga = build.offering(tenant_a.provider_id, price_minor=0, name="Yoga")
    sauna = build.offering(tenant_a.provider_id, price_minor=0, name="Sauna")
    in_yoga = _book(build, tenant_a.provider_id, _at(day, 9), offering_id=yoga)
    in_sauna = _book(build, tenant_a.provider_id, _at(day, 9), offering_id=sauna)
    staff = signed_in(app, tenant_a.staff_email)

    everything = staff.get(f"/calendar/day?day={day}")
    only_yoga = staff.get(f"/calendar/day?day={day}&offering_id={yoga}").get_data(
        as_text=True)

    assert sorted(_shown(everything.get_data(as_text=True))) == sorted(
        [in_yoga.reference, in_sauna.reference])
    assert _shown(only_yoga) == [in_yoga.reference]
    assert select_options(everything, "calendar-offering") == ["All offerings", "Sauna",
                                                               "Yoga"]
    assert f"offering_id={yoga}" in only_yoga  # navigation keeps the filter


def test_released_bookings_are_left_out(app, build, tenant_a):
    day = date.today() + timedelta(days=20)
    kept = _book(build, tenant_a.provider_id, _at(day, 9))
    gone = _book(build, tenant_a.provider_id, _at(day, 10))
    cancel_booking(gone.reference, actor=Actor(None, "test"), scope=Scope.all_providers())
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get(f"/calendar/day?day={day}").get_data(as_text=True)

    assert _shown(page) == [kept.reference]


def test_admin_sees_every_provider_or_picks_one(app, build, tenant_a, tenant_b, admin_email):
    day = date.today() + timedelta(days=20)
    alpha = _book(build, tenant_a.provider_id, _at(day, 10))
    beta = _book(build, tenant_b.provider_id, _at(day, 11))
    admin = signed_in(app, admin_email)

    everyone = admin.get(f"/calendar/day?day={day}")
    only_beta = admin.get(f"/calendar/day?day={day}&provider_id={tenant_b.provider_id}"
                          ).get_data(as_text=True)

    everyone_page = everyone.get_data(as_text=True)
    assert sorted(_shown(everyone_page)) == sorted([alpha.reference, beta.reference])
    assert "each provider's zone" in everyone_page and tenant_a.name in everyone_page
    assert sorted(select_options(everyone, "calendar-provider")) == sorted(
        ["All providers", tenant_a.name, tenant_b.name])
    assert _shown(only_beta) == [beta.reference]
    assert "times in Europe/Berlin" in only_beta


def test_bad_input_is_a_message_or_a_404_never_a_500(app, tenant_a, admin_email):
    staff = signed_in(app, tenant_a.staff_email)
    admin = signed_in(app, admin_email)

    bad_day = staff.get("/calendar/day?day=2031-02-30")
    far_day = staff.get("/calendar/week?week=0001-01-01")

    assert bad_day.status_code == 200 and far_day.status_code == 200
    assert "not a day" in bad_day.get_data(as_text=True)
    assert "between 1900 and 2999" in far_day.get_data(as_text=True)
    assert admin.get("/calendar/week?provider_id=abc").status_code == 404
    assert admin.get("/calendar/week?provider_id=99999999999").status_code == 404
    assert admin.get("/calendar/week?provider_id=424242").status_code == 404
    assert staff.get("/calendar/week?offering_id=424242").status_code == 404


def test_the_old_agenda_address_opens_the_calendar_day(app, tenant_a, client):
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get("/bookings/agenda/?day=2026-10-25")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/calendar/day?day=2026-10-25")
    assert client.get("/calendar/week").status_code == 302  # signed out: to the login
    assert "/login/" in client.get("/calendar/week").headers["Location"]


def test_staff_menu_links_the_calendar(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get("/calendar/week").get_data(as_text=True)

    assert "/calendar/week" in page and "Calendar" in page


# --- moving a booking from the calendar --------------------------------------------------

def _booked(slot_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Slot, slot_id).booked


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def _future_day() -> date:
    return (utcnow() + timedelta(days=10)).astimezone(BERLIN).date()


def test_the_move_panel_lists_free_slots_in_local_time(app, build, tenant_a):
    day = _future_day()
    offering = build.offering(tenant_a.provider_id, price_minor=0, name="Yoga")
    placed = _book(build, tenant_a.provider_id, _at(day, 9), offering_id=offering)
    free = build.slot(offering, _at(day, 11), capacity=4, booked=1)
    full = build.slot(offering, _at(day, 13), capacity=2, booked=2)
    staff = signed_in(app, tenant_a.staff_email)

    panel = staff.get(f"/calendar/move/{placed.reference}?fragment=1&view=day&at={day}"
                      ).get_data(as_text=True)
    page = staff.get(f"/calendar/move/{placed.reference}").get_data(as_text=True)

    assert f'data-slot="{free}"' in panel and f'data-slot="{full}"' not in panel
    assert f'data-slot="{placed.slot_id}"' not in panel  # not its own slot
    assert "11:00–12:00 CE" in panel and "3 places left" in panel
    assert "<html" not in panel and "<html" in page.lower()


def test_moving_from_the_calendar_uses_the_booking_service(app, build, tenant_a):
    day = _future_day()
    offering = build.offering(tenant_a.provider_id, price_minor=0)
    placed = _book(build, tenant_a.provider_id, _at(day, 9), offering_id=offering)
    target = build.slot(offering, _at(day + timedelta(days=1), 15))
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post(f"/calendar/move/{placed.reference}",
                          data={"slot_id": target, "view": "day", "at": day.isoformat()})

    assert response.status_code == 302
    assert f"/calendar/day?day={day + timedelta(days=1)}" in response.headers["Location"]
    db.session.expire_all()
    booking = db.session.get(Booking, placed.id)
    assert booking.slot_id == target and _booked(target) == 1 and _booked(placed.slot_id) == 0
    [(category, message)] = _flashes(staff)
    assert category == "success" and "15:00 CE" in message


def test_a_full_slot_is_refused_and_nothing_changes(app, build, tenant_a):
    day = _future_day()
    offering = build.offering(tenant_a.provider_id, price_minor=0)
    placed = _book(build, tenant_a.provider_id, _at(day, 9), offering_id=offering)
    full = build.slot(offering, _at(day, 15), capacity=2, booked=2)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post(f"/calendar/move/{placed.reference}",
                          data={"slot_id": full, "view": "week", "at": day.isoformat()})

    assert response.status_code == 302 and "/calendar/week" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Booking, placed.id).slot_id == placed.slot_id
    assert _booked(full) == 2 and _booked(placed.slot_id) == 1
    [(category, message)] = _flashes(staff)
    assert category == "danger" and "not moved" in message


def test_staff_cannot_move_another_providers_booking(app, build, tenant_a, tenant_b):
    day = _future_day()
    offering = build.offering(tenant_b.provider_id, price_minor=0)
    foreign = _book(build, tenant_b.provider_id, _at(day, 9), offering_id=offering)
    target = build.slot(offering, _at(day, 15))
    staff = signed_in(app, tenant_a.staff_email)

    staff.post(f"/calendar/move/{foreign.reference}", data={"slot_id": target})

    db.session.expire_all()
    assert db.session.get(Booking, foreign.id).slot_id == foreign.slot_id
    assert _booked(target) == 0
    [(category, _message)] = _flashes(staff)
    assert category == "danger"


def test_a_move_without_a_slot_is_a_message(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id, _at(_future_day(), 9))
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post(f"/calendar/move/{placed.reference}", data={"slot_id": "x"})

    assert response.status_code == 302
    [(category, _message)] = _flashes(staff)
    assert category == "danger"


def test_week_constant_is_seven():
    assert (DAY, WEEK) == (1, 7)
