"""The TikTok Pixel (only with consent and a code; events with the server's event id),
paying with a test card, and the forms' CSRF protection."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, Provider
from app.services.conversions import event_id_for
from tests.builders import PASSWORD
from tests.storefront.conftest import sign_in
from tests.views.console import csrf_token

PIXEL = "analytics.tiktok.com"


@pytest.fixture
def pixel_code(app, monkeypatch):
    monkeypatch.setitem(app.config, "TIKTOK_PIXEL_CODE", "C0TEST")
    return "C0TEST"


def placed(client, store) -> str:
    response = client.post(f"/shop/offerings/{store.offering_id}/book",
                           data={"slot_id": store.slot_id, "quantity": 1})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"].rsplit("/", 1)[1]


def tracked(page: str, event: str) -> str | None:
    match = re.search(r'ttq\.track\("' + event + r'", (.*)\);', page)
    return match.group(1) if match else None


# --- the Pixel ---------------------------------------------------------------------------

def _scripts_not_ours(page: str) -> list[str]:
    """Script tags other than the storefront's own files (inline ones included)."""
    return [tag for tag in re.findall(r"<script[^>]*>", page)
            if not re.search(r'src="/(?!/)', tag)]


def test_no_pixel_without_consent(app, store, pixel_code):
    for consent in (None, "denied"):
        client = app.test_client()
        if consent:
            client.set_cookie("bw_consent", consent)
        page = client.get(f"/shop/offerings/{store.offering_id}").get_data(as_text=True)
        assert not _scripts_not_ours(page) and "ttq" not in page


def test_no_pixel_without_a_code(app, store):
    client = app.test_client()
    client.set_cookie("bw_consent", "granted")
    for path in ("/shop/", f"/shop/offerings/{store.offering_id}"):
        page = client.get(path).get_data(as_text=True)
        # The search page has a script of its own (near_me.js), never the Pixel's.
        assert not _scripts_not_ours(page) and "ttq" not in page
        assert "tiktok" not in page.lower()


def test_offering_pages_fire_view_content(app, store, pixel_code):
    client = app.test_client()
    client.set_cookie("bw_consent", "granted")
    page = client.get(f"/shop/offerings/{store.offering_id}").get_data(as_text=True)
    assert PIXEL in page and 'ttq.load("C0TEST");' in page and "ttq.page();" in page
    assert tracked(page, "ViewContent") == (
        f'{{"content_id": "offering-{store.offering_id}", "content_name": "Sunrise yoga", '
        f'"content_type": "product", "currency": "EUR", "value": 42.0}}')


def test_a_providers_own_code_overrides_the_platforms(app, store, pixel_code):
    provider = db.session.get(Provider, store.provider_id)
    provider.tiktok_pixel_code = "CPROVIDER"
    db.session.commit()
    client = app.test_client()
    client.set_cookie("bw_consent", "granted")
    offering_page = client.get(f"/shop/offerings/{store.offering_id}").get_data(as_text=True)
    assert 'ttq.load("CPROVIDER");' in offering_page and "C0TEST" not in offering_page
    listing = client.get("/shop/").get_data(as_text=True)  # no provider: the platform's
    assert 'ttq.load("C0TEST");' in listing


