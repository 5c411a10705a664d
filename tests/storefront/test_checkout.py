"""Booking through the storefront: first touch, consent and the request into Attribution;
sign-in, ownership, and domain errors as pages."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Attribution, Booking
from app.services import bookings
from tests.storefront.conftest import sign_in

FIRST_TOUCH = "bw_first_touch"
BROWSER = {"User-Agent": "StoreBrowser/1.0", "Referer": "https://www.tiktok.com/foryou"}
LANDING = ("/shop/?utm_source=tiktok&utm_medium=paid_social&utm_campaign=spring"
           "&utm_term=yoga&utm_content=video-1&ttclid=E.C.P.click-1")


def book(client, store, quantity=1, **extra):
    return client.post(f"/shop/offerings/{store.offering_id}/book",
                       data={"slot_id": store.slot_id, "quantity": quantity},
                       environ_base={"REMOTE_ADDR": "203.0.113.9"}, **extra)


def reference_of(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert location.startswith("/shop/bookings/"), location
    return location.rsplit("/", 1)[1]


def login_next(response) -> str | None:
    assert response.status_code == 302
    parts = urlsplit(response.headers["Location"])
    assert parts.path == "/shop/login", response.headers["Location"]
    return parse_qs(parts.query).get("next", [None])[0]


def attribution_of(reference: str) -> Attribution:
    db.session.expire_all()
    return db.session.scalar(select(Attribution).join(Booking).where(
        Booking.reference == reference))


def test_the_first_landing_is_kept(app, store):
    client = app.test_client()
    client.get(LANDING, headers=BROWSER)
    client.get("/shop/?utm_source=newsletter&ttclid=other", headers={"Referer": "https://mail"})
    client.get(f"/shop/offerings/{store.offering_id}")
    with client.session_transaction() as session:
        touch = session[FIRST_TOUCH]
    assert touch["utm_source"] == "tiktok" and touch["ttclid"] == "E.C.P.click-1"
    assert touch["landing_url"] == "http://localhost" + LANDING
    assert touch["referrer"] == BROWSER["Referer"]


def test_a_visit_without_campaign_stores_nothing(app, store):
    client = app.test_client()
    client.get(f"/shop/offerings/{store.offering_id}?q=yoga")
    with client.session_transaction() as session:
        assert FIRST_TOUCH not in session


@pytest.mark.parametrize("choice, consent", [("granted", True), ("denied", False),
                                             (None, False)])
def test_a_storefront_booking_stores_its_attribution(app, store, choice, consent):
    client = app.test_client()
    client.get(LANDING, headers=BROWSER)
    if choice:
        client.set_cookie("bw_consent", choice)
    client.set_cookie("_ttp", "ttp-cookie-1")
    sign_in(client, store.customer_email)  # signing in keeps the first touch
    reference = reference_of(book(client, store, headers={"User-Agent": "StoreBrowser/1.0"}))

    row = attribution_of(reference)
    assert (row.utm_source, row.utm_medium, row.utm_campaign, row.utm_term,
            row.utm_content) == ("tiktok", "paid_social", "spring", "yoga", "video-1")
    assert (row.ttclid, row.ttp) == ("E.C.P.click-1", "ttp-cookie-1")
    assert row.landing_url == "http://localhost" + LANDING
    assert row.referrer == BROWSER["Referer"]
    assert row.consent is consent
    assert (row.ip, row.user_agent) == ("203.0.113.9", "StoreBrowser/1.0")
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert (booking.customer_id, booking.slot_id, booking.status) == (
        store.customer_id, store.slot_id, "pending")


def test_a_booking_without_a_campaign_still_records_the_request(shopper, store):
    reference = reference_of(book(shopper, store, headers={"User-Agent": "B/2"}))
    row = attribution_of(reference)
    assert (row.utm_source, row.ttclid, row.ttp, row.landing_url) == (None, None, None, None)
    assert (row.consent, row.ip, row.user_agent) == (False, "203.0.113.9", "B/2")


def test_the_booking_page_shows_the_hold(shopper, store):
    reference = reference_of(book(shopper, store, quantity=2))
    page = shopper.get(f"/shop/bookings/{reference}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert reference in text and "pending" in text and "€84.00" in text
    assert "We hold your place until" in text
    assert reference in shopper.get("/shop/bookings").get_data(as_text=True)


def test_a_product_variant_is_booked(build, shopper, store):
    product = build.offering(store.provider_id, kind="product", name="Mat", price_minor=1999)
    variant = build.variant(product, name="Blue", stock=3)
    page = shopper.get(f"/shop/offerings/{product}").get_data(as_text=True)
    assert f'name="variant_id" value="{variant}"' in page
    response = shopper.post(f"/shop/offerings/{product}/book",
                            data={"variant_id": variant, "quantity": 2})
    booking = db.session.scalar(select(Booking).where(
        Booking.reference == reference_of(response)))
    assert (booking.variant_id, booking.quantity, booking.total_minor) == (variant, 2, 3998)


# --- signing in --------------------------------------------------------------------------

def test_booking_needs_a_signed_in_customer(app, store):
    client = app.test_client()
    offering_page = f"/shop/offerings/{store.offering_id}"
    response = book(client, store, headers={"Referer": "http://localhost" + offering_page})
    assert response.status_code == 302
    assert login_next(response) == offering_page
    assert db.session.scalar(select(Booking.id)) is None

    listing = client.get("/shop/bookings")
    assert login_next(listing) == "/shop/bookings"
    back = sign_in(client, store.customer_email, next=offering_page)
    assert back.headers["Location"] == offering_page


def test_sign_in_refuses_a_wrong_password_and_foreign_next(app, store):
    client = app.test_client()
    wrong = client.post("/shop/login", data={"email": store.customer_email, "password": "x"})
    assert wrong.status_code == 401 and "Email or password is wrong." in wrong.get_data(
        as_text=True)
    ok = sign_in(client, store.customer_email, next="//evil.example/")
    assert ok.headers["Location"] == "/shop/"


def test_staff_sign_in_to_the_console_not_the_storefront(app, build, store):
    staff_email = build.email_of(build.staff(store.provider_id))
    response = app.test_client().post("/shop/login", data={"email": staff_email,
                                                           "password": "correct-horse-battery"})
    assert response.status_code == 401 and "console" in response.get_data(as_text=True)


def test_a_storefront_customer_still_has_no_console(shopper):
    # Signed in (the session is Flask-AppBuilder's too), but without a console permission.
    assert shopper.get("/bookingview/list/").status_code == 403
    assert shopper.get("/users/userinfo/").status_code in (302, 403)


def test_sign_out(shopper):
    assert shopper.post("/shop/logout").status_code == 302
    assert shopper.get("/shop/bookings").status_code == 302


def test_register_answers_a_new_and_a_registered_address_alike(app, store):
    form = {"email": "new@example.com", "password": "a-long-enough-password",
            "first_name": "Nia", "last_name": "New"}
    client = app.test_client()
    new = client.post("/shop/register", data=form)
    taken = app.test_client().post("/shop/register", data=dict(form, first_name="Mallory"))

    for response in (new, taken):
        assert response.status_code == 302
        assert response.headers["Location"] == "/shop/login"
    assert client.get("/shop/bookings").status_code == 302  # not signed in by registering
    page = app.test_client().post("/shop/register", data=form, follow_redirects=True)
    assert "Registration received" in page.get_data(as_text=True)
    assert db.session.query(Account).filter_by(email="new@example.com").count() == 1
    sign_in(client, "new@example.com", "a-long-enough-password")
    assert client.get("/shop/bookings").status_code == 200


def test_sign_in_is_rate_limited(app, store):
    client = app.test_client()
    statuses = [client.post("/shop/login", data={"email": store.customer_email,
                                                 "password": "wrong"}).status_code
                for _ in range(6)]
    assert statuses == [401] * 5 + [429]


# --- ownership and domain errors ---------------------------------------------------------

def test_another_customers_booking_is_not_found(app, build, shopper, store):
    reference = reference_of(book(shopper, store))
    other = app.test_client()
    sign_in(other, build.email_of(build.customer()))
    for path in ("", "/paid"):
        assert other.get(f"/shop/bookings/{reference}{path}").status_code == 404
    assert other.post(f"/shop/bookings/{reference}/pay-test-card",
                      data={"card": "visa"}).status_code == 404


def test_a_full_slot_is_a_page_with_409(build, shopper, store):
    full = build.future_slot(store.offering_id, days=4, capacity=1, booked=1)
    response = shopper.post(f"/shop/offerings/{store.offering_id}/book",
                            data={"slot_id": full, "quantity": 1})
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    assert '<main id="main">' in response.get_data(as_text=True)  # in the shop's layout


def test_bad_form_values_are_a_page_not_a_500(shopper, store):
    response = shopper.post(f"/shop/offerings/{store.offering_id}/book",
                            data={"slot_id": "abc", "quantity": 1})
    assert response.status_code == 422
    too_many = book(shopper, store, quantity=101)
    assert too_many.status_code == 422 and "Choose between 1 and 100." in too_many.get_data(
        as_text=True)


def test_pay_at_venue_bookings_say_so(build, shopper, store):
    venue = build.offering(store.provider_id, price_minor=3000, pay_at_venue=True)
    slot = build.future_slot(venue, days=5)
    placed = bookings.place_booking(customer_id=store.customer_id, offering_id=venue,
                                    slot_id=slot)
    text = shopper.get(f"/shop/bookings/{placed.reference}").get_data(as_text=True)
    assert "You pay at the venue" in text and "with the test card" not in text


def test_a_double_submit_of_the_offering_page_books_once(shopper, store):
    import re

    page = shopper.get(f"/shop/offerings/{store.offering_id}/review?slot_id={store.slot_id}"
                       "&quantity=1").get_data(as_text=True)
    token = re.search(r'name="submission" value="([0-9a-f]+)"', page).group(1)
    form = {"slot_id": store.slot_id, "quantity": 1, "submission": token}
    first = shopper.post(f"/shop/offerings/{store.offering_id}/book", data=form)
    again = shopper.post(f"/shop/offerings/{store.offering_id}/book", data=form)

    assert reference_of(first) == reference_of(again)
    assert db.session.query(Booking).count() == 1
    changed = shopper.post(f"/shop/offerings/{store.offering_id}/book",
                           data=dict(form, quantity=2))
    assert changed.status_code == 422  # the same form sent with another quantity
    assert db.session.query(Booking).count() == 1
