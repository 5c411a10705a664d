"""PayPal's refund and reversal events, settled from the refund as PayPal shows it now.

``PAYMENT.CAPTURE.REFUNDED`` (PayPal sends it when a refund completes, ours or one made in
PayPal's dashboard), ``PAYMENT.REFUND.PENDING``, ``PAYMENT.REFUND.FAILED`` and
``PAYMENT.CAPTURE.REVERSED`` all carry a refund-shaped resource. Its body is never
trusted: the refund is re-read (``retrieve_refund``), and our payment is found from our
own refund row, else from the capture the refund points to ("up"), whose order is the
payment's ``provider_reference``. Settling is :func:`app.services.refunds.apply_gateway_refund`,
the same rule as Stripe's ``charge.refunded``, so repeated and out-of-order events change
nothing twice.

A reversal (PayPal took the money back: a chargeback, or a dispute PayPal decided for the
buyer) is money the customer got back without us. It is recorded as a succeeded refund of
its amount (PayPal shows it with a negative amount), because the payment and its booking
must say what we still hold: receipts get their credit note, and a booking reversed in
full becomes ``refunded`` like one refunded in full, its places given back. Nobody asked
for it, so the payment is also flagged for staff (``attention``), who may have to
contest the dispute or rebook the customer.
"""
from __future__ import annotations

from functools import partial

from sqlalchemy import select

from app.extensions import db
from app.gateways.payments import GatewayError, RefundState
from app.models.payments import EVENT_IGNORED, PAYPAL, REFUND_SUCCEEDED, Payment, Refund
from app.services import refunds
from app.services.money import format_money
from app.services.payment_webhooks import _finish, apply_to_payment, gateway_read_failed
from app.services.payments import paypal_gateway
from app.services.transactions import retrying, unit_of_work

REFUNDED, REVERSED = "PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"
HANDLED = (REFUNDED, REVERSED, "PAYMENT.REFUND.PENDING", "PAYMENT.REFUND.FAILED")


def process(row_id: int, event_type: str, resource: dict, *, final_attempt: bool) -> str:
    """Act on a stored refund or reversal event once; returns its status afterwards."""
    refund_id = resource.get("id")
    if not isinstance(refund_id, str) or not refund_id:
        return _finish(row_id, EVENT_IGNORED, "the event names no refund")
    try:
        gateway = paypal_gateway()
        state = gateway.retrieve_refund(refund_id)
        payment_id = _payment_of_refund(refund_id) or payment_of_capture(
            gateway, state.capture_reference)
    except GatewayError as exc:
        return gateway_read_failed(row_id, exc, final_attempt, "PayPal")
    if payment_id is None:
        return _finish(row_id, EVENT_IGNORED, "no payment of ours matches it")
    return retrying(apply_to_payment, row_id, payment_id,
                    partial(_settle, event_type == REVERSED, state), busy_code="payment.busy")


def payment_of_capture(gateway, capture_id: str | None) -> int | None:
    """Our PayPal payment whose order holds this capture, as PayPal says (None: not ours)."""
    if not capture_id:
        return None
    order_id = gateway.order_of_capture(capture_id)
    return _payment_of_order(order_id) if order_id else None


@unit_of_work()
def _payment_of_order(order_id: str) -> int | None:
    return db.session.scalar(select(Payment.id).where(
        Payment.gateway == PAYPAL, Payment.provider_reference == order_id))


@unit_of_work()
def _payment_of_refund(refund_id: str) -> int | None:
    return db.session.scalar(select(Refund.payment_id).join(Payment).where(
        Refund.provider_reference == refund_id, Payment.gateway == PAYPAL))


def _settle(reversal: bool, state: RefundState, payment: Payment) -> str:
    if not reversal:
        moved = refunds.apply_gateway_refund(payment, state)
        return f"refund {state.reference}: {moved or 'unchanged, PayPal says ' + state.status}"
    amount = format_money(state.amount_minor, payment.currency)
    noted = payment.attention
    moved = refunds.apply_gateway_refund(
        payment, state, outside_reason=f"reversed by PayPal ({state.reference})")
    if moved != REFUND_SUCCEEDED:
        return f"reversal {state.reference}: unchanged, PayPal says {state.status}"
    beyond = f" {payment.attention}" if payment.attention != noted else ""  # not all counted
    payment.attention = (f"PayPal reversed {amount} of this payment (reversal "
                         f"{state.reference}), usually for a chargeback or a dispute decided "
                         f"for the buyer; recorded as refunded. Check the booking.{beyond}"
                         )[:2000]
    return f"reversal {state.reference} of {amount} recorded as refunded; flagged"