def test_values_placed_in_javascript_are_escaped(app, build, store, pixel_code):
    offering = build.offering(store.provider_id, name='</script><script>alert("x")</script>')
    client = app.test_client()
    client.set_cookie("bw_consent", "granted")
    page = client.get(f"/shop/offerings/{offering}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "\\u003c/script\\u003e" in page


def test_the_booking_page_fires_initiate_checkout(app, shopper, store, pixel_code):
    shopper.set_cookie("bw_consent", "granted")
    reference = placed(shopper, store)
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    checkout = tracked(page, "InitiateCheckout")
    assert f'"content_id": "offering-{store.offering_id}"' in checkout
    assert '"quantity": 1' in checkout and '"value": 42.0' in checkout
    assert tracked(page, "CompletePayment") is None


def test_the_consent_banner_until_a_choice(app, store, pixel_code):
    client = app.test_client()
    assert 'action="/shop/consent"' in client.get("/shop/").get_data(as_text=True)
    response = client.post("/shop/consent", data={"choice": "granted",
                                                  "next": f"/shop/offerings/{store.offering_id}"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/shop/offerings/{store.offering_id}"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("bw_consent=granted;") and "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie
    assert 'action="/shop/consent"' not in client.get("/shop/").get_data(as_text=True)

    declined = app.test_client().post("/shop/consent", data={"choice": "denied",
                                                             "next": "https://evil.example/"})
    assert declined.headers["Location"] == "/shop/"
    assert declined.headers["Set-Cookie"].startswith("bw_consent=denied;")


# --- paying ------------------------------------------------------------------------------

def booking_status(reference: str) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Booking.status).where(Booking.reference == reference))


def test_a_test_card_payment_confirms_and_fires_complete_payment(
        app, shopper, store, stripe_on, pixel_code):
    shopper.set_cookie("bw_consent", "granted")
    reference = placed(shopper, store)
    assert "with the test card" in shopper.get(f"/shop/bookings/{reference}").get_data(
        as_text=True)
    response = shopper.post(f"/shop/bookings/{reference}/pay-test-card", data={"card": "visa"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/shop/bookings/{reference}/paid"
    assert booking_status(reference) == "confirmed"

    page = shopper.get(f"/shop/bookings/{reference}/paid").get_data(as_text=True)
    assert "Payment received" in page
    assert event_id_for(reference, "CompletePayment") == f"{reference}-CompletePayment"
    assert f'{{"event_id": "{reference}-CompletePayment"}}' in page
    assert '"value": 42.0' in tracked(page, "CompletePayment")


def test_the_paid_page_without_consent_has_no_pixel(app, shopper, store, stripe_on,
                                                     pixel_code):
    reference = placed(shopper, store)
    shopper.post(f"/shop/bookings/{reference}/pay-test-card", data={"card": "visa"})
    page = shopper.get(f"/shop/bookings/{reference}/paid").get_data(as_text=True)
    assert "Payment received" in page and not _scripts_not_ours(page)


def test_a_declined_card_says_why_and_keeps_the_place(app, shopper, store, stripe_on,
                                                      pixel_code):
    shopper.set_cookie("bw_consent", "granted")
    reference = placed(shopper, store)
    response = shopper.post(f"/shop/bookings/{reference}/pay-test-card",
                            data={"card": "declined"}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    # Told once, in the Pay section, in the customer's words (not the gateway's).
    assert text.count("did not go through") == 1, text
    assert "The last attempt did not go through: Your bank declined the card. You can try " \
        "again with another card." in text
    assert "Your card was declined" not in text and "declined.." not in text
    assert booking_status(reference) == "pending"
    paid = shopper.get(f"/shop/bookings/{reference}/paid").get_data(as_text=True)
    assert "Payment received" not in paid and "CompletePayment" not in paid
    # It says the payment did not come, and does not pretend to wait for it.
    assert "Payment not received" in paid and "Processing" not in paid
    assert "refreshes by itself" not in paid and 'http-equiv="refresh"' not in paid


def test_without_test_cards_the_card_form_uses_stripe_js(app, shopper, store, stripe_on,
                                                         monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_TEST_CARDS", False)
    reference = placed(shopper, store)
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    assert "with the test card" not in page and f"/shop/bookings/{reference}/pay" in page
    assert shopper.post(f"/shop/bookings/{reference}/pay-test-card").status_code == 404
    form = shopper.post(f"/shop/bookings/{reference}/pay").get_data(as_text=True)
    assert re.search(r'<script src="https://js.stripe.com/v3/" nonce="[^"]+"></script>', form)
    assert 'Stripe("pk_test_local")' in form
    assert re.search(r'confirmCardPayment\("pi_[^"]+_secret_[^"]+"', form)
    assert f'"/shop/bookings/{reference}/paid"' in form
    processing = shopper.get(f"/shop/bookings/{reference}/paid").get_data(as_text=True)
    assert "Processing" in processing and "Payment received" not in processing


# --- CSRF --------------------------------------------------------------------------------

def test_the_forms_carry_a_csrf_token(csrf_app, store):
    client = csrf_app.test_client()
    landing = client.get(f"/shop/offerings/{store.offering_id}")
    assert client.post("/shop/consent", data={"choice": "granted"}).status_code == 400
    consent = client.post("/shop/consent", data={"choice": "granted",
                                                 "csrf_token": csrf_token(landing)})
    assert consent.status_code == 302

    login_page = client.get("/shop/login")
    assert client.post("/shop/login", data={"email": store.customer_email,
                                            "password": PASSWORD}).status_code == 400
    sign_in(client, store.customer_email, csrf_token=csrf_token(login_page))

    offering_page = client.get(f"/shop/offerings/{store.offering_id}")
    data = {"slot_id": store.slot_id, "quantity": 1}
    refused = client.post(f"/shop/offerings/{store.offering_id}/book", data=data)
    assert refused.status_code == 400
    booked = client.post(f"/shop/offerings/{store.offering_id}/book",
                         data={**data, "csrf_token": csrf_token(offering_page)})
    assert booked.status_code == 302 and "/shop/bookings/" in booked.headers["Location"]
