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
    # Said once, in the Pay section, with what to do that fits PayPal.
    assert "The last attempt did not go through: PayPal declined the way you chose to " \
        "pay. You can try again with PayPal and choose another way to pay there." in page, page
    assert "PayPal did not take the payment" not in page
    assert "another card" not in page
    # The approved order could still be captured: no card beside it.
    assert "Pay with PayPal" in page and "with the test card" not in page


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


def test_paypals_buttons_create_the_order_and_capture_it_once_approved(app, shopper, store,
                                                                        paypal_on):
    reference = _placed(store)

    created = shopper.post(f"/shop/bookings/{reference}/paypal-order")
    assert created.status_code == 200
    order_id = created.get_json()["id"]
    assert _state(reference)[1].provider_reference == order_id
    # The same order again (PayPal's buttons may ask twice): nothing new at PayPal.
    assert shopper.post(f"/shop/bookings/{reference}/paypal-order").get_json()["id"] == order_id

    not_approved = shopper.post(f"/shop/bookings/{reference}/paypal-capture",
                                json={"order_id": order_id})
    assert not_approved.status_code == 200
    assert _state(reference)[0].status == "pending"  # the capture route alone pays nothing

    approve(f"{paypal_on.url}/checkoutnow?token={order_id}")
    captured = shopper.post(f"/shop/bookings/{reference}/paypal-capture",
                            json={"order_id": order_id})

    assert captured.get_json() == {"redirect": f"/shop/bookings/{reference}"}
    booking, payment = _state(reference)
    assert (booking.status, payment.status) == ("confirmed", "succeeded")
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    assert '<p class="flash flash-success" role="status">Paid with PayPal.</p>' in page
    paid_again = shopper.post(f"/shop/bookings/{reference}/paypal-order")
    assert paid_again.status_code == 409 and paid_again.get_json()["message"]


def test_paypals_buttons_bad_input_is_refused_and_changes_nothing(app, shopper, store,
                                                                   paypal_on):
    reference = _placed(store)
    order_id = shopper.post(f"/shop/bookings/{reference}/paypal-order").get_json()["id"]
    approve(f"{paypal_on.url}/checkoutnow?token={order_id}")

    for body in (None, {}, {"order_id": ""}, {"order_id": 7}, {"order_id": "x" * 65}):
        answer = shopper.post(f"/shop/bookings/{reference}/paypal-capture", json=body)
        assert answer.status_code == 400, body
        assert answer.get_json()["message"] == "PayPal sent no order back."
    someone_elses = shopper.post(f"/shop/bookings/{reference}/paypal-capture",
                                 json={"order_id": "NOT-OURS"})
    assert someone_elses.status_code == 200
    assert _state(reference)[0].status == "pending"
    stranger = app.test_client()
    assert stranger.post(f"/shop/bookings/{reference}/paypal-capture",
                         json={"order_id": order_id}).status_code == 302  # to sign in
    assert _state(reference)[0].status == "pending"


def test_a_payment_started_with_paypal_is_not_offered_by_card(app, shopper, store, paypal_on,
                                                              monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_TEST_CARDS", True)
    reference = _placed(store)
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    assert "with the test card" in page and "Pay with PayPal" in page  # two equal choices

    shopper.post(f"/shop/bookings/{reference}/pay-paypal")

    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    assert "Pay with PayPal" in page and "with the test card" not in page


def test_the_choice_and_a_declined_paypal_payment_in_german(app, shopper, store, paypal_on):
    db.session.get(Account, store.customer_id).locale = "de"
    db.session.commit()
    reference = _placed(store)
    page = shopper.get(f"/shop/bookings/{reference}").get_data(as_text=True)
    assert "<h3 id=\"pay-card-title\">Karte</h3>" in page
    assert "Sie bestätigen die Zahlung von 42,00" in page

    approval_url = shopper.post(f"/shop/bookings/{reference}/pay-paypal").headers["Location"]
    back = approve(approval_url, decline=True)
    page = shopper.get(f"/shop/bookings/{reference}/paypal-return?token={back['token']}",
                       follow_redirects=True).get_data(as_text=True)

    assert "Der letzte Versuch ist nicht durchgegangen: PayPal hat die gewählte Zahlungsart " \
        "abgelehnt. Sie können es mit PayPal erneut versuchen und dort eine andere " \
        "Zahlungsart wählen." in page, page


def test_a_card_form_from_an_older_page_says_the_payment_is_with_paypal(app, shopper, store,
                                                                       paypal_on, stripe_on):
    """A page opened before PayPal was chosen still shows the card form: sending it is
    refused with the method the payment was started with, and nothing is charged."""
    reference = _placed(store)
    shopper.post(f"/shop/bookings/{reference}/pay-paypal")

    refused = shopper.post(f"/shop/bookings/{reference}/pay")

    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "already been started with PayPal; please finish it there." in page
    assert "by card" not in page
    booking, payment = _state(reference)
    assert booking.status == "pending" and payment.gateway == "paypal"
