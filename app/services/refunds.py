"""Refunds: never more than was paid, checked here, under the payment's row lock.

``request_refund`` locks the payment (after its booking: the lock order of
:mod:`app.services.transactions`, as every lock here), checks the amount against what was
received minus every refund that may still go through, and stores a ``pending`` Refund
before any call to the gateway; ``perform_refund`` then calls the gateway with an
idempotency key derived from the refund's id, so a retried call cannot refund twice. A
transient failure leaves the refund ``retrying`` (RQ retries with backoff, and the
pending-work sweep picks up what is left); a refusal marks it ``failed`` and flags the
payment for staff.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import events, jobqueue
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.gateways.payments import ChargeState, GatewayError, RefundState
from app.models import Booking
from app.models.payments import (
    MANUAL,
    PAYPAL,
    REFUND_COUNTED,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_RETRYING,
    REFUND_SUCCEEDED,
    SUCCEEDED,
    Payment,
    Refund,
)
from app.models.types import utcnow
from app.services.money import format_money
from app.services import bookings, event_payloads, idempotency
from app.services.scopes import Actor
from app.services.payments import (
    lock_payment,
    paypal_gateway,
    paypal_key,
    paypal_request_key,
    stripe_gateway,
)
from app.services.scopes import Scope, require_scope
from app.services.tenancy import scoped
from app.services.transactions import after_commit, breaks_constraint, retrying, unit_of_work

log = logging.getLogger(__name__)

PERFORM_JOB = "payments.perform_refund"
RETRY_INTERVALS = [30, 120, 600, 1800, 3600]  # seconds; the job queue's backoff
REASON_LENGTH = 300


def request_refund(payment_id: int, *, amount_minor: int | None, reason: str,
                   actor_id: int | None, scope: Scope,
                   idempotency_record_id: int | None = None) -> Refund:
    """Store a refund of ``amount_minor`` (everything left when None), then perform it.

    ``idempotency_record_id``: the Idempotency-Key claim of the request; stored with the
    refund, so one key asks for one refund at most (``idempotency.AlreadyCommitted``)."""
    require_scope(scope)
    try:
        refund = retrying(_store_refund, payment_id, amount_minor, reason, actor_id,
                          scope, idempotency_record_id, busy_code="refund.busy")
    except IntegrityError as exc:
        if idempotency_record_id is not None and breaks_constraint(
                exc, "uq_refund_idempotency_record_id", "refund.idempotency_record_id"):
            raise idempotency.AlreadyCommitted() from exc
        raise
    return _perform_first_attempt(refund.id)


def _store_refund(payment_id: int, amount_minor: int | None, reason: str,
                  actor_id: int | None, scope: Scope,
                  idempotency_record_id: int | None) -> Refund:
    with unit_of_work():
        if db.session.scalar(scoped(select(Payment.id).where(Payment.id == payment_id),
                                    Payment, scope=scope)) is None:
            raise NotFound("payment.not_found", f"No payment {payment_id}.")
        payment = lock_payment(payment_id)
        if payment is None:
            raise NotFound("payment.not_found", f"No payment {payment_id}.")
        refund = _new_refund(payment, amount_minor, reason, actor_id)
        refund.idempotency_record_id = idempotency_record_id
    return refund


def _new_refund(payment: Payment, amount_minor: int | None, reason: str,
                actor_id: int | None) -> Refund:
    """Add a pending refund of a locked payment, within what is left to refund."""
    if payment.status != SUCCEEDED:
        raise Conflict("refund.not_paid", f"A {payment.status} payment cannot be refunded.",
                       {"status": [payment.status]})
    left = refundable(payment)
    amount = left if amount_minor is None else amount_minor
    if amount_minor is not None and amount_minor <= 0:
        raise ValidationFailed("refund.bad_amount", "A refund must be more than zero.",
                               {"amount_minor": ["Must be at least 1."]})
    if amount > left or amount <= 0:
        raise ValidationFailed(
            "refund.exceeds_paid",
            f"At most {format_money(left, payment.currency)} can still be refunded.",
            {"amount_minor": [f"At most {left}."]})
    refund = Refund(provider_id=payment.provider_id, payment_id=payment.id,
                    amount_minor=amount, currency=payment.currency, status=REFUND_PENDING,
                    reason=(reason or "")[:REASON_LENGTH], actor_id=actor_id)
    db.session.add(refund)
    db.session.flush()
    return refund


def refundable(payment: Payment) -> int:
    """Received, less every refund that has gone or may still go through."""
    counted = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0))
        .where(Refund.payment_id == payment.id, Refund.status.in_(REFUND_COUNTED)))
    return max(0, (payment.received_minor or 0) - int(counted))


def refunded_so_far(payment: Payment) -> int:
    """The refunds of the payment the gateway has made (not those still on their way)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0))
        .where(Refund.payment_id == payment.id, Refund.status == REFUND_SUCCEEDED)))


