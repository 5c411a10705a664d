"""Paying with PayPal and catching what PayPal then says, for the tests of refunds, reversals
and disputes: a paid booking, the stand-in's signed deliveries, and posting them to the app."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, OutboxEvent
from app.models.payments import Payment, PaymentEvent
from tests.fakes.paypal import approve, caught_deliveries
from tests.helpers import bearer, token_for
from tests.payments.conftest import place, run_payment_jobs


@pytest.fixture
def paid_with_paypal(app, app_ctx, client, build, shop, paypal_on):
    """A booking of 42.00 EUR paid with PayPal: (reference, payment id, capture id)."""
    reference = place(build, shop)
    payment_id, order_id = pay_with_paypal(client, reference, shop["customer"])
    return reference, payment_id, paypal_on.ledger.order(order_id).capture_id


def pay_with_paypal(client, reference: str, customer_id: int) -> tuple[int, str]:
    """Pay a booking with PayPal as a customer does through the API: start, approve on the
    stand-in's page, come back. Returns the payment's id and its PayPal order id."""
    headers = bearer(token_for(customer_id))
    started = client.post(f"/api/v1/bookings/{reference}/payment", headers=headers,
                          json={"method": "paypal"}).get_json()
    back = approve(started["approval_url"])
    returned = client.post(f"/api/v1/bookings/{reference}/payment/paypal-return",
                           headers=headers, json={"order_id": back["token"]})
    assert returned.get_json()["status"] == "succeeded"
    return started["payment_id"], started["order_id"]


@pytest.fixture
def paypal_deliveries(paid_with_paypal, paypal_on):
    """PayPal's deliveries from here on, caught to be posted by the test."""
    with caught_deliveries(paypal_on) as receiver:
        yield receiver


def payment_now(payment_id):
    db.session.expire_all()
    return db.session.get(Payment, payment_id)


def booking_status(reference):
    db.session.expire_all()
    return db.session.scalar(select(Booking.status).where(Booking.reference == reference))


def outbox(topic):
    db.session.expire_all()
    return db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == topic)
                              .order_by(OutboxEvent.created_at)).all()


def next_of(receiver, event_type):
    delivery = receiver.next_delivery()
    assert json.loads(delivery.body)["event_type"] == event_type
    return delivery


def post_delivery(app, client, delivery):
    headers = {k: v for k, v in delivery.headers.items() if k.lower().startswith("paypal-")}
    answer = client.post("/api/v1/webhooks/paypal", data=delivery.body,
                         headers={**headers, "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.get_json()
    run_payment_jobs(app)
    return answer.get_json()


def stored_event(delivery):
    db.session.expire_all()
    return db.session.scalar(select(PaymentEvent).where(
        PaymentEvent.event_id == json.loads(delivery.body)["id"]))
