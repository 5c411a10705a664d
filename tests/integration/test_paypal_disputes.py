"""PayPal disputes flag the payment: CUSTOMER.DISPUTE.* from the local stand-in, posted to
the app, settled from the dispute re-read through the gateway."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.models.payments import PaymentEvent
from tests.integration.paypal_events import (
    booking_status,
    next_of,
    outbox,
    payment_now,
    post_delivery,
    stored_event,
)
from tests.fakes.paypal import paypal_gateway

CREATED, UPDATED, RESOLVED = ("CUSTOMER.DISPUTE.CREATED", "CUSTOMER.DISPUTE.UPDATED",
                              "CUSTOMER.DISPUTE.RESOLVED")


def test_a_dispute_flags_the_payment_once_and_its_resolution_is_noted(
        app, client, paid_with_paypal, paypal_deliveries, paypal_on):
    reference, payment_id, capture_id = paid_with_paypal
    opened = paypal_on.open_dispute(capture_id, value="42.00")
    created = next_of(paypal_deliveries, CREATED)
    resource = json.loads(created.body)["resource"]
    assert resource["disputed_transactions"][0]["seller_transaction_id"] == capture_id

    post_delivery(app, client, created)
    payment = payment_now(payment_id)
    assert f"PayPal dispute {opened['dispute_id']} over 42.00 EUR" in payment.attention
    assert "MERCHANDISE_OR_SERVICE_NOT_RECEIVED" in payment.attention
    assert [e.payload for e in outbox("payment.disputed")] == [{
        "payment_id": payment_id, "dispute_id": opened["dispute_id"], "amount_minor": 4200,
        "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"}]

    paypal_on.update_dispute(opened["dispute_id"], status="UNDER_REVIEW", stage="CHARGEBACK")
    updated = next_of(paypal_deliveries, UPDATED)
    paypal_on.resolve_dispute(opened["dispute_id"], outcome="RESOLVED_SELLER_FAVOUR")
    resolved = next_of(paypal_deliveries, RESOLVED)
    post_delivery(app, client, resolved)
    post_delivery(app, client, updated)  # older, after: PayPal now says resolved
    assert post_delivery(app, client, created)["duplicate"] is True

    payment = payment_now(payment_id)
    assert payment.attention.startswith(
        f"PayPal dispute {opened['dispute_id']} resolved: RESOLVED_SELLER_FAVOUR")
    assert len(outbox("payment.disputed")) == 1  # told once
    assert (payment.refunded_minor, booking_status(reference)) == (0, "confirmed")
    assert {stored_event(d).status for d in (created, updated, resolved)} == {"processed"}
    assert {stored_event(d).payment_id for d in (created, updated, resolved)} == {payment_id}


def test_an_update_seen_first_flags_and_tells_once(app, client, paid_with_paypal,
                                                   paypal_deliveries, paypal_on):
    _, payment_id, capture_id = paid_with_paypal
    opened = paypal_on.open_dispute(capture_id, value="10.00", reason="UNAUTHORISED")
    created = next_of(paypal_deliveries, CREATED)
    paypal_on.update_dispute(opened["dispute_id"], status="WAITING_FOR_SELLER_RESPONSE")
    updated = next_of(paypal_deliveries, UPDATED)

    post_delivery(app, client, updated)
    post_delivery(app, client, created)

    payment = payment_now(payment_id)
    assert "over 10.00 EUR (reason UNAUTHORISED" in payment.attention
    assert "status WAITING_FOR_SELLER_RESPONSE" in payment.attention
    assert len(outbox("payment.disputed")) == 1


def test_a_dispute_decided_for_the_buyer_reverses_the_capture_and_is_told_once(
        app, client, paid_with_paypal, paypal_deliveries, paypal_on):
    reference, payment_id, capture_id = paid_with_paypal
    opened = paypal_on.open_dispute(capture_id)
    post_delivery(app, client, next_of(paypal_deliveries, CREATED))
    paypal_on.reverse(capture_id)  # PayPal takes the money back while it decides
    post_delivery(app, client, next_of(paypal_deliveries, "PAYMENT.CAPTURE.REVERSED"))
    assert payment_now(payment_id).attention.startswith("PayPal reversed 42.00 EUR")

    paypal_on.update_dispute(opened["dispute_id"], stage="CHARGEBACK")
    post_delivery(app, client, next_of(paypal_deliveries, UPDATED))
    paypal_on.resolve_dispute(opened["dispute_id"], outcome="RESOLVED_BUYER_FAVOUR")
    post_delivery(app, client, next_of(paypal_deliveries, RESOLVED))

    assert len(outbox("payment.disputed")) == 1  # the note was rewritten, not the facts
    payment = payment_now(payment_id)
    assert "resolved: RESOLVED_BUYER_FAVOUR" in payment.attention
    assert (payment.refunded_minor, booking_status(reference)) == (4200, "refunded")


def test_a_dispute_of_a_capture_not_ours_is_stored_ignored_and_changes_nothing(
        app, client, paid_with_paypal, paypal_deliveries, paypal_on):
    _, payment_id, _ = paid_with_paypal
    gateway = paypal_gateway(paypal_on)  # someone else's order on the same account
    order = gateway.create_intent(amount_minor=1000, currency="EUR",
                                  metadata={"payment_id": payment_id},
                                  idempotency_key="elsewhere-dispute",
                                  return_url="https://elsewhere.example/r",
                                  cancel_url="https://elsewhere.example/c")
    paypal_on.approve(order.reference)
    gateway.capture(order.reference, idempotency_key="elsewhere-dispute-capture")
    paypal_deliveries.next_delivery(), paypal_deliveries.next_delivery()
    opened = paypal_on.open_dispute(paypal_on.ledger.order(order.reference).capture_id)
    paypal_on.resolve_dispute(opened["dispute_id"], outcome="RESOLVED_BUYER_FAVOUR")

    post_delivery(app, client, next_of(paypal_deliveries, CREATED))
    post_delivery(app, client, next_of(paypal_deliveries, RESOLVED))

    db.session.expire_all()
    assert {(e.status, e.payment_id) for e in db.session.scalars(select(PaymentEvent))} == {
        ("ignored", None)}
    assert payment_now(payment_id).attention is None
    assert outbox("payment.disputed") == []


def test_the_gateway_reads_a_dispute_as_paypal_shows_it(paid_with_paypal, paypal_on):
    _, _, capture_id = paid_with_paypal
    opened = paypal_on.open_dispute(capture_id, value="5.00")
    paypal_on.resolve_dispute(opened["dispute_id"], outcome="RESOLVED_BUYER_FAVOUR")

    dispute = paypal_gateway(paypal_on).retrieve_dispute(opened["dispute_id"])

    assert (dispute.reference, dispute.status, dispute.outcome, dispute.resolved) == (
        opened["dispute_id"], "RESOLVED", "RESOLVED_BUYER_FAVOUR", True)
    assert (dispute.amount_minor, dispute.currency, dispute.capture_references) == (
        500, "EUR", (capture_id,))