def perform_refund(refund_id: int, *, final_attempt: bool = True) -> Refund:
    """Call the gateway for a pending or retrying refund; does nothing to any other."""
    with unit_of_work():  # a read: nothing stays open across the gateway call
        refund = db.session.get(Refund, refund_id, populate_existing=True)
        if refund is None or refund.status not in (REFUND_PENDING, REFUND_RETRYING):
            return refund
        payment = db.session.get(Payment, refund.payment_id)
        if refund.provider_reference:  # the gateway took it; its events will settle it
            return refund
        manual, intent_reference = payment.gateway == MANUAL, payment.provider_reference
        amount_minor = refund.amount_minor
        paypal_refund_key = paypal_key(refund) if payment.gateway == PAYPAL else None
    if manual:  # money handed back at the venue
        result = RefundState(reference=None, status=REFUND_SUCCEEDED,
                             amount_minor=amount_minor)
    elif paypal_refund_key:  # PayPal-Request-Ids are per account: this installation's
        try:
            result = paypal_gateway().refund(
                intent_reference=intent_reference, amount_minor=amount_minor,
                idempotency_key=paypal_request_key(paypal_refund_key, "refund-"))
        except GatewayError as exc:
            return _gateway_failed(refund_id, exc, final_attempt)
    else:
        try:
            result = stripe_gateway().refund(
                intent_reference=intent_reference, amount_minor=amount_minor,
                idempotency_key=f"bookwell-refund-{refund_id}")
        except GatewayError as exc:
            return _gateway_failed(refund_id, exc, final_attempt)
    return retrying(_record_refund_result, refund_id, result, busy_code="refund.busy")


def _record_refund_result(refund_id: int, result: RefundState) -> Refund:
    with unit_of_work():
        refund = lock_refund(refund_id)
        if refund.status in (REFUND_PENDING, REFUND_RETRYING):
            refund.provider_reference = result.reference
            refund.attempts += 1
            refund.last_error = None
            refund.next_attempt_at = None
            if result.status == REFUND_SUCCEEDED:
                _refund_succeeded(refund)
            elif result.status == REFUND_FAILED:
                _refund_failed(refund, "The payment provider declined the refund.")
    return refund


def lock_refund(refund_id: int) -> Refund:
    """The refund, row-locked after its booking and payment (the lock order, see
    :mod:`app.services.transactions`)."""
    payment_id = db.session.scalar(select(Refund.payment_id).where(Refund.id == refund_id))
    lock_payment(payment_id)
    return db.session.get(Refund, refund_id, with_for_update=True, populate_existing=True)


def _gateway_failed(refund_id: int, exc: GatewayError, final_attempt: bool) -> Refund:
    refund = retrying(_record_gateway_failure, refund_id, exc, final_attempt,
                      busy_code="refund.busy")
    if refund.status == REFUND_RETRYING:
        log.warning("refund %s: %s; will retry", refund_id, exc.message)
    return refund


def _record_gateway_failure(refund_id: int, exc: GatewayError, final_attempt: bool) -> Refund:
    with unit_of_work():
        refund = lock_refund(refund_id)
        if refund.status in (REFUND_PENDING, REFUND_RETRYING):
            refund.attempts += 1
            refund.last_error = exc.message[:2000]
            if exc.retryable and not final_attempt:
                refund.status = REFUND_RETRYING
                delay = RETRY_INTERVALS[min(refund.attempts - 1, len(RETRY_INTERVALS) - 1)]
                refund.next_attempt_at = utcnow() + timedelta(seconds=delay)
            else:
                _refund_failed(refund, exc.message)
    return refund


