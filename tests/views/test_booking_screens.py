"""Bookings in the console: the read-only list and its state actions.

Staff see and act on their own provider's bookings only; admins on all. Every action goes
through the booking service, so a refused transition is flashed and changes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, BookingHistory, Slot
from app.models.types import utcnow
from app.services.bookings import Actor, Scope, cancel_booking, place_booking
from tests.views.console import page_text, select_options, signed_in

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Placed:
    id: int
    reference: str
    slot_id: int


def _book(build, provider_id: int, *, price: int = 0, pay_at_venue: bool = False,
          starts_at: datetime | None = None, offering_id: int | None = None,
          customer_id: int | None = None, quantity: int = 1, attribution=None,
          **offering_fields) -> Placed:
    """A booking of a fresh (or the given) service offering.

    Free offerings are confirmed at once; pay-at-venue ones stay pending without a hold.
    A ``starts_at`` in the past is booked as if placed before the slot began.
    """
    if offering_id is None:
        offering_id = build.offering(provider_id, price_minor=price, pay_at_venue=pay_at_venue,
                                     **offering_fields)
    if starts_at is None:
        slot_id = build.future_slot(offering_id)
    else:
        slot_id = build.slot(offering_id, starts_at)
    start = db.session.get(Slot, slot_id).starts_at
    booking = place_booking(
        customer_id=customer_id or build.customer(), offering_id=offering_id, slot_id=slot_id,
        quantity=quantity, attribution=attribution,
        now=min(utcnow(), start - timedelta(hours=1)))
    return Placed(booking.id, booking.reference, slot_id)


def _status(reference: str) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Booking.status).where(Booking.reference == reference))


def _history_count(booking_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(BookingHistory).where(
        BookingHistory.booking_id == booking_id))


def _booked(slot_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Slot, slot_id).booked


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def _future(days: float) -> datetime:
    return (utcnow() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def _past(hours: float = 3) -> datetime:
    return (utcnow() - timedelta(hours=hours)).replace(second=0, microsecond=0)


def _act(client, name: str, *bookings: Placed, single: bool = False):
    if single:
        (booking,) = bookings
        return client.post(f"/bookingview/action/{name}/{booking.id}")
    return client.post("/bookingview/action_post",
                       data={"action": name, "rowid": [b.id for b in bookings]})


# --- the list and the show page -----------------------------------------------------------

def test_staff_list_shows_own_bookings_only(app, build, tenant_a, tenant_b):
    own = _book(build, tenant_a.provider_id)
    foreign = _book(build, tenant_b.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get("/bookingview/list/", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert own.reference in page
    assert foreign.reference not in page
    assert tenant_b.name not in page


def test_the_list_opens_on_upcoming_bookings_soonest_first(app, build, tenant_a):
    later = _book(build, tenant_a.provider_id, starts_at=_future(days=9))
    sooner = _book(build, tenant_a.provider_id, starts_at=_future(days=2))
    past = _book(build, tenant_a.provider_id, starts_at=_past(hours=30))
    staff = signed_in(app, tenant_a.staff_email)

    opened = staff.get("/bookingview/list/")

    assert opened.status_code == 302
    today = datetime.now(BERLIN).date().isoformat()  # the staff's provider is in Berlin
    assert f"_flt_0_starts_at={today}" in opened.headers["Location"]
    page = page_text(staff.get(opened.headers["Location"]))
    assert page.index(sooner.reference) < page.index(later.reference)
    assert past.reference not in page
    assert "Upcoming" in page and "Past" in page and "Days in Europe/Berlin" in page


def test_a_long_list_says_more_than_its_count_limit_and_still_pages(app, build, tenant_a,
                                                                   tenant_b, monkeypatch):
    from views.bookings import BookingView

    monkeypatch.setattr(BookingView.datamodel, "count_limit", 3)
    own = [_book(build, tenant_a.provider_id, starts_at=_future(days=2 + n)) for n in range(5)]
    _book(build, tenant_b.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    soonest_first = "/bookingview/list/?_oc_BookingView=starts_at&_od_BookingView=asc"
    first = page_text(staff.get(soonest_first + "&psize_BookingView=2"))
    assert "More than 3 bookings" in first
    assert own[0].reference in first and own[2].reference not in first
    third = page_text(staff.get(soonest_first + "&psize_BookingView=2&page_BookingView=2"))
    assert own[4].reference in third  # pages past the counted rows still open

    monkeypatch.setattr(BookingView.datamodel, "count_limit", 10)
    exact = page_text(staff.get("/bookingview/list/", follow_redirects=True))
    assert "5 bookings" in exact  # the other provider's booking is not counted


def test_the_past_tab_shows_past_bookings_latest_first(app, build, tenant_a):
    older = _book(build, tenant_a.provider_id, starts_at=_past(hours=80))
    recent = _book(build, tenant_a.provider_id, starts_at=_past(hours=30))
    upcoming = _book(build, tenant_a.provider_id, starts_at=_future(days=2))
    staff = signed_in(app, tenant_a.staff_email)
    opened = page_text(staff.get("/bookingview/list/", follow_redirects=True))
    past_link = re.search(r'href="(\?[^"]*_flt_1_starts_at=[^"]*)"',
                          staff.get("/bookingview/list/", follow_redirects=True)
                          .get_data(as_text=True)).group(1).replace("&amp;", "&")

    page = page_text(staff.get("/bookingview/list/" + past_link))

    assert upcoming.reference in opened
    assert page.index(recent.reference) < page.index(older.reference)
    assert upcoming.reference not in page


def test_a_chosen_order_is_kept_and_not_sent_back_to_upcoming(app, build, tenant_a):
    past = _book(build, tenant_a.provider_id, starts_at=_past(hours=30))
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get("/bookingview/list/?_oc_BookingView=reference&_od_BookingView=asc")

    assert response.status_code == 200
    assert past.reference in response.get_data(as_text=True)


def test_admin_list_shows_every_provider(app, build, tenant_a, tenant_b, admin_email):
    own = _book(build, tenant_a.provider_id)
    foreign = _book(build, tenant_b.provider_id)
    admin = signed_in(app, admin_email)

    page = admin.get("/bookingview/list/", follow_redirects=True).get_data(as_text=True)

    assert own.reference in page and foreign.reference in page


def test_list_shows_local_start_and_total_in_the_currency(app, build, tenant_a):
    starts_at = datetime.combine(date.today() + timedelta(days=40), time(10, 0),
                                 timezone.utc)
    eur = _book(build, tenant_a.provider_id, price=1250, quantity=2, starts_at=starts_at)
    yen = _book(build, tenant_a.provider_id, price=2500, currency="JPY",
                starts_at=starts_at + timedelta(hours=1))
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get("/bookingview/list/", follow_redirects=True).get_data(as_text=True)

    local = starts_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z")  # provider: Berlin
    assert local in page and local.split()[1] != "10:00"
    assert "25.00 EUR" in page
    assert "2500 JPY" in page and "25.00 JPY" not in page
    assert eur.reference in page and yen.reference in page


def test_staff_show_own_booking_with_history_and_attribution(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id, pay_at_venue=True, price=900, attribution={
        "utm_source": "newsletter", "utm_campaign": "spring-sale", "ttclid": "TT-CLICK-42",
        "consent": True})
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get(f"/bookingview/show/{placed.id}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert placed.reference in page
    assert "newsletter" in page and "spring-sale" in page and "TT-CLICK-42" in page
    assert "Tracking consent" in page
    assert "History" in page and "placed" in page  # the related history tab and its row


def test_show_without_attribution_still_renders(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get(f"/bookingview/show/{placed.id}")

    assert response.status_code == 200 and placed.reference in response.get_data(as_text=True)


def test_staff_show_foreign_booking_is_404(app, build, tenant_a, tenant_b):
    foreign = _book(build, tenant_b.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    assert staff.get(f"/bookingview/show/{foreign.id}").status_code == 404
    assert staff.get("/bookingview/show/99999999999").status_code == 404


def test_admin_shows_any_booking(app, build, tenant_b, admin_email):
    foreign = _book(build, tenant_b.provider_id)
    admin = signed_in(app, admin_email)

    response = admin.get(f"/bookingview/show/{foreign.id}")

    assert response.status_code == 200 and foreign.reference in response.get_data(as_text=True)


def test_history_screen_is_tenant_scoped(app, build, tenant_a, tenant_b):
    own = _book(build, tenant_a.provider_id)
    foreign = _book(build, tenant_b.provider_id)
    own_row = db.session.scalar(select(BookingHistory.id).where(
        BookingHistory.booking_id == own.id))
    foreign_row = db.session.scalar(select(BookingHistory.id).where(
        BookingHistory.booking_id == foreign.id))
    staff = signed_in(app, tenant_a.staff_email)

    listing = staff.get("/bookinghistoryview/list/").get_data(as_text=True)

    assert own.reference in listing and foreign.reference not in listing
    assert staff.get(f"/bookinghistoryview/show/{own_row}").status_code == 200
    assert staff.get(f"/bookinghistoryview/show/{foreign_row}").status_code == 404


def test_bookings_are_read_only(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    for url in (f"/bookingview/edit/{placed.id}", f"/bookingview/delete/{placed.id}",
                "/bookingview/add"):
        assert staff.post(url, data={"status": "cancelled"}).status_code in (302, 403, 404)
    assert _status(placed.reference) == "confirmed"


# --- search -------------------------------------------------------------------------------

def test_offering_filter_is_a_typed_name_not_a_dropdown_of_every_offering(
        app, build, tenant_a, tenant_b):
    build.offering(tenant_a.provider_id, name="Alpha massage")
    build.offering(tenant_b.provider_id, name="Beta shave")
    staff = signed_in(app, tenant_a.staff_email)

    page = page_text(staff.get("/bookingview/list/", follow_redirects=True))

    # Thousands of offerings make no dropdown: the name is typed.
    assert '<select' not in page.split('id="offering"')[0][-200:]
    assert "Beta shave" not in page
    assert select_options(staff.get("/bookingview/list/", follow_redirects=True), "provider") == [tenant_a.name]


def test_offering_name_filter_finds_only_the_own_providers_bookings(
        app, build, tenant_a, tenant_b):
    own = _book(build, tenant_a.provider_id, name="Hot stone massage")
    foreign = _book(build, tenant_b.provider_id, name="Hot towel shave")
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get("/bookingview/list/?_flt_0_offering=hot").get_data(as_text=True)

    assert own.reference in page and foreign.reference not in page


def test_status_filter_is_a_dropdown_and_filters(app, build, tenant_a):
    confirmed = _book(build, tenant_a.provider_id)
    pending = _book(build, tenant_a.provider_id, pay_at_venue=True, price=500)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get("/bookingview/list/?_flt_0_status=pending")

    page = response.get_data(as_text=True)
    assert "pending" in select_options(response, "status")
    assert pending.reference in page and confirmed.reference not in page


def test_offering_filter_filters(app, build, tenant_a):
    first = _book(build, tenant_a.provider_id, name="Deep tissue 100% relax")
    second = _book(build, tenant_a.provider_id, name="Deep tissue 100 relax")
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get("/bookingview/list/?_flt_0_offering=100%25").get_data(as_text=True)

    assert first.reference in page and second.reference not in page


def test_customer_email_filter(app, build, tenant_a):
    anna = _book(build, tenant_a.provider_id, customer_id=build.customer("anna@example.com"))
    bob = _book(build, tenant_a.provider_id, customer_id=build.customer("bob@example.com"))
    staff = signed_in(app, tenant_a.staff_email)

    contains = staff.get("/bookingview/list/?_flt_0_customer=ANNA@").get_data(as_text=True)
    exact = staff.get("/bookingview/list/?_flt_1_customer=bob@example.com").get_data(
        as_text=True)
    wildcard = staff.get("/bookingview/list/?_flt_1_customer=%25").get_data(as_text=True)

    assert anna.reference in contains and bob.reference not in contains
    assert bob.reference in exact and anna.reference not in exact
    assert anna.reference not in wildcard and bob.reference not in wildcard


def test_starts_at_range_is_read_in_the_provider_zone(app, build, tenant_a):
    day = date.today() + timedelta(days=30)
    # 23:30 on ``day`` in Berlin, and 00:30 the next local day: both on ``day`` in UTC.
    late = _book(build, tenant_a.provider_id,
                 starts_at=datetime.combine(day, time(23, 30), BERLIN).astimezone(timezone.utc))
    next_day = _book(build, tenant_a.provider_id, starts_at=datetime.combine(
        day + timedelta(days=1), time(0, 30), BERLIN).astimezone(timezone.utc))
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get(f"/bookingview/list/?_flt_0_starts_at={day.isoformat()}"
                     f"&_flt_1_starts_at={(day + timedelta(days=1)).isoformat()}").get_data(
        as_text=True)

    assert late.reference in page and next_day.reference not in page


def test_nonsense_filter_values_are_not_a_500(app, build, tenant_a):
    _book(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    for query in ("_flt_0_starts_at=not-a-date", "_flt_1_starts_at=0001-01-01",
                  "_flt_0_created_at=99999-99", "_flt_0_status=zz", "_flt_0_offering=zz",
                  "_flt_0_offering=99999999999", "_flt_0_quantity=zz"):
        # A value the database cannot compare is ignored, or (a relation on PostgreSQL)
        # Flask-AppBuilder flashes it and goes back: never a 500.
        assert staff.get(f"/bookingview/list/?{query}").status_code in (200, 302), query


# --- actions ------------------------------------------------------------------------------

def test_confirm_a_pay_at_venue_booking(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id, pay_at_venue=True, price=1500)
    assert _status(placed.reference) == "pending"
    staff = signed_in(app, tenant_a.staff_email)

    response = _act(staff, "confirm", placed, single=True)

    assert response.status_code == 302
    assert _status(placed.reference) == "confirmed"
    last = db.session.scalars(select(BookingHistory).where(
        BookingHistory.booking_id == placed.id).order_by(BookingHistory.id.desc())).first()
    assert (last.from_status, last.to_status, last.actor_id) == (
        "pending", "confirmed", tenant_a.staff_id)
    assert ("success", f"{placed.reference}: confirmed.") in _flashes(staff)


def test_confirm_refuses_a_confirmed_booking(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id)  # free: confirmed already
    before = _history_count(placed.id)
    staff = signed_in(app, tenant_a.staff_email)

    response = _act(staff, "confirm", placed)

    assert response.status_code == 302
    assert _status(placed.reference) == "confirmed" and _history_count(placed.id) == before
    assert ("danger", f"{placed.reference}: A confirmed booking cannot become confirmed."
            ) in _flashes(staff)


def test_confirm_refuses_a_booking_waiting_for_online_payment(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id, price=1500)  # pending with a payment hold
    staff = signed_in(app, tenant_a.staff_email)

    _act(staff, "confirm", placed)

    assert _status(placed.reference) == "pending"
    [(category, message)] = _flashes(staff)
    assert category == "danger" and "online payment" in message


def test_cancel_gives_the_places_back(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id, quantity=2)
    assert _booked(placed.slot_id) == 2
    staff = signed_in(app, tenant_a.staff_email)

    _act(staff, "cancel", placed, single=True)

    assert _status(placed.reference) == "cancelled"
    assert _booked(placed.slot_id) == 0
    assert ("success", f"{placed.reference}: cancelled.") in _flashes(staff)


def test_cancel_refuses_a_cancelled_booking(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id)
    cancel_booking(placed.reference, actor=Actor(None, "test"), scope=Scope.all_providers())
    staff = signed_in(app, tenant_a.staff_email)

    _act(staff, "cancel", placed)

    assert _status(placed.reference) == "cancelled"
    assert ("danger", f"{placed.reference}: A cancelled booking cannot become cancelled."
            ) in _flashes(staff)


def test_mark_completed_after_the_end(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id, starts_at=_past(hours=3))
    staff = signed_in(app, tenant_a.staff_email)

    _act(staff, "complete", placed, single=True)

    assert _status(placed.reference) == "completed"
    assert ("success", f"{placed.reference}: completed.") in _flashes(staff)


def test_mark_completed_refused_before_the_end(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id)  # in three days
    staff = signed_in(app, tenant_a.staff_email)

    _act(staff, "complete", placed)

    assert _status(placed.reference) == "confirmed"
    assert ("danger", f"{placed.reference}: It can be completed once it has ended."
            ) in _flashes(staff)


def test_mark_no_show_after_the_start(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id, starts_at=_past(hours=0.5))
    staff = signed_in(app, tenant_a.staff_email)

    _act(staff, "no_show", placed, single=True)

    assert _status(placed.reference) == "no_show"
    assert ("success", f"{placed.reference}: marked as no-show.") in _flashes(staff)


def test_mark_no_show_refused_for_a_pending_booking(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id, pay_at_venue=True, price=100,
                   starts_at=_past(hours=0.5))
    staff = signed_in(app, tenant_a.staff_email)

    _act(staff, "no_show", placed)

    assert _status(placed.reference) == "pending"
    assert ("danger", f"{placed.reference}: A pending booking cannot become no_show."
            ) in _flashes(staff)


def test_one_action_on_many_bookings_reports_each(app, build, tenant_a):
    ok = _book(build, tenant_a.provider_id, pay_at_venue=True, price=100)
    refused = _book(build, tenant_a.provider_id)
    also_ok = _book(build, tenant_a.provider_id, pay_at_venue=True, price=100)
    staff = signed_in(app, tenant_a.staff_email)

    _act(staff, "confirm", ok, refused, also_ok)

    assert [_status(b.reference) for b in (ok, refused, also_ok)] == ["confirmed"] * 3
    categories = {message.split(":")[0]: category for category, message in _flashes(staff)}
    assert categories == {ok.reference: "success", refused.reference: "danger",
                          also_ok.reference: "success"}


@pytest.mark.parametrize("name", ["confirm", "cancel", "complete", "no_show"])
def test_staff_cannot_act_on_foreign_bookings(app, build, tenant_a, tenant_b, name):
    own = _book(build, tenant_a.provider_id, pay_at_venue=True, price=100)
    foreign = _book(build, tenant_b.provider_id, pay_at_venue=True, price=100,
                    starts_at=_past(hours=3))
    staff = signed_in(app, tenant_a.staff_email)

    single = _act(staff, name, foreign, single=True)
    multiple = _act(staff, name, own, foreign)

    assert single.status_code == 404 and multiple.status_code == 404
    assert _status(foreign.reference) == "pending"
    assert _status(own.reference) == "pending"  # all or nothing


def test_admin_acts_on_any_provider(app, build, tenant_b, admin_email):
    foreign = _book(build, tenant_b.provider_id, pay_at_venue=True, price=100)
    admin = signed_in(app, admin_email)

    _act(admin, "confirm", foreign)

    assert _status(foreign.reference) == "confirmed"
    last = db.session.scalars(select(BookingHistory).where(
        BookingHistory.booking_id == foreign.id).order_by(BookingHistory.id.desc())).first()
    assert last.reason == "console"


def test_unknown_action_is_404(app, build, tenant_a):
    placed = _book(build, tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    assert _act(staff, "refund", placed).status_code == 404


def test_staff_menu_offers_bookings_but_not_operations(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)

    page = page_text(staff.get("/bookingview/list/", follow_redirects=True))

    assert "/bookingview/list/" in page and "/calendar/week" in page
    assert "/outboxeventview/list/" not in page


# The day agenda became the calendar: its tests (local days, tenancy, admins, bad input)
# are in tests/views/test_calendar.py.
