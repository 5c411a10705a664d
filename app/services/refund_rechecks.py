"""Refunds a gateway took but has not finished, re-read until they are final.

A refund the gateway answered ``pending`` (PayPal's eCheck-funded ones, some of Stripe's)
is normally settled by the gateway's event when it completes or fails. This kind of the
pending-work sweep makes sure a lost event cannot leave it pending for ever: a pending
refund with a ``provider_reference`` older than ``REFUND_RECHECK_AFTER_MINUTES`` is
re-read from its gateway and settled by the same rule as the events
(:func:`app.services.refunds.apply_gateway_refund`). One still pending is read again
later, less often each time (``next_attempt_at``), so a refund pending for days costs a
handful of calls, not one a minute.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.errors import DomainError
from app.extensions import db
from app.gateways.payments import GatewayError, RefundState
from app.models.payments import PAYPAL, REFUND_PENDING, Payment, Refund
from app.models.types import utcnow
from app.services import refunds
from app.services.payments import paypal_gateway, reconciled_gateways, stripe_gateway
from app.services.transactions import retrying, unit_of_work

log = logging.getLogger(__name__)

#: Seconds until the next read of a refund still pending, by reads made so far.
RECHECK_INTERVALS = [600, 1800, 3600, 3 * 3600, 6 * 3600]


def recheck_pending_refunds(*, now=None, limit: int = 100) -> int:
    """Re-read and settle the refunds pending at a gateway for a while; returns how many
    were read. A gateway that does not answer is asked again at the next due time."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=current_app.config.get(
        "REFUND_RECHECK_AFTER_MINUTES", 10))
    with unit_of_work():  # a read, ended before the gateway calls
        rows = db.session.execute(
            select(Refund.id, Refund.provider_reference, Payment.gateway)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.status == REFUND_PENDING, Refund.provider_reference.is_not(None),
                   Refund.created_at < cutoff,
                   Refund.next_attempt_at.is_(None) | (Refund.next_attempt_at <= now),
                   Payment.gateway.in_(reconciled_gateways()))
            .order_by(Refund.id).limit(limit)).all()
    for refund_id, reference, gateway_name in rows:
        gateway = paypal_gateway() if gateway_name == PAYPAL else stripe_gateway()
        try:
            state = gateway.retrieve_refund(reference)
        except GatewayError as exc:
            log.warning("re-reading refund %s: %s; next run", refund_id, exc.message)
            retrying(_read_again_later, refund_id, now, busy_code="refund.busy")
            continue
        try:
            retrying(_settle, refund_id, state, now, busy_code="refund.busy")
        except DomainError as exc:  # busy: the next run
            log.warning("settling refund %s: %s; next run", refund_id, exc.message)
    return len(rows)


@unit_of_work()
def _settle(refund_id: int, state: RefundState, now) -> None:
    refund = refunds.lock_refund(refund_id)
    if refund.status != REFUND_PENDING or refund.provider_reference != state.reference:
        return  # settled meanwhile (by an event)
    payment = db.session.get(Payment, refund.payment_id)
    if refunds.apply_gateway_refund(payment, state) is None:
        _later(refund, now)


@unit_of_work()
def _read_again_later(refund_id: int, now) -> None:
    refund = refunds.lock_refund(refund_id)
    if refund.status == REFUND_PENDING:
        _later(refund, now)


def _later(refund: Refund, now) -> None:
    # ``attempts`` counts every call about the refund, the one that made it first.
    rechecks = max(refund.attempts - 1, 0)
    refund.next_attempt_at = now + timedelta(seconds=RECHECK_INTERVALS[
        min(rechecks, len(RECHECK_INTERVALS) - 1)])
    refund.attempts += 1
