"""A customer pays a booking with PayPal in a real browser: "Pay with PayPal" on the
booking page, PayPal's approval page (the local stand-in's: the customer clicks Approve),
and back to the booking, paid. Screenshots at desktop and phone sizes (360 and 390 px)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.services import bookings
from devservices.paypal_server import CLIENT_ID, CLIENT_SECRET
from tests.builders import PASSWORD
from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_storefront import PHONES, _booking, _studio
from tests.fakes.paypal import LocalPayPal

SIZES = {"desktop": {"width": 1280, "height": 800}, **PHONES}


@pytest.fixture
def paypal_on(live_app, live_server, monkeypatch):
    with LocalPayPal(webhook_delay=0) as server:
        for key, value in {"PAYPAL_CLIENT_ID": CLIENT_ID, "PAYPAL_CLIENT_SECRET": CLIENT_SECRET,
                           "PAYPAL_API_BASE": server.url, "PAYPAL_TIMEOUT": 5.0,
                           "PUBLIC_BASE_URL": live_server}.items():
            monkeypatch.setitem(live_app.config, key, value)
        live_app.extensions.pop("bookwell_payment_gateways", None)
        yield server
        live_app.extensions.pop("bookwell_payment_gateways", None)


def test_a_customer_pays_with_paypal_and_comes_back_to_a_paid_booking(page, build,
                                                                       paypal_on):
    _provider, offering, slots = _studio(build)
    customer = build.customer()
    reference = bookings.place_booking(customer_id=customer, offering_id=offering,
                                       slot_id=slots["sun"]).reference
    page.goto("/shop/login")
    page.get_by_label("Email").fill(build.email_of(customer))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/shop/bookings/{reference}")
    expect(page.locator(".status")).to_have_text("Waiting for payment")
    expect(page.get_by_role("button", name="Pay with PayPal")).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("booking-with-paypal", sizes=SIZES)

    page.get_by_role("button", name="Pay with PayPal").click()

    expect(page.get_by_role("heading", name="Approve your payment")).to_be_visible()
    expect(page.get_by_text("42.00 EUR")).to_be_visible()
    assert _booking(reference).status == "pending"  # opening PayPal's page approves nothing
    page.screenshots.take("paypal-approval-page", sizes=SIZES)
    page.get_by_role("button", name="Approve").click()

    expect(page).to_have_url(f"{page.url.split('/shop/')[0]}/shop/bookings/{reference}")
    expect(page.get_by_text("Paid with PayPal.")).to_be_visible()
    expect(page.locator(".status")).not_to_have_text("Waiting for payment")
    expect(page.get_by_text("Paid €42.00 with PayPal")).to_be_visible()
    expect(page.get_by_role("button", name="Pay with PayPal")).to_have_count(0)
    assert _booking(reference).status == "confirmed"
    assert_accessible(page)
    page.screenshots.take("paid-with-paypal", sizes=SIZES)
