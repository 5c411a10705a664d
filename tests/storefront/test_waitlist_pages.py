"""The waiting list on the storefront: the picker marks fully booked days and lists their
full times with a button to join; joining (signed in, or after signing in), refusals as
messages on the picker, "My bookings" with the customer's lines, leaving; a place offered
on the booking page that holds it, taken (nothing to pay online) or declined. Another
customer's entry or offer is a 404, a form we never sent a 4xx, never a 500."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, Offering, Slot, WaitlistEntry
from app.models.bookings import CANCELLED, CONFIRMED, PENDING
from app.models.types import utcnow
from app.models.waitlist import BOOKED, LEFT, OFFERED, WAITING
from app.services import bookings, waitlist
from app.services.scopes import Actor, Scope
from tests.builders import PASSWORD
from tests.notifications.conftest import run_jobs
from tests.storefront.conftest import sign_in

STAFF = Actor(None, "test")


@pytest.fixture
def full(build):
    """A time 3 days ahead with 2 places, both booked by someone else; and a time with
    places free 5 days ahead."""
    def make(**offering_fields):
        provider = build.provider(name="Gamma Yoga", timezone="Europe/Berlin")
        offering = build.offering(provider, name="Sunrise yoga", **{
            "price_minor": 4200, "currency": "EUR", **offering_fields})
        slot = build.future_slot(offering, days=3, capacity=2)
        holder = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                        slot_id=slot, quantity=2)
        free_slot = build.future_slot(offering, days=5, capacity=4)
        return {"offering": offering, "slot": slot, "free_slot": free_slot,
                "reference": holder.reference}

    return make


def _day_of(slot_id: int) -> str:
    from zoneinfo import ZoneInfo

    starts_at = db.session.get(Slot, slot_id).starts_at
    return starts_at.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()


def _join(client, world, *, slot_id=None, quantity=1, **extra):
    return client.post("/shop/waitlist", data={
        "slot_id": world["slot"] if slot_id is None else slot_id, "quantity": quantity,
        "offering_id": world["offering"], "day": _day_of(world["slot"]), **extra})


def _entries(customer_id: int) -> list[WaitlistEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.customer_id == customer_id).order_by(WaitlistEntry.id)))


def _offer(app, world, customer_id: int) -> WaitlistEntry:
    """The holder's booking cancelled and the jobs worked: a place offered."""
    bookings.cancel_booking(world["reference"], actor=STAFF, scope=Scope.all_providers())
    run_jobs(app)
    (entry,) = _entries(customer_id)
    assert entry.status == OFFERED
    return entry


def _page(response) -> str:
    return response.get_data(as_text=True)


# --- the picker ------------------------------------------------------------------------------

def test_the_picker_marks_a_fully_booked_day_and_offers_its_waiting_list(client, full):
    world = full()
    day = _day_of(world["slot"])

    page = _page(client.get(f"/shop/offerings/{world['offering']}?day={day}"))

    assert 'class="picker-day full chosen"' in page and 'aria-current="date"' in page
    assert "fully booked, waiting list open" in page
    assert "No free times on this day." in page
    assert 'action="/shop/waitlist"' in page
    assert f'name="slot_id" value="{world["slot"]}"' in page
    assert 'aria-label="Join the waiting list for ' in page
    assert "Times in Europe/Berlin" in page
    # The day with places free is a free day, with its time to book, and no waiting list.
    other = _page(client.get(f"/shop/offerings/{world['offering']}"
                             f"?day={_day_of(world['free_slot'])}"))
    assert f"review?slot_id={world['free_slot']}" in other
    assert "Fully booked</h4>" not in other


