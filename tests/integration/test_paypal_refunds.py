"""PayPal refunds followed until final, reversals and concurrency: PayPal's SDK against the
local stand-in, its signed webhooks posted to the app, PostgreSQL when given.

A payment is paid with PayPal through the API (start, approve on the stand-in's page,
come back); what then happens at PayPal (a refund left pending, completed or failed, a
refund in PayPal's dashboard, a reversal) is done by the stand-in, which sends the events
PayPal sends.
"""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.models.payments import PaymentEvent, Refund
from app.models.types import utcnow
from app.services import payment_webhooks, refund_rechecks, refunds, sweeps
from app.services.scopes import Scope
from devservices.paypal_webhooks import new_event
from tests.fakes.paypal import approve
from tests.integration.paypal_events import (
    booking_status,
    next_of,
    outbox,
    payment_now,
    post_delivery,
    stored_event,
)

REFUNDED, PENDING, FAILED, REVERSED = ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.REFUND.PENDING",
                                       "PAYMENT.REFUND.FAILED", "PAYMENT.CAPTURE.REVERSED")


def _refunds(payment_id):
    db.session.expire_all()
    return db.session.scalars(select(Refund).where(Refund.payment_id == payment_id)
                              .order_by(Refund.id)).all()


def _refund(payment_id, amount_minor):
    return refunds.request_refund(payment_id, amount_minor=amount_minor, reason="late start",
                                  actor_id=None, scope=Scope.all_providers())


def _sweep_at(minutes_from_now):
    return refund_rechecks.recheck_pending_refunds(
        now=utcnow() + timedelta(minutes=minutes_from_now))


# --- a refund PayPal leaves pending ---------------------------------------------------------

def test_a_pending_refund_completes_by_its_webhook_whatever_the_order_of_events(
        app, client, paid_with_paypal, paypal_deliveries, paypal_on):
    reference, payment_id, _ = paid_with_paypal
    paypal_on.hold_next_refund()

    refund = _refund(payment_id, 1000)

    assert refund.status == "pending" and refund.provider_reference
    pending = next_of(paypal_deliveries, PENDING)
    assert payment_now(payment_id).refunded_minor == 0
    assert refunds.refundable(payment_now(payment_id)) == 3200  # the pending one counts

    paypal_on.complete_refund(refund.provider_reference)
    completed = next_of(paypal_deliveries, REFUNDED)
    assert post_delivery(app, client, completed)["duplicate"] is False
    assert post_delivery(app, client, pending)["duplicate"] is False  # the older one, after
    assert post_delivery(app, client, completed)["duplicate"] is True  # delivered again

    assert [(r.status, r.amount_minor) for r in _refunds(payment_id)] == [("succeeded", 1000)]
    payment = payment_now(payment_id)
    assert (payment.refunded_minor, payment.attention) == (1000, None)
    assert booking_status(reference) == "confirmed"
    assert [e.payload["refund_amount_minor"] for e in outbox("payment.refunded")] == [1000]
    assert {stored_event(d).status for d in (pending, completed)} == {"processed"}
    assert stored_event(completed).payment_id == payment_id


def test_a_pending_refund_whose_webhook_is_lost_is_completed_by_the_sweep(
        app, paid_with_paypal, paypal_deliveries, paypal_on):
    _, payment_id, _ = paid_with_paypal
    paypal_on.hold_next_refund()
    refund = _refund(payment_id, 1500)
    assert _sweep_at(0) == 0  # too recent to chase

    assert _sweep_at(11) == 1  # PayPal still says pending: read again later, not at once
    refund = db.session.get(Refund, refund.id, populate_existing=True)
    assert refund.status == "pending" and refund.next_attempt_at is not None
    assert _sweep_at(11) == 0

    paypal_on.complete_refund(refund.provider_reference, notify=False)  # the event is lost
    assert _sweep_at(11 + 10) == 1

    assert [r.status for r in _refunds(payment_id)] == ["succeeded"]
    assert payment_now(payment_id).refunded_minor == 1500
    assert len(outbox("payment.refunded")) == 1
    assert _sweep_at(60) == 0  # final: never read again


def test_the_pending_work_sweep_runs_the_recheck_with_paypal_alone(
        app, paid_with_paypal, paypal_on, monkeypatch):
    _, payment_id, _ = paid_with_paypal
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)
    monkeypatch.setitem(app.config, "REFUND_RECHECK_AFTER_MINUTES", 0)
    paypal_on.hold_next_refund()
    refund = _refund(payment_id, 700)
    paypal_on.complete_refund(refund.provider_reference, notify=False)

    counts = sweeps.sweep_pending()

    assert counts["refund_states"] == 1
    assert [r.status for r in _refunds(payment_id)] == ["succeeded"]


