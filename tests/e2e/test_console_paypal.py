"""PayPal payments in the console, in a browser: the payments list beside Stripe and
manual ones, a PayPal payment refunded in part from its page, a disputed one and one
PayPal reversed (flagged), and the PayPal-paid booking's page, at desktop and phone sizes.

The customer pays through the API against the local PayPal stand-in; the console (the
served app) is pointed at the same stand-in, so a refund from the console goes to it and
comes back. What PayPal later says (a dispute, a reversal) is caught from the stand-in's
signed deliveries and posted to the webhook endpoint, then processed by the jobs.
"""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Payment
from app.models.types import utcnow
from app.services import bookings
from tests.conftest import paypal_settings
from tests.e2e.console import open_tab, sign_in
from tests.fakes.paypal import caught_deliveries
from tests.integration.paypal_events import pay_with_paypal
from tests.payments.conftest import run_payment_jobs

PHONE = {"width": 390, "height": 844}
# A time as the console writes it, on the studio's clock with its zone: "2026-12-06 07:45 CET".
LOCAL_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T")


@pytest.fixture
def console_on_paypal(live_app, paypal_on, monkeypatch):
    """The served console pointed at the same stand-in as the test app."""
    with paypal_settings(live_app, paypal_on, monkeypatch):
        yield paypal_on


@pytest.fixture
def paypal_deliveries(paypal_on):
    """PayPal's signed deliveries from here on, caught to be posted by the test."""
    with caught_deliveries(paypal_on) as receiver:
        yield receiver


@pytest.fixture
def studio(build):
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    return {"provider": provider,
            "offering": build.offering(provider, name="Evening flow", price_minor=4200,
                                       currency="EUR", free_cancellation_hours=24),
            "staff_email": build.email_of(build.staff(provider)),
            "customer": build.customer()}


# Each booking its own slot, a day apart: a slot's start is unique per offering.
_slot_days = iter(range(2, 200))


def _placed(build, studio) -> tuple[int, str]:
    slot = build.future_slot(studio["offering"], days=next(_slot_days), capacity=10)
    placed = bookings.place_booking(customer_id=studio["customer"],
                                    offering_id=studio["offering"], slot_id=slot)
    return placed.id, placed.reference


def _paid_with_paypal(client, build, studio, paypal) -> dict:
    """A 42.00 EUR booking paid with PayPal through the API, approved on the stand-in."""
    booking_id, reference = _placed(build, studio)
    payment_id, order_id = pay_with_paypal(client, reference, studio["customer"])
    return {"booking_id": booking_id, "reference": reference,
            "payment_id": payment_id, "order_id": order_id,
            "capture_id": paypal.ledger.order(order_id).capture_id}


def _paid_as_row(build, studio, gateway: str, method: str, reference: str | None) -> str:
    """A succeeded payment of another gateway, stored as a row (no gateway involved)."""
    booking_id, booking_reference = _placed(build, studio)
    db.session.add(Payment(provider_id=studio["provider"], booking_id=booking_id,
                           gateway=gateway, method=method, provider_reference=reference,
                           amount_minor=4200, received_minor=4200, currency="EUR",
                           status="succeeded", succeeded_at=utcnow()))
    db.session.commit()
    return booking_reference


