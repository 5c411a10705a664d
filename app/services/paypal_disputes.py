"""PayPal's dispute events: the disputed payment is flagged for staff.

``CUSTOMER.DISPUTE.CREATED``, ``UPDATED`` and ``RESOLVED`` are settled from the dispute as
PayPal shows it now (``GET /v1/customer/disputes/{id}``, re-read through the gateway),
never from the event's copy. The disputed transaction's ``seller_transaction_id`` is the
capture; its order is our payment's ``provider_reference``. A dispute flags the payment
(``attention``) and publishes ``payment.disputed`` once, as Stripe's
``charge.dispute.created`` does; a later read of it (an update, a repeat, events out of
order) rewrites the note from PayPal's current state and publishes nothing more (the
inbox says whether an event of the dispute was acted on already). A resolved dispute
keeps the flag with its outcome for staff to read. A dispute moves no money by itself:
when PayPal decides for the buyer it reverses the capture, and that arrives as
``PAYMENT.CAPTURE.REVERSED`` (:mod:`app.services.paypal_refund_events`).
"""
from __future__ import annotations

from functools import partial

from sqlalchemy import select

from app import events
from app.extensions import db
from app.gateways.payments import GatewayError
from app.models.payments import EVENT_IGNORED, EVENT_PROCESSED, Payment, PaymentEvent
from app.services import event_payloads
from app.services.money import format_money
from app.services.payment_webhooks import _finish, apply_to_payment, gateway_read_failed
from app.services.payments import paypal_gateway
from app.services.paypal_refund_events import payment_of_capture
from app.services.transactions import retrying

HANDLED = ("CUSTOMER.DISPUTE.CREATED", "CUSTOMER.DISPUTE.UPDATED",
           "CUSTOMER.DISPUTE.RESOLVED")


def process(row_id: int, resource: dict, *, final_attempt: bool) -> str:
    """Act on a stored dispute event once; returns its status afterwards."""
    dispute_id = resource.get("dispute_id")
    if not isinstance(dispute_id, str) or not dispute_id:
        return _finish(row_id, EVENT_IGNORED, "the event names no dispute")
    try:
        gateway = paypal_gateway()
        dispute = gateway.retrieve_dispute(dispute_id)
        payment_id = next(filter(None, (payment_of_capture(gateway, capture)
                                        for capture in dispute.capture_references)), None)
    except GatewayError as exc:
        return gateway_read_failed(row_id, exc, final_attempt, "PayPal")
    if payment_id is None:
        return _finish(row_id, EVENT_IGNORED, "no payment of ours matches it")
    return retrying(apply_to_payment, row_id, payment_id, partial(_flag, dispute),
                    busy_code="payment.busy")


def _flag(dispute, payment: Payment) -> str:
    marker = f"PayPal dispute {dispute.reference}"
    note = payment.attention or ""
    if marker + " resolved" in note and not dispute.resolved:
        return f"{marker} already resolved; an older read changes nothing"
    if dispute.resolved:
        payment.attention = (f"{marker} resolved: {dispute.outcome or 'no outcome given'} "
                             f"(reason {dispute.reason or 'not given'}).")
        return f"flagged: dispute resolved, {dispute.outcome}"
    amount = format_money(dispute.amount_minor, dispute.currency) or "an amount not given"
    payment.attention = (f"{marker} over {amount} (reason {dispute.reason or 'not given'}, "
                         f"stage {dispute.stage or 'not given'}, status {dispute.status}): "
                         "answer it in PayPal's Resolution Center.")
    if _acted_on_before(payment.id, dispute.reference):
        return f"flagged: disputed, now {dispute.status}"
    events.publish("payment.disputed", event_payloads.dispute(payment.id, {
        "id": dispute.reference, "amount": dispute.amount_minor, "reason": dispute.reason}),
        provider_id=payment.provider_id)
    return "flagged: disputed"


def _acted_on_before(payment_id: int, dispute_id: str) -> bool:
    """Whether an earlier event of this dispute was processed for the payment (the inbox
    is the record: the note may have been rewritten or cleared since)."""
    payloads = db.session.scalars(select(PaymentEvent.payload).where(
        PaymentEvent.payment_id == payment_id, PaymentEvent.type.in_(HANDLED),
        PaymentEvent.status == EVENT_PROCESSED))
    return any(((payload or {}).get("resource") or {}).get("dispute_id") == dispute_id
               for payload in payloads)