def test_a_pending_refund_that_fails_is_failed_and_flags_the_payment(
        app, client, paid_with_paypal, paypal_deliveries, paypal_on):
    reference, payment_id, _ = paid_with_paypal
    paypal_on.hold_next_refund()
    refund = _refund(payment_id, 4200)
    next_of(paypal_deliveries, PENDING)

    paypal_on.fail_refund(refund.provider_reference)
    failed = next_of(paypal_deliveries, FAILED)
    post_delivery(app, client, failed)
    post_delivery(app, client, failed)

    refund = db.session.get(Refund, refund.id, populate_existing=True)
    assert refund.status == "failed"
    payment = payment_now(payment_id)
    assert f"Refund {refund.id} of 42.00 EUR failed" in payment.attention
    assert payment.refunded_minor == 0
    assert refunds.refundable(payment) == 4200  # may be refunded again
    assert [e.payload["refund_id"] for e in outbox("payment.refund_failed")] == [refund.id]
    assert booking_status(reference) == "confirmed"
    assert _sweep_at(60) == 0


# --- money given back at PayPal without us --------------------------------------------------

def test_a_refund_in_paypals_dashboard_is_recorded_once_however_often_it_is_told(
        app, client, paid_with_paypal, paypal_deliveries, paypal_on):
    reference, payment_id, capture_id = paid_with_paypal
    made = paypal_on.refund_in_dashboard(capture_id, "5.00")
    delivery = next_of(paypal_deliveries, REFUNDED)
    # PayPal may also send the same refund under another event id.
    paypal_on.webhooks.send(new_event(REFUNDED, "refund", made, "again", paypal_on.url))
    again = next_of(paypal_deliveries, REFUNDED)

    post_delivery(app, client, delivery)
    assert post_delivery(app, client, delivery)["duplicate"] is True
    post_delivery(app, client, again)

    rows = _refunds(payment_id)
    assert [(r.status, r.amount_minor, r.provider_reference, r.reason) for r in rows] == [
        ("succeeded", 500, made["id"], "refunded at the payment provider")]
    assert payment_now(payment_id).refunded_minor == 500
    assert len(outbox("payment.refunded")) == 1
    assert booking_status(reference) == "confirmed"
    assert {stored_event(d).status for d in (delivery, again)} == {"processed"}
    with pytest.raises(ValidationFailed) as too_much:  # the rest only
        _refund(payment_id, 3701)
    assert too_much.value.errors == {"amount_minor": ["At most 3700."]}


def test_a_dashboard_refund_paypal_leaves_pending_is_counted_and_followed_until_final(
        app, client, paid_with_paypal, paypal_deliveries, paypal_on):
    _, payment_id, capture_id = paid_with_paypal
    paypal_on.hold_next_refund()
    made = paypal_on.refund_in_dashboard(capture_id, "3.00")
    post_delivery(app, client, next_of(paypal_deliveries, PENDING))

    assert [(r.status, r.amount_minor) for r in _refunds(payment_id)] == [("pending", 300)]
    assert refunds.refundable(payment_now(payment_id)) == 3900  # counted while pending
    assert payment_now(payment_id).refunded_minor == 0

    paypal_on.complete_refund(made["id"], notify=False)  # the completion is never told
    assert _sweep_at(11) == 1

    assert [(r.status, r.amount_minor) for r in _refunds(payment_id)] == [("succeeded", 300)]
    assert payment_now(payment_id).refunded_minor == 300


def test_a_refund_not_known_while_ours_awaits_its_paypal_id_waits_rather_than_counts_twice(
        app, client, paid_with_paypal, paypal_deliveries, paypal_on, monkeypatch):
    _, payment_id, capture_id = paid_with_paypal
    monkeypatch.setitem(app.config, "PAYPAL_API_BASE", "http://127.0.0.1:9")
    app.extensions.pop("bookwell_payment_gateways", None)
    ours = _refund(payment_id, 1000)
    assert (ours.status, ours.provider_reference) == ("retrying", None)
    if app.config.get("REDIS_URL"):  # its retry waits in the queue; here, the sweep's turn
        from app import jobqueue

        jobqueue.get_queue("payments").empty()
    monkeypatch.setitem(app.config, "PAYPAL_API_BASE", paypal_on.url)
    app.extensions.pop("bookwell_payment_gateways", None)

    made = paypal_on.refund_in_dashboard(capture_id, "10.00")  # the same amount
    told = next_of(paypal_deliveries, REFUNDED)
    post_delivery(app, client, told)
    assert stored_event(told).status == "received"  # it may be ours: not counted yet
    assert [r.provider_reference for r in _refunds(payment_id)] == [None]

    refunds.retry_due_refunds(now=utcnow() + timedelta(hours=1))  # ours reaches PayPal
    next_of(paypal_deliveries, REFUNDED)
    payment_webhooks.process_leftovers(now=utcnow() + timedelta(minutes=2))

    assert stored_event(told).status == "processed"
    rows = _refunds(payment_id)
    assert [(r.status, r.amount_minor) for r in rows] == [("succeeded", 1000),
                                                           ("succeeded", 1000)]
    assert rows[1].provider_reference == made["id"] != rows[0].provider_reference
    assert payment_now(payment_id).refunded_minor == 2000