def test_full_for_more_places_than_are_left_but_never_for_more_than_the_time_has(client,
                                                                                 build):
    provider = build.provider(timezone="Europe/Berlin")
    offering = build.offering(provider, price_minor=1000)
    slot = build.future_slot(offering, days=3, capacity=3, booked=2)
    day = _day_of(slot)

    one = _page(client.get(f"/shop/offerings/{offering}?day={day}&quantity=1"))
    two = _page(client.get(f"/shop/offerings/{offering}?day={day}&quantity=2"))
    four = _page(client.get(f"/shop/offerings/{offering}?day={day}&quantity=4"))

    assert f"review?slot_id={slot}" in one and "Join the waiting list" not in one
    assert "Join the waiting list" in two and 'name="quantity" value="2"' in two
    assert "Join the waiting list" not in four and f"slot_id={slot}" not in four


def test_an_offering_with_only_full_times_opens_on_the_first_fully_booked_day(client, full):
    world = full()
    db.session.get(Slot, world["free_slot"]).retired_at = utcnow()  # nothing free at all
    db.session.commit()

    page = _page(client.get(f"/shop/offerings/{world['offering']}"))

    assert "Fully booked: join the waiting list" in page
    assert f'name="slot_id" value="{world["slot"]}"' in page


def test_moving_a_booking_shows_no_waiting_list(client, full, build):
    world = full()
    customer = build.customer()
    reference = bookings.place_booking(customer_id=customer, offering_id=world["offering"],
                                       slot_id=world["free_slot"]).reference
    sign_in(client, build.email_of(customer))

    page = _page(client.get(f"/shop/bookings/{reference}/move?day={_day_of(world['slot'])}"))

    assert "Join the waiting list" not in page and "picker-day full" not in page


# --- joining ------------------------------------------------------------------------------

def test_joining_from_the_picker_lists_the_entry_in_my_bookings(client, full, build):
    world = full()
    customer = build.customer()
    sign_in(client, build.email_of(customer))

    joined = _join(client, world, quantity=2)

    assert joined.status_code == 303
    assert joined.headers["Location"].endswith("/shop/bookings#waitlist")
    (entry,) = _entries(customer)
    assert (entry.status, entry.quantity, entry.slot_id) == (WAITING, 2, world["slot"])
    page = _page(client.get("/shop/bookings"))
    assert "You are on the waiting list, number 1 in line." in page
    assert 'id="waitlist"' in page and "Sunrise yoga" in page
    assert "On the waiting list" in page and "Number 1 in line" in page
    assert "2 places" in page and "(Europe/Berlin)" in page
    assert "Leave the waiting list" in page
    for raw in ("None", ">waiting<", f"entry {entry.id}"):
        assert raw not in page


def test_joining_again_or_while_places_are_free_is_a_message_on_the_picker(client, full,
                                                                          build):
    world = full()
    sign_in(client, build.email_of(build.customer()))
    assert _join(client, world).status_code == 303

    again = _join(client, world)
    free = _join(client, world, slot_id=world["free_slot"])
    too_many = _join(client, world, quantity=3)

    for refused in (again, free, too_many):
        assert refused.status_code == 303
        assert f"/shop/offerings/{world['offering']}?day=" in refused.headers["Location"]
        assert refused.headers["Location"].endswith("#picker")
    page = _page(client.get(again.headers["Location"]))
    assert "You are on the waiting list for that time already." in page
    assert "That time has places free again: book it instead." in page
    assert "That time has fewer places in all than you asked for." in page


def test_signed_out_joining_signs_in_first_and_comes_back_to_the_picker(client, full, build):
    world = full()

    response = _join(client, world, quantity=2)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/shop/login"
    back = parse_qs(location.query)["next"][0]
    assert back == (f"/shop/offerings/{world['offering']}?day={_day_of(world['slot'])}"
                    "&quantity=2")
    assert db.session.scalar(select(WaitlistEntry.id)) is None
    signed_in = client.post("/shop/login", data={
        "email": build.email_of(build.customer()), "password": PASSWORD, "next": back})
    assert signed_in.headers["Location"] == back
    assert "Join the waiting list" in _page(client.get(back))


@pytest.mark.parametrize("form", [
    {"slot_id": "abc"}, {"slot_id": ""}, {"slot_id": "1", "quantity": "two"},
    {"slot_id": "1e9"}])