def _retry_later(refund: Refund) -> Refund:
    """A first attempt made in a request or consumer failed for now: a job retries it with
    backoff (without Redis, the pending-work sweep does, when ``next_attempt_at`` is due)."""
    from flask import current_app

    if refund.status == REFUND_RETRYING and current_app.config.get("REDIS_URL"):
        jobqueue.enqueue(PERFORM_JOB, refund.id, job_id=f"refund-{refund.id}")
    return refund


def _refund_failed(refund: Refund, message: str) -> None:
    refund.status = REFUND_FAILED
    refund.last_error = message[:2000]
    refund.next_attempt_at = None
    payment = db.session.get(Payment, refund.payment_id, with_for_update=True)
    payment.attention = (f"Refund {refund.id} of "
                         f"{format_money(refund.amount_minor, refund.currency)} failed: "
                         f"{message}")[:2000]
    events.publish("payment.refund_failed",
                   event_payloads.refund_failed(refund, payment.id, message),
                   provider_id=refund.provider_id)


def _refund_succeeded(refund: Refund) -> None:
    """Count a refund that went through; a fully refunded booking becomes ``refunded``."""
    refund.status = REFUND_SUCCEEDED
    payment = db.session.get(Payment, refund.payment_id, with_for_update=True,
                             populate_existing=True)
    payment.refunded_minor += refund.amount_minor
    booking = db.session.get(Booking, payment.booking_id, with_for_update=True,
                             populate_existing=True)
    fully = payment.refunded_minor >= (payment.received_minor or 0)
    if fully:
        bookings.mark_refunded(booking, actor=Actor(refund.actor_id,
                                                    refund.reason or "refunded in full"))
    payload = event_payloads.payment(
        payment, booking, refund_id=refund.id, refund_amount_minor=refund.amount_minor,
        fully_refunded=fully, reason=refund.reason)
    events.publish("payment.refunded", payload, provider_id=payment.provider_id)


def apply_charge(payment: Payment, charge: ChargeState) -> str:
    """``charge.refunded``: bring each refund Stripe reports in line (see
    :func:`apply_gateway_refund`). Runs in the caller's transaction."""
    done = [state.reference for state in charge.refunds
            if apply_gateway_refund(payment, state) == REFUND_SUCCEEDED]
    return f"refunds settled: {', '.join(done)}" if done else "refunds already settled"


OUTSIDE_REASON = "refunded at the payment provider"


def apply_gateway_refund(payment: Payment, state: RefundState, *,
                         outside_reason: str = OUTSIDE_REASON) -> str | None:
    """Bring one refund of a locked payment in line with what the gateway says of it now.

    Ours (known by its reference) succeeds or fails once, whatever order or number of
    times this is called in; one still pending stays so. A refund we never asked for (made
    in the gateway's dashboard, or a PayPal reversal) is recorded once, as
    ``outside_reason``: succeeded, or pending (then counted against what is left and
    followed like ours until final); more than is left of what was received is never
    counted (the rest is flagged for staff). Returns the status it moved the refund to,
    None when nothing changed. Runs in the caller's transaction."""
    refund = db.session.scalar(select(Refund).where(
        Refund.provider_reference == state.reference).with_for_update())
    if refund is not None and refund.payment_id != payment.id:
        raise ValueError(f"{state.reference} is not a refund of payment {payment.id}")
    if state.status == REFUND_PENDING:
        if refund is not None or _outside_refund(payment, state, outside_reason) is None:
            return None
        return REFUND_PENDING
    if state.status == REFUND_FAILED:
        if refund is None or refund.status not in (REFUND_PENDING, REFUND_RETRYING):
            return None
        _refund_failed(refund, "The payment provider reports the refund failed.")
        return REFUND_FAILED
    if state.status != REFUND_SUCCEEDED or (refund is not None
                                            and refund.status == REFUND_SUCCEEDED):
        return None
    if refund is None:
        refund = _outside_refund(payment, state, outside_reason)
        if refund is None:
            return None
    refund.last_error, refund.next_attempt_at = None, None
    _refund_succeeded(refund)
    return REFUND_SUCCEEDED


