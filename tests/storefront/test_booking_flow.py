"""The storefront's booking flow: choose a time, review, hold (signed in or as a guest),
then manage the booking: cancel with the refund shown first, move, calendar file,
receipts; "My bookings" upcoming and past."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from app.extensions import db
from app.models import Account, Booking, Offering, Slot
from app.models.types import utcnow
from app.services import bookings, manage_links
from tests.notifications.conftest import run_jobs


def _booking(reference: str) -> Booking:
    db.session.expire_all()
    return db.session.scalar(select(Booking).where(Booking.reference == reference))


def _reference(response) -> str:
    return response.headers["Location"].rsplit("/", 1)[1]


def _review(client, store, quantity=1):
    page = client.get(f"/shop/offerings/{store.offering_id}/review?slot_id={store.slot_id}"
                      f"&quantity={quantity}").get_data(as_text=True)
    return page, re.search(r'name="submission" value="([0-9a-f]+)"', page).group(1)


# --- choosing a time ---------------------------------------------------------------------

def test_the_offering_page_has_a_month_of_free_days_and_the_days_times(client, store, build):
    page = client.get(f"/shop/offerings/{store.offering_id}").get_data(as_text=True)

    assert 'class="picker-grid"' in page and 'aria-current="date"' in page
    assert f"review?slot_id={store.slot_id}&amp;quantity=1" in page
    assert "Times in Europe/Berlin" in page
    # Six places are more than the slot has: no time offered for them.
    six = client.get(f"/shop/offerings/{store.offering_id}?quantity=6").get_data(as_text=True)
    assert "review?slot_id=" not in six and "Nothing free this month" in six or \
        "review?slot_id=" not in six


def test_a_month_out_of_range_says_so_and_shows_this_month(client, store):
    response = client.get(f"/shop/offerings/{store.offering_id}?month=2001-01")

    assert response.status_code == 200
    assert "Choose a month from now" in response.get_data(as_text=True)


# --- review --------------------------------------------------------------------------------

def test_the_review_shows_time_total_tax_and_cancellation_terms(client, store, build):
    provider = db.session.get(Offering, store.offering_id).provider
    provider.tax_rate_bp, provider.tax_inclusive = 1900, True
    db.session.commit()

    page, _ = _review(client, store, quantity=2)

    assert "€84.00" in page and "incl. €13.41 tax (19 %)" in page
    assert "Free until 24 hours before the start" in page
    assert "(Europe/Berlin)" in page
    # Signed out: sign in (coming back here) or continue as a guest.
    assert "/shop/login?next=" in page and "book-as-guest" in page


def test_signed_in_the_review_books_with_notes_and_a_double_click_books_once(shopper, store):
    page, token = _review(shopper, store)
    form = {"slot_id": store.slot_id, "quantity": 1, "submission": token,
            "notes": "Bringing my own mat"}

    first = shopper.post(f"/shop/offerings/{store.offering_id}/book", data=form)
    again = shopper.post(f"/shop/offerings/{store.offering_id}/book", data=form)

    assert _reference(first) == _reference(again)
    assert _booking(_reference(first)).notes == "Bringing my own mat"


def test_a_time_taken_meanwhile_offers_other_times(shopper, store, build):
    other = build.future_slot(store.offering_id, days=4, capacity=5)
    _, token = _review(shopper, store)
    db.session.get(Slot, store.slot_id).booked = 5
    db.session.commit()

    response = shopper.post(f"/shop/offerings/{store.offering_id}/book",
                            data={"slot_id": store.slot_id, "quantity": 1, "submission": token})

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    # One place asked for: the time was taken, said once, with the other times below.
    assert page.count('role="alert"') == 1
    assert "Someone has just booked that time. Please choose another one below.</p>" in page
    assert "fewer places" not in page and "Please choose another time." not in page
    assert f"slot_id={other}" in page
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


@pytest.mark.parametrize("headers, left_one, left_none", [
    ({}, "Only 1 place is left at that time. Choose fewer places or another time.",
     "Someone has just booked that time. Please choose another one below."),
    ({"Accept-Language": "de-DE,de;q=0.9"},
     "Zu diesem Termin ist nur noch 1 Platz frei. Wählen Sie weniger Plätze oder einen "
     "anderen Termin.",
     "Dieser Termin wurde gerade von jemand anderem gebucht. Bitte wählen Sie unten einen "
     "anderen.")])
def test_asking_for_more_places_than_are_left_says_how_many_are(client, store, headers,
                                                                left_one, left_none):
    slot = db.session.get(Slot, store.slot_id)
    slot.booked = slot.capacity - 1
    db.session.commit()

    page = client.get(f"/shop/offerings/{store.offering_id}/review?slot_id={store.slot_id}"
                      "&quantity=2", headers=headers).get_data(as_text=True)
    assert left_one in page and page.count(left_one) == 1

    slot.booked = slot.capacity
    db.session.commit()
    page = client.get(f"/shop/offerings/{store.offering_id}/review?slot_id={store.slot_id}"
                      "&quantity=2", headers=headers).get_data(as_text=True)
    assert left_none in page


# --- guests -------------------------------------------------------------------------------

def _guest_form(store, token, **fields):
    return {"slot_id": store.slot_id, "quantity": 1, "submission": token,
            "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
            "phone": "", **fields}


def test_a_guest_books_without_a_password_and_manages_it_from_the_emailed_link(
        app, client, store, smtp):
    _, token = _review(client, store)

    response = client.post(f"/shop/offerings/{store.offering_id}/book-as-guest",
                           data=_guest_form(store, token))

    reference = _reference(response)
    guest = db.session.scalar(select(Account).where(Account.email == "grace@example.com"))
    assert guest is not None and not guest.password and "Customer" in guest.role_names
    assert _booking(reference).customer_id == guest.id
    assert client.get(f"/shop/bookings/{reference}").status_code == 200  # this browser
    stranger = app.test_client()
    assert stranger.get(f"/shop/bookings/{reference}").status_code == 302  # to sign in

    link = manage_links.manage_path(_booking(reference))
    opened = stranger.get(link, follow_redirects=True)
    assert opened.status_code == 200 and reference in opened.get_data(as_text=True)
    assert stranger.get("/shop/b/forged-token").status_code == 404
    # Booking again as a guest with the address uses the same account.
    _, token = _review(client, store)
    again = client.post(f"/shop/offerings/{store.offering_id}/book-as-guest",
                        data=_guest_form(store, token))
    assert _booking(_reference(again)).customer_id == guest.id


def test_the_manage_link_is_in_the_confirmation_message(app, client, store, smtp, build):
    free = build.offering(store.provider_id, name="Open class", price_minor=0)
    slot = build.future_slot(free, days=2)
    page = client.get(f"/shop/offerings/{free}/review?slot_id={slot}&quantity=1").get_data(
        as_text=True)
    token = re.search(r'name="submission" value="([0-9a-f]+)"', page).group(1)
    response = client.post(f"/shop/offerings/{free}/book-as-guest", data={
        "slot_id": slot, "quantity": 1, "submission": token, "first_name": "Alan",
        "last_name": "Turing", "email": "alan@example.com"})
    reference = _reference(response)
    run_jobs(app)

    mails = smtp.to("alan@example.com")
    assert mails, "no confirmation email"
    link = re.search(r"https?://[^\s\"<]+/shop/b/[\w.\-]+", mails[-1].as_string())
    assert link, mails[-1].as_string()[:2000]
    opened = app.test_client().get(link.group(0).split("://", 1)[1].split("/", 1)[1]
                                   .join(["/", ""]), follow_redirects=True)
    assert reference in opened.get_data(as_text=True)


def test_bad_guest_details_are_form_errors_and_book_nothing(client, store, build):
    _, token = _review(client, store)

    response = client.post(f"/shop/offerings/{store.offering_id}/book-as-guest",
                           data=_guest_form(store, token, email="not-an-email", first_name=""))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="guest-email-error"' in page and 'id="guest-first_name-error"' in page
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
    staff_email = build.email_of(build.staff(store.provider_id))
    refused = client.post(f"/shop/offerings/{store.offering_id}/book-as-guest",
                          data=_guest_form(store, token, email=staff_email))
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_guest_bookings_are_rate_limited_per_email(app, store, build, monkeypatch):
    monkeypatch.setitem(app.config, "GUEST_BOOKING_RATE_LIMIT", "2 per hour")
    codes = []
    for attempt in range(3):
        client = app.test_client()  # a new browser each time; the same address
        _, token = _review(client, store)
        codes.append(client.post(f"/shop/offerings/{store.offering_id}/book-as-guest",
                                 data=_guest_form(store, token),
                                 environ_base={"REMOTE_ADDR": f"10.0.0.{attempt + 1}"})
                     .status_code)
    assert codes == [302, 302, 429]


# --- managing -----------------------------------------------------------------------------

def _placed(store, *, customer_id=None, paid=False, quantity=1) -> str:
    return bookings.place_booking(customer_id=customer_id or store.customer_id,
                                  offering_id=store.offering_id, slot_id=store.slot_id,
                                  quantity=quantity).reference


def test_cancelling_shows_the_refund_first_then_cancels(shopper, store, stripe_on):
    reference = _placed(store, quantity=2)
    shopper.post(f"/shop/bookings/{reference}/pay-test-card", data={"card": "visa"})

    confirm = shopper.get(f"/shop/bookings/{reference}/cancel").get_data(as_text=True)
    assert "You get back €84.00" in confirm

    shopper.post(f"/shop/bookings/{reference}/cancel")
    assert _booking(reference).status in ("cancelled", "refunded")
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    assert "Your booking is cancelled." in page


def test_history_says_the_status_in_the_words_status_uses(shopper, store, stripe_on):
    reference = _placed(store)
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    history = page.split('id="history-title"', 1)[1]
    assert "Waiting for payment" in history and "Pending" not in page

    shopper.post(f"/shop/bookings/{reference}/pay-test-card", data={"card": "visa"})
    history = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True).split(
        'id="history-title"', 1)[1]
    assert history.index("Waiting for payment") < history.index("Confirmed")
    shopper.set_cookie("bw_language", "de")
    german = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    assert "Wartet auf Zahlung" in german.split('id="history-title"', 1)[1]


def test_outside_the_free_window_there_is_no_cancel(shopper, store, stripe_on):
    db.session.get(Offering, store.offering_id).free_cancellation_hours = 24 * 30
    db.session.commit()
    reference = _placed(store)
    shopper.post(f"/shop/bookings/{reference}/pay-test-card", data={"card": "visa"})

    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    refused = shopper.post(f"/shop/bookings/{reference}/cancel")

    assert _booking(reference).status == "confirmed", page[-3000:]
    assert "Cancel the booking" not in page and "Free cancellation has ended" in page
    assert refused.status_code == 409 and _booking(reference).status == "confirmed"


def test_moving_picks_a_time_of_the_same_offering(shopper, store, build):
    later = build.future_slot(store.offering_id, days=5, capacity=5)
    reference = _placed(store)

    picker = shopper.get(f"/shop/bookings/{reference}/move").get_data(as_text=True)
    assert "Change the time" in picker and "picker-grid" in picker
    moved = shopper.post(f"/shop/bookings/{reference}/move", data={"slot_id": later})

    assert moved.status_code == 303 and _booking(reference).slot_id == later
    assert db.session.get(Slot, store.slot_id).booked == 0
    assert db.session.get(Slot, later).booked == 1


def test_the_calendar_file_describes_the_booking(shopper, store):
    reference = _placed(store)

    response = shopper.get(f"/shop/bookings/{reference}/calendar.ics")

    assert response.status_code == 200 and response.mimetype == "text/calendar"
    event = Calendar.from_ical(response.data).walk("VEVENT")[0]
    booking = _booking(reference)
    assert event.decoded("dtstart") == booking.starts_at
    assert event.decoded("dtend") == booking.ends_at
    assert str(event["uid"]).startswith(reference + "@")
    assert "Sunrise yoga" in str(event["summary"]) and "/shop/b/" in str(event["url"])


def test_receipts_download_for_the_own_booking_only(app, shopper, store, stripe_on, build):
    reference = _placed(store)
    shopper.post(f"/shop/bookings/{reference}/pay-test-card", data={"card": "visa"})
    run_jobs(app)
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    link = re.search(r'href="(/shop/bookings/[^"]+/documents/\d+\.pdf)"', page)
    assert link, "no receipt on the booking page"

    pdf = shopper.get(link.group(1))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    other = _placed(store, customer_id=build.customer())
    foreign = link.group(1).replace(reference, other)
    assert shopper.get(foreign).status_code == 404


def test_my_bookings_upcoming_soonest_first_then_past(shopper, store, build):
    soon = _placed(store)
    later_slot = build.future_slot(store.offering_id, days=9, capacity=5)
    later = bookings.place_booking(customer_id=store.customer_id,
                                   offering_id=store.offering_id, slot_id=later_slot).reference
    two_days_ago = utcnow().replace(microsecond=0) - timedelta(days=2)
    gone_slot = build.slot(store.offering_id, two_days_ago, capacity=5)
    gone = bookings.place_booking(customer_id=store.customer_id, offering_id=store.offering_id,
                                  slot_id=gone_slot, now=two_days_ago - timedelta(days=1)
                                  ).reference

    page = shopper.get("/shop/bookings").get_data(as_text=True)

    upcoming, past = page.split("Past and cancelled")
    assert upcoming.index(soon) < upcoming.index(later)
    assert gone in past and gone not in upcoming
    assert "Waiting for payment" in upcoming and "no_show" not in page