def test_a_reversal_is_recorded_as_refunded_and_flags_the_payment(
        app, client, paid_with_paypal, paypal_deliveries, paypal_on):
    reference, payment_id, capture_id = paid_with_paypal
    _refund(payment_id, 1200)
    next_of(paypal_deliveries, REFUNDED)  # ours, completed at once: not posted here

    reversal = paypal_on.reverse(capture_id)
    delivery = next_of(paypal_deliveries, REVERSED)
    assert json.loads(delivery.body)["resource"]["amount"] == {
        "currency_code": "EUR", "value": "-30.00"}  # as PayPal shows a reversal
    post_delivery(app, client, delivery)
    post_delivery(app, client, delivery)

    rows = _refunds(payment_id)
    assert [(r.status, r.amount_minor) for r in rows] == [("succeeded", 1200),
                                                           ("succeeded", 3000)]
    assert rows[1].provider_reference == reversal["id"] and "reversed" in rows[1].reason
    payment = payment_now(payment_id)
    assert payment.refunded_minor == 4200 and "PayPal reversed 30.00 EUR" in payment.attention
    assert booking_status(reference) == "refunded"  # nothing is held for it any more
    assert [e.payload["refund_amount_minor"] for e in outbox("payment.refunded")] == [
        1200, 3000]
    assert paypal_on.ledger.capture_of(capture_id).status == "REFUNDED"


def test_events_for_a_capture_not_ours_are_stored_ignored_and_change_nothing(
        app, client, paid_with_paypal, paypal_deliveries, paypal_on):
    _, payment_id, _ = paid_with_paypal
    from tests.fakes.paypal import paypal_gateway

    gateway = paypal_gateway(paypal_on)  # someone else's order on the same account
    order = gateway.create_intent(amount_minor=1000, currency="EUR",
                                  metadata={"payment_id": payment_id},
                                  idempotency_key="elsewhere-refunds",
                                  return_url="https://elsewhere.example/r",
                                  cancel_url="https://elsewhere.example/c")
    approve(order.approval_url)
    gateway.capture(order.reference, idempotency_key="elsewhere-capture")
    paypal_deliveries.next_delivery(), paypal_deliveries.next_delivery()  # approved, completed
    capture_id = paypal_on.ledger.order(order.reference).capture_id

    paypal_on.refund_in_dashboard(capture_id, "2.00")
    paypal_on.reverse(capture_id)
    paypal_on.open_dispute(capture_id)
    for _ in range(3):
        post_delivery(app, client, paypal_deliveries.next_delivery())

    db.session.expire_all()
    stored = db.session.scalars(select(PaymentEvent)).all()
    assert len(stored) == 3
    assert {(e.status, e.payment_id) for e in stored} == {("ignored", None)}
    assert _refunds(payment_id) == []
    payment = payment_now(payment_id)
    assert (payment.refunded_minor, payment.attention) == (0, None)
    assert outbox("payment.refunded") == [] and outbox("payment.disputed") == []


# --- concurrency ----------------------------------------------------------------------------

def test_concurrent_partial_refunds_never_exceed_the_capture(app, paid_with_paypal, paypal_on,
                                                             is_postgres):
    if not is_postgres:
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises the whole file")
    _, payment_id, capture_id = paid_with_paypal
    outcomes, barrier = [], threading.Barrier(10)

    def refund_1000():
        with app.app_context():
            barrier.wait()
            try:
                outcomes.append(_refund(payment_id, 1000).status)
            except ValidationFailed as exc:
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=refund_1000) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(outcomes) == ["refund.exceeds_paid"] * 6 + ["succeeded"] * 4
    assert payment_now(payment_id).refunded_minor == 4000
    at_paypal = [paypal_on.ledger.refunds[r] for r in
                 paypal_on.ledger.capture_of(capture_id).refund_ids]
    assert sorted(str(r.amount) for r in at_paypal) == ["10.00"] * 4
    assert paypal_on.ledger.capture_of(capture_id).status == "PARTIALLY_REFUNDED"