class RefundInFlight(Conflict):
    """The gateway reports a refund we do not know while one of ours of that amount has no
    gateway id yet: it may be ours, its answer not recorded yet. Nothing is counted now;
    the event is tried again later (by its job, then the pending-work sweep)."""

    def __init__(self, reference: str) -> None:
        super().__init__("refund.busy", f"Refund {reference} may be ours, still being "
                                        "recorded; try again later.")


def _outside_refund(payment: Payment, state: RefundState, reason: str) -> Refund | None:
    """A refund row for money the gateway gives back without us: at most what is left of
    what was received (the constraint ``refunds_within_amount`` holds whatever the gateway
    says); anything beyond is flagged for staff. A pending one is also kept within what
    our own refunds in flight leave (they count until final)."""
    if db.session.scalar(select(Refund.id).where(
            Refund.payment_id == payment.id, Refund.provider_reference.is_(None),
            Refund.status.in_((REFUND_PENDING, REFUND_RETRYING)),
            Refund.amount_minor == state.amount_minor).limit(1)) is not None:
        raise RefundInFlight(state.reference)
    left = refundable(payment) if state.status == REFUND_PENDING else \
        (payment.received_minor or 0) - payment.refunded_minor
    amount = min(state.amount_minor, left)
    if amount < state.amount_minor:
        payment.attention = (
            f"The payment provider gave back {format_money(state.amount_minor, payment.currency)}"
            f" ({state.reference}) but only {format_money(max(left, 0), payment.currency)} "
            "was left unrefunded here: check the payment.")[:2000]
    if amount <= 0:
        return None
    refund = Refund(provider_id=payment.provider_id, payment_id=payment.id,
                    amount_minor=amount, currency=payment.currency, status=REFUND_PENDING,
                    provider_reference=state.reference, reason=reason[:REASON_LENGTH])
    db.session.add(refund)
    db.session.flush()
    return refund


def retry_due_refunds(*, now=None, limit: int = 100) -> int:
    """A kind of the pending-work sweep: refunds whose retry is due, or that a lost job left
    pending for more than ten minutes."""
    now = now or utcnow()
    with unit_of_work():  # a read, ended before the gateway calls
        ids = db.session.scalars(
            select(Refund.id).where(
                ((Refund.status == REFUND_RETRYING) & (Refund.next_attempt_at <= now))
                | ((Refund.status == REFUND_PENDING) & Refund.provider_reference.is_(None)
                   & (Refund.created_at < now - timedelta(minutes=10))))
            .order_by(Refund.id).limit(limit)).all()
    for refund_id in ids:
        perform_refund(refund_id, final_attempt=False)
    return len(ids)


def refund_on_free_cancellation(*, event_id: str, topic: str, payload: dict) -> None:
    """``booking.cancelled`` consumer: a customer who cancels inside the free-cancellation
    window gets back everything still refundable, automatically."""
    if not (payload.get("by_customer") and payload.get("free_cancellation")):
        return
    payment_id = db.session.scalar(
        select(Payment.id).join(Booking, Booking.id == Payment.booking_id)
        .where(Booking.reference == payload["booking_reference"]))
    payment = lock_payment(payment_id) if payment_id is not None else None
    if payment is None or payment.status != SUCCEEDED or refundable(payment) <= 0:
        return
    refund = _new_refund(payment, None, "free cancellation by the customer", None)
    # Once the refund and the consumer's record of this event are committed:
    after_commit(_perform_first_attempt, refund.id)


def _perform_first_attempt(refund_id: int) -> Refund:
    return _retry_later(perform_refund(refund_id, final_attempt=False))


def refund_for_provider(refund_id: int, *, scope: Scope) -> Refund:
    require_scope(scope)
    refund = db.session.scalar(scoped(select(Refund).where(Refund.id == refund_id), Refund,
                                      scope=scope))
    if refund is None:
        raise NotFound("refund.not_found", f"No refund {refund_id}.")
    return refund