def test_a_form_we_did_not_send_is_a_400(client, full, build, form):
    world = full()
    sign_in(client, build.email_of(build.customer()))

    response = client.post("/shop/waitlist", data={"offering_id": world["offering"],
                                                   "quantity": "1", **form})

    assert response.status_code == 400
    assert "Something was wrong with that request" in _page(response)


def test_an_unknown_time_is_the_shops_404_page(client, full, build):
    world = full()
    sign_in(client, build.email_of(build.customer()))

    response = _join(client, world, slot_id=world["slot"] + 1000, offering_id="x", day="no")

    assert response.status_code == 404
    assert "That time is not offered." in _page(response)
    assert 'href="/shop/"' in _page(response)  # the shop's layout


# --- leaving ------------------------------------------------------------------------------

def test_leaving_a_line_and_another_customers_entry_is_a_404(client, app, full, build):
    world = full()
    customer = build.customer()
    sign_in(client, build.email_of(customer))
    _join(client, world)
    (entry,) = _entries(customer)

    stranger = app.test_client()
    sign_in(stranger, build.email_of(build.customer()))
    assert stranger.post(f"/shop/waitlist/{entry.id}/leave").status_code == 404
    assert _entries(customer)[0].status == WAITING

    left = client.post(f"/shop/waitlist/{entry.id}/leave")
    assert left.status_code == 303 and left.headers["Location"].endswith("#waitlist")
    assert _entries(customer)[0].status == LEFT
    page = _page(client.get("/shop/bookings"))
    assert "You have left the waiting list." in page and "Left the waiting list" in page
    again = client.post(f"/shop/waitlist/{entry.id}/leave", follow_redirects=True)
    assert "You are no longer on this waiting list." in _page(again)


# --- a place offered -------------------------------------------------------------------------

def test_a_place_to_pay_at_the_venue_is_taken_on_the_booking_page(client, app, full, build):
    world = full(pay_at_venue=True)
    customer = build.customer()
    sign_in(client, build.email_of(customer))
    _join(client, world)
    entry = _offer(app, world, customer)
    reference = db.session.get(Booking, entry.booking_id).reference

    mine = _page(client.get("/shop/bookings"))
    assert "A place is held for you until" in mine
    assert f'href="/shop/bookings/{reference}"' in mine and "Take the place" in mine

    page = _page(client.get(f"/shop/bookings/{reference}"))
    assert "A place from the waiting list is held for you until" in page
    assert re.search(r"held for you until [^<]*\d\d:\d\d CES?T \(Europe/Berlin\)", page)
    assert "you pay at the venue" in page
    assert f'action="/shop/bookings/{reference}/take-offer"' in page
    assert f'action="/shop/bookings/{reference}/decline-offer"' in page
    assert "Cancel the booking" not in page and "Change the time" not in page

    taken = client.post(f"/shop/bookings/{reference}/take-offer")
    assert taken.status_code == 303
    assert _entries(customer)[0].status == BOOKED
    booking = db.session.get(Booking, entry.booking_id)
    assert booking.status == PENDING and booking.hold_expires_at is None
    after = _page(client.get(f"/shop/bookings/{reference}"))
    assert "The place is yours. You pay at the venue" in after
    assert "take-offer" not in after and "Waiting for the provider" in after
    again = client.post(f"/shop/bookings/{reference}/take-offer", follow_redirects=True)
    assert "This place is no longer held for you." in _page(again)


def test_a_free_place_is_taken_and_confirmed(client, app, full, build):
    world = full(price_minor=0)
    customer = build.customer()
    sign_in(client, build.email_of(customer))
    _join(client, world)
    entry = _offer(app, world, customer)
    reference = db.session.get(Booking, entry.booking_id).reference

    taken = client.post(f"/shop/bookings/{reference}/take-offer", follow_redirects=True)

    assert "The place is yours: your booking is confirmed." in _page(taken)
    assert db.session.get(Booking, entry.booking_id).status == CONFIRMED


