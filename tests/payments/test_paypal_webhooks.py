"""POST /api/v1/webhooks/paypal: confirmed by PayPal's verify call (the local stand-in's,
through PayPal's SDK), stored once in the payments inbox, settled from PayPal's order."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, OutboxEvent
from app.models.payments import Payment, PaymentEvent
from tests.fakes.paypal import approve, caught_deliveries
from tests.helpers import assert_error_shape, bearer, token_for
from tests.payments.conftest import place, run_payment_jobs


@pytest.fixture
def deliveries(paypal_on):
    """The stand-in's signed deliveries, caught here to be posted by the test."""
    with caught_deliveries(paypal_on) as receiver:
        yield receiver


def _state(reference):
    db.session.expire_all()
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking.id))
    return booking, payment


def _start(client, reference, customer):
    response = client.post(f"/api/v1/bookings/{reference}/payment",
                           headers=bearer(token_for(customer)), json={"method": "paypal"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _post(client, delivery, body=None):
    headers = {k: v for k, v in delivery.headers.items()
               if k.lower().startswith("paypal-")}
    return client.post("/api/v1/webhooks/paypal", data=body or delivery.body,
                       headers={**headers, "Content-Type": "application/json"})


def _type(delivery):
    import json

    return json.loads(delivery.body)["event_type"]


def _succeeded_events():
    db.session.expire_all()
    return db.session.query(OutboxEvent).filter_by(topic="payment.succeeded").count()


def test_an_approval_webhook_captures_and_the_capture_confirms_once(
        app, app_ctx, client, build, shop, deliveries):
    reference = place(build, shop)
    approve(_start(client, reference, shop["customer"])["approval_url"])
    approved = deliveries.next_delivery()
    assert _type(approved) == "CHECKOUT.ORDER.APPROVED"

    answer = _post(client, approved)
    assert answer.status_code == 200 and answer.get_json()["duplicate"] is False
    run_payment_jobs(app)
    booking, payment = _state(reference)
    assert (booking.status, payment.status) == ("confirmed", "succeeded")  # captured by us

    completed = deliveries.next_delivery()
    assert _type(completed) == "PAYMENT.CAPTURE.COMPLETED"
    assert _post(client, completed).get_json()["duplicate"] is False
    assert _post(client, completed).get_json()["duplicate"] is True  # delivered again
    run_payment_jobs(app)
    assert db.session.query(PaymentEvent).count() == 2
    assert {e.status for e in db.session.scalars(select(PaymentEvent))} == {"processed"}
    assert _succeeded_events() == 1
    assert _state(reference)[1].received_minor == 4200


def test_a_capture_event_before_the_approval_event_settles_the_same(
        app, app_ctx, client, build, shop, deliveries):
    reference = place(build, shop)
    back = approve(_start(client, reference, shop["customer"])["approval_url"])
    approved = deliveries.next_delivery()
    client.post(f"/api/v1/bookings/{reference}/payment/paypal-return",
                headers=bearer(token_for(shop["customer"])), json={"order_id": back["token"]})
    completed = deliveries.next_delivery()

    for delivery in (completed, approved):  # out of order
        assert _post(client, delivery).status_code == 200
    run_payment_jobs(app)
    booking, payment = _state(reference)
    assert (booking.status, payment.status) == ("confirmed", "succeeded")
    assert _succeeded_events() == 1
    assert {e.status for e in db.session.scalars(select(PaymentEvent))} == {"processed"}


@pytest.mark.parametrize("tamper", ["body", "signature", "headers"])
def test_a_bad_signature_is_refused_stores_nothing_and_changes_nothing(
        app, app_ctx, client, build, shop, deliveries, tamper):
    reference = place(build, shop)
    approve(_start(client, reference, shop["customer"])["approval_url"])
    approved = deliveries.next_delivery()
    body = approved.body
    if tamper == "body":
        body = body.replace(b'"APPROVED"', b'"COMPLETED"')
        response = _post(client, approved, body)
    elif tamper == "signature":
        approved.headers["Paypal-Transmission-Sig"] = "AAAA" + approved.headers[
            "Paypal-Transmission-Sig"][4:]
        response = _post(client, approved)
    else:
        response = client.post("/api/v1/webhooks/paypal", data=body,
                               headers={"Content-Type": "application/json"})
    assert_error_shape(response, 400, "webhook.signature_invalid")
    run_payment_jobs(app)
    assert db.session.query(PaymentEvent).count() == 0
    booking, payment = _state(reference)
    assert (booking.status, payment.status) == ("pending", "requires_payment")


def test_an_event_for_an_order_not_ours_is_stored_and_ignored(
        app, app_ctx, client, build, shop, deliveries, paypal_on):
    # An order made by someone else on the same PayPal account.
    from tests.fakes.paypal import paypal_gateway

    order = paypal_gateway(paypal_on).create_intent(
        amount_minor=1000, currency="EUR", metadata={"payment_id": 999999},
        idempotency_key="elsewhere-1", return_url="https://elsewhere.example/r",
        cancel_url="https://elsewhere.example/c")
    approve(order.approval_url)
    delivery = deliveries.next_delivery()
    assert _post(client, delivery).status_code == 200
    run_payment_jobs(app)
    event = db.session.scalar(select(PaymentEvent))
    assert (event.gateway, event.status, event.payment_id) == ("paypal", "ignored", None)
    assert db.session.query(Payment).count() == 0


def test_webhooks_are_refused_when_paypal_is_not_set_up(app, app_ctx, client, monkeypatch):
    monkeypatch.setitem(app.config, "PAYPAL_WEBHOOK_ID", None)
    response = client.post("/api/v1/webhooks/paypal", data=b"{}",
                           headers={"Content-Type": "application/json"})
    assert_error_shape(response, 400, "webhook.not_configured")