def _deliver(app, client, receiver, event_type: str) -> None:
    """Post PayPal's next delivery of ``event_type`` (skipping others) and process it."""
    while True:
        delivery = receiver.next_delivery()
        if json.loads(delivery.body)["event_type"] == event_type:
            break
    headers = {k: v for k, v in delivery.headers.items() if k.lower().startswith("paypal-")}
    answer = client.post("/api/v1/webhooks/paypal", data=delivery.body,
                         headers={**headers, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.get_json()
    run_payment_jobs(app)


def _assert_reads_well(locator) -> None:
    """No raw None, no amount in minor units, no gateway code where a person reads it."""
    text = locator.inner_text()
    assert not re.search(r"\bNone\b", text), text
    assert not re.search(r"\b(4200|1250|2950)\b", text), text
    assert not re.search(r"\bpaypal\b", text), text  # "PayPal", never the code


def _fits_the_phone(page) -> None:
    size_before = page.viewport_size
    page.set_viewport_size(PHONE)
    too_wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                     && !e.parentElement.closest('.table-responsive'))
        .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
    assert not too_wide, too_wide
    # A show page's table scrolling sideways hides the end of a value (a dispute's reason).
    scrolling = page.evaluate("""() => [...document.querySelectorAll('.table-responsive')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).length""")
    assert not scrolling, f"{scrolling} tables wider than the phone"
    page.set_viewport_size(size_before)


def _row(page, text: str):
    """The innermost table row holding ``text`` (the list sits in layout tables)."""
    return page.get_by_role("row").filter(has_text=text).filter(has_not=page.locator("tr"))


def _show_payment(page, payment_id: int) -> None:
    page.goto(f"/paymentview/show/{payment_id}")
    expect(page.get_by_role("heading", name="Payment", exact=True).first).to_be_visible()


def test_staff_see_a_paypal_payment_among_stripe_and_manual_ones(
        page, client, build, studio, console_on_paypal):
    paypal = _paid_with_paypal(client, build, studio, console_on_paypal)
    by_card = _paid_as_row(build, studio, "stripe", "card", "pi_console_paypal_list")
    at_venue = _paid_as_row(build, studio, "manual", "cash", None)
    sign_in(page, studio["staff_email"])

    page.goto("/paymentview/list/")
    page.screenshots.take("payments")
    paypal_row = _row(page, paypal["reference"])
    expect(paypal_row).to_contain_text("PayPal")
    expect(paypal_row).to_contain_text("42.00 EUR")
    expect(paypal_row).to_contain_text(LOCAL_TIME)
    expect(_row(page, by_card)).to_contain_text("Stripe")
    expect(_row(page, at_venue)).to_contain_text("At the venue")
    _assert_reads_well(page.locator("table.table", has=paypal_row))
    _fits_the_phone(page)

    page.goto("/paymentview/list/?_flt_0_gateway=paypal")
    page.get_by_role("link", name="Search").click()  # unfold the search form
    expect(page.locator("#accordion1_href")).to_have_class("panel-collapse collapse in")
    page.screenshots.take("payments-paypal-only")
    # The applied filter names the gateway as the list does.
    expect(page.locator("#filter_form")).to_contain_text("PayPal")
    expect(page.locator("#filter_form option:checked", has_text="PayPal")).to_have_count(1)
    _fits_the_phone(page)
    expect(_row(page, paypal["reference"])).to_have_count(1)
    expect(_row(page, by_card)).to_have_count(0)
    expect(_row(page, at_venue)).to_have_count(0)


def test_staff_refund_part_of_a_paypal_payment_from_its_page(
        page, client, build, studio, console_on_paypal):
    paypal = _paid_with_paypal(client, build, studio, console_on_paypal)
    sign_in(page, studio["staff_email"])

    _show_payment(page, paypal["payment_id"])
    page.screenshots.take("paid")
    details = page.locator("#Home")
    expect(details).to_contain_text("PayPal")
    expect(details).to_contain_text("42.00 EUR")
    expect(details).to_contain_text(paypal["order_id"])  # the order id, to find it at PayPal
    expect(details).to_contain_text(LOCAL_TIME)
    _assert_reads_well(details)

    page.locator("#partial-refund").click()
    expect(page.locator("#refundable")).to_have_text("42.00 EUR")
    expect(page.locator(".refund-summary")).to_contain_text("42.00 EUR · PayPal")
    page.get_by_label("Amount").fill("12.50")
    page.get_by_label("Reason").fill("Class started late")
    page.screenshots.take("refund-form")
    page.get_by_role("button", name="Refund").click()

    expect(page.get_by_text(f"{paypal['reference']}: refund of 12.50 EUR succeeded."))\
        .to_be_visible()
    details = page.locator("#Home")
    expect(details).to_contain_text("12.50 EUR")  # refunded so far
    _assert_reads_well(details)
    capture = console_on_paypal.ledger.capture_of(paypal["capture_id"])
    assert capture.status == "PARTIALLY_REFUNDED"  # the stand-in was asked, not a mock

    open_tab(page, "Refunds")
    page.screenshots.take("refunded")
    refund_row = _row(page, "Class started late")
    expect(refund_row).to_contain_text("12.50 EUR")
    expect(refund_row).to_contain_text(f"{paypal['reference']} (PayPal, 42.00 EUR)")
    expect(refund_row).to_contain_text("Succeeded")
    expect(refund_row).to_contain_text(LOCAL_TIME)
    _assert_reads_well(page.locator(".tab-content"))
    _fits_the_phone(page)


def test_a_disputed_and_a_reversed_paypal_payment_are_flagged_on_their_pages(
        page, app, client, build, studio, console_on_paypal, paypal_deliveries):
    disputed = _paid_with_paypal(client, build, studio, console_on_paypal)
    reversed_ = _paid_with_paypal(client, build, studio, console_on_paypal)
    opened = console_on_paypal.open_dispute(disputed["capture_id"], value="42.00")
    _deliver(app, client, paypal_deliveries, "CUSTOMER.DISPUTE.CREATED")
    console_on_paypal.reverse(reversed_["capture_id"])
    _deliver(app, client, paypal_deliveries, "PAYMENT.CAPTURE.REVERSED")
    sign_in(page, studio["staff_email"])

    _show_payment(page, disputed["payment_id"])
    page.screenshots.take("disputed")
    details = page.locator("#Home")
    note = f"PayPal dispute {opened['dispute_id']} over 42.00 EUR"
    expect(details).to_contain_text(note)
    expect(page.locator(".payment-attention")).to_be_visible()
    expect(page.locator(".payment-attention")).to_contain_text(note)
    _assert_reads_well(details)
    _fits_the_phone(page)

    _show_payment(page, reversed_["payment_id"])
    page.screenshots.take("reversed")
    expect(page.locator(".payment-attention")).to_contain_text("PayPal reversed 42.00 EUR")
    _assert_reads_well(page.locator("#Home"))
    open_tab(page, "Refunds")
    reversal = _row(page, "reversed")
    expect(reversal).to_contain_text("42.00 EUR")
    expect(reversal).to_contain_text("Succeeded")
    _assert_reads_well(page.locator(".tab-content"))
    page.screenshots.take("reversed-refunds")

    page.goto("/paymentview/list/")
    for paid in (disputed, reversed_):
        expect(_row(page, paid["reference"])).to_contain_text("PayPal")
    page.screenshots.take("flagged-in-the-list")


def test_the_paypal_paid_booking_shows_its_payment_and_refunds(
        page, client, build, studio, console_on_paypal):
    paypal = _paid_with_paypal(client, build, studio, console_on_paypal)
    sign_in(page, studio["staff_email"])

    page.goto(f"/bookingview/show/{paypal['booking_id']}")
    page.screenshots.take("booking-paid")
    payments = page.locator("#payments")
    expect(payments).to_contain_text("42.00 EUR")
    expect(payments).to_contain_text("PayPal")
    expect(payments).to_contain_text("can still refund 42.00 EUR")
    payments.get_by_label("Amount (EUR)").fill("12.50")
    payments.get_by_label("Reason").fill("Class started late")
    payments.get_by_role("button", name="Refund").click()

    expect(page.locator("#payments")).to_contain_text("can still refund 29.50 EUR")
    refunds = page.locator(".booking-refunds")
    expect(refunds).to_contain_text("12.50 EUR")
    expect(refunds).to_contain_text("Class started late")
    expect(refunds.locator(".status")).to_have_text("Refunded")  # not the payment's "Paid"
    expect(refunds).to_contain_text(re.compile(r"\d\d:\d\d CES?T"))
    expect(page.locator("#payments .booking-payment")).to_contain_text(
        re.compile(r"paid \w{3} \d\d \w{3} \d{4}, \d\d:\d\d CES?T"))
    _assert_reads_well(page.locator("#payments"))
    page.screenshots.take("booking")
    _fits_the_phone(page)
