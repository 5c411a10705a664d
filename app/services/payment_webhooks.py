"""Stripe webhooks: verified, stored in the inbox, then acted on by a job.

``receive`` checks the ``Stripe-Signature`` against the raw body and stores the event
keyed by Stripe's event id (a repeat stores nothing and changes nothing), then hands it to
the ``payments`` queue. ``process`` re-reads the payment from Stripe before it changes
anything, so the order and number of deliveries do not matter. It locks the event's row,
then the booking, then the payment (the lock order of :mod:`app.services.transactions`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import events, jobqueue
from app.errors import DomainError
from app.extensions import db
from app.gateways.payments import GatewayError, WebhookInvalid, verified_stripe_event
from app.models.payments import (
    EVENT_FAILED,
    EVENT_IGNORED,
    EVENT_PROCESSED,
    EVENT_RECEIVED,
    PAYPAL,
    STRIPE,
    Payment,
    PaymentEvent,
)
from app.models.types import utcnow
from app.services import event_payloads, refunds
from app.services.payments import lock_payment, settle, stripe_gateway
from app.services.transactions import after_commit, end_read, retrying, unit_of_work

log = logging.getLogger(__name__)

PROCESS_JOB = "payments.process_event"
PROCESS_RETRY_INTERVALS = [10, 60, 300, 900, 3600]  # seconds before each retry of the job
INTENT_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed",
                 "payment_intent.canceled", "payment_intent.processing",
                 "payment_intent.requires_action")
CHARGE_REFUNDED = "charge.refunded"
DISPUTE_CREATED = "charge.dispute.created"
HANDLED = INTENT_EVENTS + (CHARGE_REFUNDED, DISPUTE_CREATED)


class WebhookRejected(DomainError):
    status = 400


@dataclass(frozen=True)
class Received:
    row_id: int | None  # None: a repeat of an event already stored
    event_id: str
    type: str


def receive(raw_body: bytes, signature: str | None) -> Received:
    """Verify and store one webhook; enqueue its processing. Nothing is stored unless the
    signature is valid and fresh."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise WebhookRejected("webhook.not_configured", "Webhooks are not set up here.")
    if not signature:
        raise WebhookRejected("webhook.signature_missing",
                              "The Stripe-Signature header is missing.")
    tolerance = current_app.config.get("STRIPE_WEBHOOK_TOLERANCE", 300)
    try:
        event = verified_stripe_event(raw_body, signature, secret, tolerance)
    except WebhookInvalid as exc:
        code = "webhook.malformed" if exc.reason == "malformed" else "webhook.signature_invalid"
        raise WebhookRejected(code, exc.message) from exc
    event_id, event_type = str(event["id"]), str(event["type"])

    row_id = _store(event_id, event_type, event)
    if row_id is not None:
        _hand_over(row_id)
    return Received(row_id=row_id, event_id=event_id, type=event_type)


@unit_of_work()
def _store(event_id: str, event_type: str, event: dict, gateway: str = STRIPE) -> int | None:
    """Insert the event unless its id is known; one statement, so concurrent repeats of
    the same event store exactly one row."""
    values = dict(gateway=gateway, event_id=event_id[:255], type=event_type[:80],
                  payload=event, status=EVENT_RECEIVED, attempts=0, received_at=utcnow())
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = (insert(PaymentEvent).values(**values)
                 .on_conflict_do_nothing(index_elements=["event_id"])
                 .returning(PaymentEvent.id))
    row_id = db.session.execute(statement).scalar()
    return row_id


def _hand_over(row_id: int) -> None:
    """To the payments queue; inline without Redis. A failure loses nothing: the row is
    ``received`` and the pending-work sweep picks it up."""
    try:
        jobqueue.enqueue(PROCESS_JOB, row_id, job_id=f"payment-event-{row_id}")
    except Exception:
        log.exception("handing payment event %s over failed; the sweep will", row_id)


def process(row_id: int, *, final_attempt: bool = True) -> str:
    """Act on a stored event once; returns its status afterwards."""
    event = db.session.get(PaymentEvent, row_id, populate_existing=True)
    if event is None:
        return "missing"
    if event.status in (EVENT_PROCESSED, EVENT_IGNORED):
        return event.status
    if event.gateway == PAYPAL:
        from app.services import paypal_webhooks

        return paypal_webhooks.process(row_id, event, final_attempt=final_attempt)
    event_type, obj = event.type, dict(event.payload["data"]["object"])
    if event_type not in HANDLED:
        return _finish(row_id, EVENT_IGNORED, f"{event_type} is not acted on")
    payment_id = _payment_for(obj, event_type)
    if payment_id is None:
        return _finish(row_id, EVENT_IGNORED, "no payment of ours matches it")

    try:
        gateway = stripe_gateway()
        intent_reference = db.session.scalar(
            select(Payment.provider_reference).where(Payment.id == payment_id))
        end_read()  # nothing stays open across the gateway call
        intent = gateway.retrieve_intent(intent_reference)
        charge = (gateway.retrieve_charge(obj["id"]) if event_type == CHARGE_REFUNDED
                  else None)
    except GatewayError as exc:
        return gateway_read_failed(row_id, exc, final_attempt, "Stripe")

    return retrying(_apply_event, row_id, payment_id, event_type, obj, intent, charge,
                    busy_code="payment.busy")


