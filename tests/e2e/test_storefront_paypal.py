"""A customer pays a booking with PayPal in a real browser, both ways the storefront offers:
the plain form ("Pay with PayPal" → PayPal's approval page, the local stand-in's, where the
customer clicks Approve → back to the booking, paid), and PayPal's JS SDK buttons (the
stand-in's minimal double of the SDK: a popup with the approval page, then captured from
the booking's page). A declined capture says what to do next. Screenshots at desktop and
phone sizes (360 and 390 px)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services import bookings
from devservices.paypal_server import CLIENT_ID, CLIENT_SECRET
from tests.e2e.accessibility import assert_accessible
from tests.e2e.shop import sign_in
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


def _signed_in_on_a_booking(page, build) -> str:
    _provider, offering, slots = _studio(build)
    customer = build.customer()
    reference = bookings.place_booking(customer_id=customer, offering_id=offering,
                                       slot_id=slots["sun"]).reference
    sign_in(page, build.email_of(customer))
    page.goto(f"/shop/bookings/{reference}")
    return reference


def test_a_customer_pays_with_paypal_and_comes_back_to_a_paid_booking(page, build,
                                                                       paypal_on):
    reference = _signed_in_on_a_booking(page, build)
    expect(page.locator(".status")).to_have_text("Waiting for payment")
    expect(page.get_by_role("button", name="Pay with PayPal")).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("booking-with-paypal", sizes=SIZES)

    page.get_by_role("button", name="Pay with PayPal").click()

    expect(page.get_by_role("heading", name="Approve your payment")).to_be_visible()
    expect(page.get_by_text("42.00 EUR")).to_be_visible()
    expect(page.get_by_text("Harbor Yoga Studio")).to_be_visible()  # whom PayPal says is paid
    assert _booking(reference).status == "pending"  # opening PayPal's page approves nothing
    page.screenshots.take("paypal-approval-page", sizes=SIZES)
    page.get_by_role("button", name="Approve").click()

    expect(page).to_have_url(f"{page.url.split('/shop/')[0]}/shop/bookings/{reference}")
    expect(page.locator(".flash-success")).to_have_text("Paid with PayPal.")
    expect(page.locator(".status")).not_to_have_text("Waiting for payment")
    expect(page.get_by_text("Paid €42.00 with PayPal")).to_be_visible()
    expect(page.get_by_role("button", name="Pay with PayPal")).to_have_count(0)
    assert _booking(reference).status == "confirmed"
    assert_accessible(page)
    page.screenshots.take("paid-with-paypal", sizes=SIZES)


def test_a_declined_capture_says_to_try_again_with_paypal(page, build, paypal_on):
    reference = _signed_in_on_a_booking(page, build)
    page.get_by_role("button", name="Pay with PayPal").click()
    page.get_by_label("Decline the capture").check()
    page.get_by_role("button", name="Approve").click()

    expect(page).to_have_url(f"{page.url.split('/shop/')[0]}/shop/bookings/{reference}")
    banner = page.locator(".pay [role=alert]")
    expect(banner).to_have_text("The last attempt did not go through: PayPal declined the "
                                "way you chose to pay. You can try again with PayPal and "
                                "choose another way to pay there.")
    expect(page.locator(".flash-success")).to_have_count(0)
    expect(page.get_by_role("button", name="Pay with PayPal")).to_be_visible()
    assert _booking(reference).status == "pending"
    assert_accessible(page)
    page.screenshots.take("declined-at-paypal", sizes=SIZES)

    page.get_by_role("button", name="Deutsch").click()
    expect(page.locator(".pay [role=alert]")).to_have_text(
        "Der letzte Versuch ist nicht durchgegangen: PayPal hat die gewählte Zahlungsart "
        "abgelehnt. Sie können es mit PayPal erneut versuchen und dort eine andere "
        "Zahlungsart wählen.")
    expect(page.get_by_role("button", name="Mit PayPal bezahlen")).to_be_visible()
    page.screenshots.take("declined-at-paypal-german", sizes=SIZES)


@pytest.fixture
def paypal_sdk_on(paypal_on, live_app, monkeypatch):
    """PayPal's JS SDK set: the stand-in's minimal double of it."""
    monkeypatch.setitem(live_app.config, "PAYPAL_JS_SDK_URL", f"{paypal_on.url}/sdk/js")
    return paypal_on


def test_a_customer_pays_through_paypals_js_sdk_buttons(page, build, paypal_sdk_on):
    reference = _signed_in_on_a_booking(page, build)
    policy = page.request.get(f"/shop/bookings/{reference}").headers[
        "content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy and paypal_sdk_on.url in policy
    # The SDK's buttons replace the plain form, beside the card.
    paypal_button = page.locator("#paypal-buttons").get_by_role("button", name="PayPal")
    expect(paypal_button).to_be_visible()
    expect(page.locator(".paypal-form")).to_be_hidden()
    expect(page.get_by_role("group", name="Card")).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("booking-with-paypal-buttons", sizes=SIZES)

    with page.expect_popup() as opened:
        paypal_button.click()
    popup = opened.value
    expect(popup.get_by_role("heading", name="Approve your payment")).to_be_visible()
    expect(popup.get_by_text("42.00 EUR")).to_be_visible()
    assert _booking(reference).status == "pending"
    popup.get_by_role("button", name="Approve").click()

    expect(page.locator(".flash-success")).to_have_text("Paid with PayPal.")
    expect(page).to_have_url(f"{page.url.split('/shop/')[0]}/shop/bookings/{reference}")
    expect(page.get_by_text("Paid €42.00 with PayPal")).to_be_visible()
    assert _booking(reference).status == "confirmed"
    page.screenshots.take("paid-through-paypal-buttons", sizes=SIZES)


def test_closing_paypals_window_keeps_the_hold(page, build, paypal_sdk_on):
    reference = _signed_in_on_a_booking(page, build)
    with page.expect_popup() as opened:
        page.locator("#paypal-buttons").get_by_role("button", name="PayPal").click()
    popup = opened.value
    popup.get_by_role("button", name="Cancel and return to the shop").click()

    expect(page.get_by_text("PayPal payment cancelled; your booking is still held until"))\
        .to_be_visible()
    expect(page.locator("main > .flash")).to_contain_text("(Europe/Berlin)")
    assert _booking(reference).status == "pending"
    page.screenshots.take("cancelled-in-paypals-window", sizes=SIZES)


def test_without_javascript_the_plain_form_still_pays_with_the_sdk_set(browser_page, build,
                                                                       paypal_sdk_on):
    page = browser_page("no-javascript", java_script_enabled=False)
    reference = _signed_in_on_a_booking(page, build)
    expect(page.get_by_role("button", name="Pay with PayPal")).to_be_visible()
    page.screenshots.take("booking-without-javascript", sizes=SIZES)

    page.get_by_role("button", name="Pay with PayPal").click()
    page.get_by_role("button", name="Approve").click()

    expect(page.locator(".flash-success")).to_have_text("Paid with PayPal.")
    assert _booking(reference).status == "confirmed"
    page.screenshots.take("paid-without-javascript", sizes=SIZES)


def test_when_paypals_buttons_cannot_start_the_order_the_page_says_why(page, build,
                                                                       paypal_sdk_on):
    reference = _signed_in_on_a_booking(page, build)
    paypal_button = page.locator("#paypal-buttons").get_by_role("button", name="PayPal")
    expect(paypal_button).to_be_visible()
    booking = _booking(reference)
    booking.status = "expired"  # the hold ran out while the page was open
    db.session.commit()
    page.expect_error_status(f"/shop/bookings/{reference}/paypal-order")

    paypal_button.click()

    expect(page.locator("#paypal-error")).to_have_text(
        "PayPal did not take the payment: This booking cannot be paid online any more.")
    assert _booking(reference).status == "expired"
    page.screenshots.take("paypal-buttons-refused", sizes=SIZES)
