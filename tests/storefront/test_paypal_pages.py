"""Paying a booking with PayPal from its storefront page: "Pay with PayPal" goes to PayPal's
approval page (the local stand-in, through PayPal's SDK), the way back captures and says
how it went, and cancelling at PayPal keeps the booking's hold."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Booking
from app.models.payments import Payment
from app.services import bookings
from tests.fakes.paypal import approve


def _placed(store) -> str:
    return bookings.place_booking(customer_id=store.customer_id, offering_id=store.offering_id,
                                  slot_id=store.slot_id).reference


def _state(reference):
    db.session.expire_all()
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking.id))
    return booking, payment


def _local(url: str) -> str:
    """The address PayPal sends the browser back to, as the test client takes it."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_the_booking_page_offers_paypal_beside_the_card(app, shopper, store, paypal_on):
    reference = _placed(store)
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    assert "Pay with PayPal" in page
    assert f'action="/shop/bookings/{reference}/pay-paypal"' in page


def test_without_paypal_set_up_there_is_no_paypal_button(app, shopper, store, monkeypatch):
    monkeypatch.setitem(app.config, "PAYPAL_CLIENT_ID", None)
    reference = _placed(store)
    assert "Pay with PayPal" not in shopper.get(f"/shop/bookings/{reference}").get_data(
        as_text=True)


def test_start_approve_return_confirms_and_the_page_says_paypal(app, shopper, store,
                                                                 paypal_on):
    reference = _placed(store)

    started = shopper.post(f"/shop/bookings/{reference}/pay-paypal")
    assert started.status_code == 302
    approval_url = started.headers["Location"]
    assert approval_url.startswith(paypal_on.url + "/checkoutnow?token=")
    assert _state(reference)[0].status == "pending"

    back = approve(approval_url)
    page = shopper.get(f"/shop/bookings/{reference}/paypal-return?token={back['token']}"
                       f"&PayerID={back['PayerID']}",
                       follow_redirects=True).get_data(as_text=True)

    booking, payment = _state(reference)
    assert (booking.status, payment.gateway, payment.status, payment.received_minor) == (
        "confirmed", "paypal", "succeeded", 4200)
    assert "Paid with PayPal." in page
    assert "Paid €42.00 with PayPal" in page or "Paid 42.00" in page, page
    assert "Pay with PayPal" not in page


def test_cancelling_at_paypal_keeps_the_hold_and_says_until_when(app, shopper, store,
                                                                  paypal_on):
    reference = _placed(store)
    approval_url = shopper.post(f"/shop/bookings/{reference}/pay-paypal").headers["Location"]
    token = parse_qs(urlsplit(approval_url).query)["token"][0]
    back = requests.get(f"{paypal_on.url}/checkoutnow/cancel?token={token}",
                        allow_redirects=False, timeout=10).headers["Location"]
    assert urlsplit(back).path == f"/shop/bookings/{reference}/paypal-cancel"

    page = shopper.get(_local(back), follow_redirects=True).get_data(as_text=True)

    booking, payment = _state(reference)
    assert (booking.status, payment.status) == ("pending", "requires_payment")
    assert "PayPal payment cancelled; your booking is still held until" in page
    assert "Europe/Berlin" in page or "CET" in page or "CEST" in page or "UTC" in page, page
    assert "Pay with PayPal" in page  # still payable


def test_a_return_without_approval_pays_nothing_and_says_so_in_german(app, shopper, store,
                                                                      paypal_on):
    db.session.get(Account, store.customer_id).locale = "de"
    db.session.commit()
    reference = _placed(store)
    approval_url = shopper.post(f"/shop/bookings/{reference}/pay-paypal").headers["Location"]
    token = parse_qs(urlsplit(approval_url).query)["token"][0]

    page = shopper.get(f"/shop/bookings/{reference}/paypal-return?token={token}",
                       follow_redirects=True).get_data(as_text=True)

    assert _state(reference)[0].status == "pending"
    assert "PayPal hat die Zahlung nicht angenommen: Sie wurde bei PayPal noch nicht " \
        "bestätigt." in page, page


def test_a_declined_paypal_payment_says_why_and_can_be_approved_again(app, shopper, store,
                                                                       paypal_on):
    reference = _placed(store)
    approval_url = shopper.post(f"/shop/bookings/{reference}/pay-paypal").headers["Location"]
    back = approve(approval_url, decline=True)

    page = shopper.get(f"/shop/bookings/{reference}/paypal-return?token={back['token']}",
                       follow_redirects=True).get_data(as_text=True)

    assert _state(reference)[0].status == "pending"
    assert "PayPal did not take the payment: PayPal declined the way you chose to pay." in page


def test_another_customers_order_or_a_strangers_return_changes_nothing(app, shopper, store,
                                                                       paypal_on, build):
    reference = _placed(store)
    approval_url = shopper.post(f"/shop/bookings/{reference}/pay-paypal").headers["Location"]
    approve(approval_url)

    page = shopper.get(f"/shop/bookings/{reference}/paypal-return?token=NOT-OURS",
                       follow_redirects=True).get_data(as_text=True)
    assert "PayPal did not take the payment: That PayPal payment is not this booking" in page
    assert _state(reference)[0].status == "pending"

    stranger = app.test_client()
    assert stranger.get(f"/shop/bookings/{reference}/paypal-return?token=x").status_code == 302
    assert _state(reference)[0].status == "pending"