def test_a_place_to_pay_online_is_taken_by_paying(client, app, full, build):
    world = full()
    customer = build.customer()
    sign_in(client, build.email_of(customer))
    _join(client, world)
    entry = _offer(app, world, customer)
    reference = db.session.get(Booking, entry.booking_id).reference

    page = _page(client.get(f"/shop/bookings/{reference}"))
    assert "A place from the waiting list is held for you until" in page
    assert "Pay for it below to take it." in page and "Pay €42.00" in page
    assert "take-offer" not in page and "We hold your place until" not in page
    refused = client.post(f"/shop/bookings/{reference}/take-offer", follow_redirects=True)
    assert "Pay for the booking to take the place." in _page(refused)
    assert _entries(customer)[0].status == OFFERED


def test_declining_a_place_gives_it_to_the_next_in_line(client, app, full, build):
    world = full()
    customer, next_one = build.customer(), build.customer()
    sign_in(client, build.email_of(customer))
    _join(client, world)
    waitlist.join(customer_id=next_one, slot_id=world["slot"])
    entry = _offer(app, world, customer)
    reference = db.session.get(Booking, entry.booking_id).reference

    declined = client.post(f"/shop/bookings/{reference}/decline-offer")
    run_jobs(app)

    assert declined.status_code == 303
    assert _entries(customer)[0].status == LEFT
    assert db.session.get(Booking, entry.booking_id).status == CANCELLED
    assert _entries(next_one)[0].status == OFFERED
    page = _page(client.get(declined.headers["Location"]))
    assert "You declined the place; it goes to the next in line." in page
    assert "held for you" not in page


def test_another_customers_offer_is_a_404(client, app, full, build):
    world = full(pay_at_venue=True)
    customer = build.customer()
    waitlist.join(customer_id=customer, slot_id=world["slot"])
    entry = _offer(app, world, customer)
    reference = db.session.get(Booking, entry.booking_id).reference
    sign_in(client, build.email_of(build.customer()))

    for path in ("", "/take-offer", "/decline-offer"):
        method = client.get if not path else client.post
        assert method(f"/shop/bookings/{reference}{path}").status_code == 404
    assert _entries(customer)[0].status == OFFERED


def test_the_offer_emails_manage_link_opens_the_offer_signed_out(client, app, full, build):
    from app.services import manage_links

    world = full(pay_at_venue=True)
    customer = build.customer()
    waitlist.join(customer_id=customer, slot_id=world["slot"])
    entry = _offer(app, world, customer)
    booking = db.session.get(Booking, entry.booking_id)

    opened = client.get(manage_links.manage_path(booking), follow_redirects=True)
    assert "A place from the waiting list is held for you until" in _page(opened)
    taken = client.post(f"/shop/bookings/{booking.reference}/take-offer")
    assert taken.status_code == 303 and _entries(customer)[0].status == BOOKED


def test_my_bookings_in_german(client, full, build):
    world = full()
    sign_in(client, build.email_of(build.customer()))
    client.post("/shop/language", data={"language": "de"})
    _join(client, world)

    page = _page(client.get("/shop/bookings"))

    assert "Wartelisten" in page and "Position 1 auf der Warteliste" in page
    assert "Auf der Warteliste" in page
    picker = _page(client.get(f"/shop/offerings/{world['offering']}"
                              f"?day={_day_of(world['slot'])}"))
    assert "Auf die Warteliste setzen" in picker and "Ausgebucht" in picker


def test_a_time_that_has_started_is_no_longer_listed(client, build):
    provider = build.provider(timezone="Europe/Berlin")
    offering = build.offering(provider, price_minor=1000)
    slot = build.slot(offering, utcnow() - timedelta(minutes=5), capacity=1, booked=1)
    page = _page(client.get(f"/shop/offerings/{offering}?day={_day_of(slot)}"))
    assert f'name="slot_id" value="{slot}"' not in page
    assert db.session.get(Offering, offering) is not None
