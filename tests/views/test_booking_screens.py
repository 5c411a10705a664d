"""Bookings in the console: the read-only list, its state actions, and the day agenda.

Staff see and act on their own provider's bookings only; admins on all. Every action goes
through the booking service, so a refused transition is flashed and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, BookingHistory, Slot
from app.models.types import utcnow
from app.services import agenda
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

    response = staff.get("/bookingview/list/")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert own.reference in page
    assert foreign.reference not in page
    assert tenant_b.name not in page


def test_admin_list_shows_every_provider(app, build, tenant_a, tenant_b, admin_email):
    own = _book(build, tenant_a.provider_id)
    foreign = _book(build, tenant_b.provider_id)
    admin = signed_in(app, admin_email)

    page = admin.get("/bookingview/list/").get_data(as_text=True)

    assert own.reference in page and foreign.reference in page


def test_list_shows_local_start_and_total_in_the_currency(app, build, tenant_a):
    starts_at = datetime.combine(date.today() + timedelta(days=40), time(10, 0),
                                 timezone.utc)
    eur = _book(build, tenant_a.provider_id, price=1250, quantity=2, starts_at=starts_at)
    yen = _book(build, tenant_a.provider_id, price=2500, currency="JPY",
                starts_at=starts_at + timedelta(hours=1))
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get("/bookingview/list/").get_data(as_text=True)

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

def test_offering_filter_offers_own_offerings_only(app, build, tenant_a, tenant_b):
    build.offering(tenant_a.provider_id, name="Alpha massage")
    build.offering(tenant_b.provider_id, name="Beta shave")
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get("/bookingview/list/")

    assert select_options(response, "offering") == ["Alpha massage"]
    assert select_options(response, "provider") == [tenant_a.name]


def test_admin_offering_filter_offers_every_offering(app, build, tenant_a, tenant_b,
                                                     admin_email):
    build.offering(tenant_a.provider_id, name="Alpha massage")
    build.offering(tenant_b.provider_id, name="Beta shave")
    admin = signed_in(app, admin_email)

    options = select_options(admin.get("/bookingview/list/"), "offering")

    assert sorted(options) == ["Alpha massage", "Beta shave"]


def test_status_filter_is_a_dropdown_and_filters(app, build, tenant_a):
    confirmed = _book(build, tenant_a.provider_id)
    pending = _book(build, tenant_a.provider_id, pay_at_venue=True, price=500)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get("/bookingview/list/?_flt_0_status=pending")

    page = response.get_data(as_text=True)
    assert "pending" in select_options(response, "status")
    assert pending.reference in page and confirmed.reference not in page


def test_offering_filter_filters(app, build, tenant_a):
    first = _book(build, tenant_a.provider_id)
    second = _book(build, tenant_a.provider_id)
    offering_id = db.session.get(Booking, first.id).offering_id
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get(f"/bookingview/list/?_flt_0_offering={offering_id}").get_data(
        as_text=True)

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

    page = page_text(staff.get("/bookingview/list/"))

    assert "/bookingview/list/" in page and "/bookings/agenda/" in page
    assert "/outboxeventview/list/" not in page


# --- the day agenda -----------------------------------------------------------------------

@pytest.fixture
def agenda_day() -> date:
    return date.today() + timedelta(days=20)


def _local_start(day: date, hour: int, minute: int = 0, zone=BERLIN) -> datetime:
    return datetime.combine(day, time(hour, minute), zone).astimezone(timezone.utc)


def _agenda_rows(page: str) -> list[str]:
    import re

    return re.findall(r'data-reference="([^"]+)"', page)


def test_agenda_shows_the_local_day_by_offering_and_time(app, build, tenant_a, agenda_day):
    massage = build.offering(tenant_a.provider_id, name="A massage", price_minor=0)
    sauna = build.offering(tenant_a.provider_id, name="B sauna", price_minor=0)
    late = _book(build, tenant_a.provider_id, offering_id=massage,
                 starts_at=_local_start(agenda_day, 23, 30))
    early = _book(build, tenant_a.provider_id, offering_id=massage,
                  starts_at=_local_start(agenda_day, 8))
    sauna_noon = _book(build, tenant_a.provider_id, offering_id=sauna,
                       starts_at=_local_start(agenda_day, 12))
    # The same UTC date, but the next local day; and the local day before.
    after = _book(build, tenant_a.provider_id, offering_id=massage,
                  starts_at=_local_start(agenda_day + timedelta(days=1), 0, 30))
    before = _book(build, tenant_a.provider_id, offering_id=massage,
                   starts_at=_local_start(agenda_day - timedelta(days=1), 23, 59))
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get(f"/bookings/agenda/?day={agenda_day.isoformat()}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _agenda_rows(page) == [early.reference, late.reference, sauna_noon.reference]
    assert page.index("A massage") < page.index("B sauna")
    assert "08:00" in page and "23:30" in page and "12:00" in page
    assert after.reference not in page and before.reference not in page
    next_page = staff.get(f"/bookings/agenda/?day={(agenda_day + timedelta(days=1))}")
    assert _agenda_rows(next_page.get_data(as_text=True)) == [after.reference]


def test_agenda_links_the_previous_and_next_day(app, tenant_a, agenda_day):
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get(f"/bookings/agenda/?day={agenda_day.isoformat()}").get_data(
        as_text=True)

    assert f"day={(agenda_day - timedelta(days=1)).isoformat()}" in page
    assert f"day={(agenda_day + timedelta(days=1)).isoformat()}" in page


def test_agenda_defaults_to_today_in_the_provider_zone(app, build, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get("/bookings/agenda/").get_data(as_text=True)

    assert f'data-day="{utcnow().astimezone(BERLIN).date().isoformat()}"' in page


def test_agenda_shows_own_provider_only(app, build, tenant_a, tenant_b, agenda_day):
    own = _book(build, tenant_a.provider_id, starts_at=_local_start(agenda_day, 10))
    foreign = _book(build, tenant_b.provider_id, starts_at=_local_start(agenda_day, 10))
    staff = signed_in(app, tenant_a.staff_email)

    plain = staff.get(f"/bookings/agenda/?day={agenda_day}").get_data(as_text=True)
    asking = staff.get(f"/bookings/agenda/?day={agenda_day}&provider_id={tenant_b.provider_id}"
                       ).get_data(as_text=True)

    assert _agenda_rows(plain) == [own.reference]
    assert _agenda_rows(asking) == [own.reference]
    assert foreign.reference not in plain + asking and tenant_b.name not in plain + asking


def test_agenda_leaves_out_released_bookings(app, build, tenant_a, agenda_day):
    kept = _book(build, tenant_a.provider_id, starts_at=_local_start(agenda_day, 9))
    gone = _book(build, tenant_a.provider_id, starts_at=_local_start(agenda_day, 10))
    cancel_booking(gone.reference, actor=Actor(None, "test"), scope=Scope.all_providers())
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get(f"/bookings/agenda/?day={agenda_day}").get_data(as_text=True)

    assert _agenda_rows(page) == [kept.reference]


def test_admin_agenda_shows_all_or_one_provider(app, build, tenant_a, tenant_b, admin_email,
                                                agenda_day):
    alpha = _book(build, tenant_a.provider_id, starts_at=_local_start(agenda_day, 10))
    beta = _book(build, tenant_b.provider_id, starts_at=_local_start(agenda_day, 11))
    admin = signed_in(app, admin_email)

    everyone = admin.get(f"/bookings/agenda/?day={agenda_day}")
    only_beta = admin.get(f"/bookings/agenda/?day={agenda_day}"
                          f"&provider_id={tenant_b.provider_id}").get_data(as_text=True)

    assert sorted(_agenda_rows(everyone.get_data(as_text=True))) == sorted(
        [alpha.reference, beta.reference])
    assert sorted(select_options(everyone, "agenda-provider")) == sorted(
        ["All providers", tenant_a.name, tenant_b.name])
    assert _agenda_rows(only_beta) == [beta.reference]


def test_agenda_refuses_bad_input_without_a_500(app, tenant_a, admin_email):
    staff = signed_in(app, tenant_a.staff_email)
    admin = signed_in(app, admin_email)

    bad_day = staff.get("/bookings/agenda/?day=2031-02-30")
    far_day = staff.get("/bookings/agenda/?day=0001-01-01")

    assert bad_day.status_code == 200 and far_day.status_code == 200
    assert "not a day" in bad_day.get_data(as_text=True)
    assert admin.get("/bookings/agenda/?provider_id=abc").status_code == 404
    assert admin.get("/bookings/agenda/?provider_id=99999999999").status_code == 404
    assert admin.get("/bookings/agenda/?provider_id=424242").status_code == 404


def test_agenda_needs_a_console_user(app, client):
    response = client.get("/bookings/agenda/")

    assert response.status_code == 302 and "/login/" in response.headers["Location"]


def test_agenda_service_counts_bookings_on_their_own_provider_day(app_ctx, build, agenda_day):
    tokyo = build.provider(name="Tokyo Tea", timezone="Asia/Tokyo")
    berlin = build.provider(name="Berlin Bath", timezone="Europe/Berlin")
    # 08:00 on the day in Tokyo is 23:00 the day before in UTC.
    in_tokyo = _book(build, tokyo, starts_at=_local_start(agenda_day, 8, zone=ZoneInfo(
        "Asia/Tokyo")))
    in_berlin = _book(build, berlin, starts_at=_local_start(agenda_day, 23))

    everyone = agenda.day_agenda(day=agenda_day, scope=Scope.all_providers())
    tokyo_only = agenda.day_agenda(day=agenda_day, scope=Scope.of_provider(tokyo))

    assert sorted(b.reference for g in everyone.groups for b in g.bookings) == sorted(
        [in_tokyo.reference, in_berlin.reference])
    [group] = tokyo_only.groups
    assert [b.reference for b in group.bookings] == [in_tokyo.reference]
    assert group.bookings[0].starts_at.strftime("%H:%M") == "08:00"
    assert tokyo_only.zone == "Asia/Tokyo"


def test_agenda_service_days_across_a_clock_change(app_ctx, build):
    provider_id = build.provider(timezone="Europe/Berlin")
    day = _next_spring_forward()
    first = _book(build, provider_id, starts_at=_local_start(day, 0, 15))
    last = _book(build, provider_id, starts_at=_local_start(day, 23, 45))
    _book(build, provider_id, starts_at=_local_start(day + timedelta(days=1), 0, 15))

    result = agenda.day_agenda(day=day, scope=Scope.of_provider(provider_id))

    assert [b.reference for g in result.groups for b in g.bookings] == [first.reference,
                                                                         last.reference]


def _next_spring_forward() -> date:
    """The next last Sunday of March: Europe's clocks go forward (a 23-hour day)."""
    year = date.today().year + 1
    day = date(year, 3, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)