def gateway_read_failed(row_id: int, exc: GatewayError, final_attempt: bool,
                        gateway_name: str) -> str:
    """Re-reading from the gateway failed: the event waits for the job's next try (the
    error is raised for it), or, on the last one or a refusal, is ``failed`` (replayable)."""
    status = EVENT_FAILED if final_attempt or not exc.retryable else EVENT_RECEIVED
    _finish(row_id, status, f"re-reading from {gateway_name} failed: {exc.message}",
            count_attempt=True)
    if exc.retryable and not final_attempt:
        raise exc
    return status


def _apply_event(row_id: int, payment_id: int, event_type: str, obj: dict, intent,
                 charge, gateway_name: str = "Stripe") -> str:
    """Settle the payment from the gateway's answers and mark the event processed."""
    def act(payment: Payment) -> str:
        outcome = settle(payment, intent, reason=f"{gateway_name} {event_type}")
        if charge is not None:
            outcome += "; " + refunds.apply_charge(payment, charge)
        if event_type == DISPUTE_CREATED:
            payment.attention = (f"Disputed by the cardholder (dispute {obj.get('id')}, "
                                 f"reason {obj.get('reason') or 'not given'}).")
            events.publish("payment.disputed", event_payloads.dispute(payment.id, obj),
                           provider_id=payment.provider_id)
            outcome += "; flagged: disputed"
        return outcome

    return apply_to_payment(row_id, payment_id, act)


@unit_of_work()
def apply_to_payment(row_id: int, payment_id: int, act: Callable[[Payment], str]) -> str:
    """One transaction: ``act`` on the locked payment (it returns what happened) and mark
    the event processed. Locks the event, then the booking and the payment (the lock
    order); an event processed meanwhile (a concurrent delivery) is left alone."""
    event = db.session.get(PaymentEvent, row_id, with_for_update=True, populate_existing=True)
    if event.status in (EVENT_PROCESSED, EVENT_IGNORED):
        return event.status
    payment = lock_payment(payment_id)
    event.payment_id, event.provider_id = payment.id, payment.provider_id
    outcome = act(payment)
    event.status, event.outcome = EVENT_PROCESSED, outcome[:2000]
    event.attempts += 1
    event.processed_at = utcnow()
    return EVENT_PROCESSED


@unit_of_work()
def _payment_for(obj: dict, event_type: str) -> int | None:
    """Our payment for the event's object: by PaymentIntent id, else by the payment id we
    put in its metadata (an event can arrive before we stored the intent's id)."""
    reference = obj.get("id") if event_type.startswith("payment_intent.") \
        else obj.get("payment_intent")
    if reference:
        found = db.session.scalar(select(Payment.id).where(
            Payment.provider_reference == reference))
        if found is not None:
            return found
    metadata_id = str((obj.get("metadata") or {}).get("payment_id") or "")
    if metadata_id.isdigit() and reference:
        updated = db.session.execute(
            update(Payment).where(Payment.id == int(metadata_id),
                                  Payment.provider_reference.is_(None))
            .values(provider_reference=reference).returning(Payment.id)).scalar()
        return updated
    return None


@unit_of_work()
def _finish(row_id: int, status: str, outcome: str, *, count_attempt: bool = True) -> str:
    db.session.execute(update(PaymentEvent).where(PaymentEvent.id == row_id).values(
        status=status, outcome=outcome[:2000],
        attempts=PaymentEvent.attempts + (1 if count_attempt else 0),
        processed_at=utcnow() if status in (EVENT_PROCESSED, EVENT_IGNORED) else None))
    return status


def type_and_status(row_id: int) -> tuple[str, str]:
    """A stored event's type and status as they are now (after a replay, say)."""
    event = db.session.get(PaymentEvent, row_id, populate_existing=True)
    return (event.type, event.status) if event is not None else ("?", "missing")


def process_leftovers(*, now=None, limit: int = 200) -> int:
    """Events stored a minute ago or more and still unprocessed (a crash after the commit,
    Redis down): run them now. A kind of the pending-work sweep."""
    cutoff = (now or utcnow()) - timedelta(minutes=1)
    ids = db.session.scalars(select(PaymentEvent.id).where(
        PaymentEvent.status == EVENT_RECEIVED, PaymentEvent.received_at < cutoff)
        .order_by(PaymentEvent.id).limit(limit)).all()
    end_read()
    for row_id in ids:
        try:
            process(row_id, final_attempt=False)
        except (GatewayError, DomainError) as exc:  # unavailable, or busy: the next run
            log.warning("payment event %s: %s; next run", row_id, exc)
    return len(ids)


@unit_of_work()
def replay(row_id: int) -> bool:
    """Console: process a failed event again. Any other event is left alone (False)."""
    reopened = db.session.execute(update(PaymentEvent).where(
        PaymentEvent.id == row_id, PaymentEvent.status == EVENT_FAILED).values(
        status=EVENT_RECEIVED)).rowcount
    if reopened:
        after_commit(_hand_over, row_id)
    return bool(reopened)
