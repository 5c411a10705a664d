"""PayPal webhooks: verified by PayPal, stored in the payments inbox, then acted on.

``receive`` asks PayPal's verify-webhook-signature call whether the delivery is one PayPal
signed for our webhook (``PAYPAL_WEBHOOK_ID``); a delivery it does not confirm is refused
(400) and stores nothing, as Stripe's do. A confirmed event is stored by PayPal's event id
in the same inbox as Stripe's (a repeat stores nothing) and handed to the same job.

``process`` (called by :func:`app.services.payment_webhooks.process` for the inbox's PayPal
rows) hands refund and reversal events to :mod:`app.services.paypal_refund_events` and
dispute events to :mod:`app.services.paypal_disputes`. For an order's events it finds our
payment from the order id (or the installation's invoice id) in the event, then settles
it from the order as PayPal reports it *now*, never from the event's copy, so repeated
and out-of-order events change nothing twice. An approved order whose
customer never came back is captured here while its booking is still pending; it is paid
only when PayPal reports the capture completed.
"""
from __future__ import annotations

import logging
import uuid

from flask import current_app
from sqlalchemy import select, update

from app.extensions import db
from app.gateways.payments import GatewayError, WebhookInvalid
from app.models import Booking
from app.models.bookings import PENDING
from app.models.payments import (
    EVENT_IGNORED,
    PAYPAL,
    SUCCEEDED,
    Payment,
    PaymentEvent,
)
from app.services import paypal_disputes, paypal_refund_events
from app.services.payment_webhooks import (
    Received,
    WebhookRejected,
    _apply_event,
    _finish,
    _hand_over,
    _store,
    gateway_read_failed,
)
from app.services.payments import (
    GatewayUnavailable,
    paypal_gateway,
    paypal_key,
    paypal_request_key,
)
from app.services.transactions import retrying, unit_of_work

log = logging.getLogger(__name__)

ORDER_APPROVED = "CHECKOUT.ORDER.APPROVED"
CAPTURE_EVENTS = ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED",
                  "PAYMENT.CAPTURE.PENDING")
HANDLED = (ORDER_APPROVED,) + CAPTURE_EVENTS


def receive(raw_body: bytes, headers) -> Received:
    """Verify (PayPal's call) and store one webhook; enqueue its processing."""
    config = current_app.config
    if not (config.get("PAYPAL_WEBHOOK_ID") and config.get("PAYPAL_CLIENT_ID")
            and config.get("PAYPAL_CLIENT_SECRET")):
        raise WebhookRejected("webhook.not_configured", "PayPal webhooks are not set up here.")
    try:
        event = paypal_gateway().verified_event(headers, raw_body)
    except WebhookInvalid as exc:
        code = "webhook.malformed" if exc.reason == "malformed" else "webhook.signature_invalid"
        log.warning("PayPal webhook refused: %s", exc.message)
        raise WebhookRejected(code, exc.message) from exc
    except GatewayError as exc:  # PayPal could not be asked: it delivers again later
        raise GatewayUnavailable("webhook.verification_unavailable",
                                 f"PayPal's verification did not answer: {exc.message}") \
            from exc
    event_id, event_type = str(event["id"]), str(event["event_type"])
    row_id = _store(event_id, event_type, event, PAYPAL)
    if row_id is not None:
        _hand_over(row_id)
    return Received(row_id=row_id, event_id=event_id, type=event_type)


def process(row_id: int, event: PaymentEvent, *, final_attempt: bool) -> str:
    """Act on a stored PayPal event once; returns its status afterwards."""
    event_type, resource = event.type, dict(event.payload.get("resource") or {})
    if event_type in paypal_refund_events.HANDLED:
        return paypal_refund_events.process(row_id, event_type, resource,
                                            final_attempt=final_attempt)
    if event_type in paypal_disputes.HANDLED:
        return paypal_disputes.process(row_id, resource, final_attempt=final_attempt)
    if event_type not in HANDLED:
        return _finish(row_id, EVENT_IGNORED, f"{event_type} is not acted on")
    order_id, payment_id, capture = _payment_for(resource, event_type)
    if payment_id is None:
        return _finish(row_id, EVENT_IGNORED, "no payment of ours matches it")

    try:
        gateway = paypal_gateway()
        if capture:
            state = gateway.capture(order_id, idempotency_key=paypal_request_key(
                capture, f"capture-{uuid.uuid4().hex[:12]}-"))
        else:
            state = gateway.retrieve_intent(order_id)
    except GatewayError as exc:
        return gateway_read_failed(row_id, exc, final_attempt, "PayPal")

    return retrying(_apply_event, row_id, payment_id, event_type, resource, state, None,
                    "PayPal", busy_code="payment.busy")


@unit_of_work()
def _payment_for(resource: dict, event_type: str) -> tuple[str | None, int | None, str | None]:
    """The order id, our payment's id, and (for an approved order whose booking waits for
    its money) the payment's PayPal key to capture it with; None when not ours.

    By order id; else (an event that came before we stored the order's id) by the invoice
    id we gave the order, which names this installation and the payment."""
    if event_type == ORDER_APPROVED:
        order_id = resource.get("id")
        unit = (resource.get("purchase_units") or [{}])[0]
    else:
        order_id = ((resource.get("supplementary_data") or {}).get("related_ids") or {}) \
            .get("order_id")
        unit = resource
    if not isinstance(order_id, str) or not order_id:
        return None, None, None
    payment = db.session.scalar(select(Payment).where(
        Payment.gateway == PAYPAL, Payment.provider_reference == order_id))
    if payment is None:
        payment = _by_invoice(unit, order_id)
    if payment is None:
        return order_id, None, None
    booking_status = db.session.scalar(select(Booking.status).where(
        Booking.id == payment.booking_id))
    capture = paypal_key(payment) if event_type == ORDER_APPROVED and \
        payment.status != SUCCEEDED and booking_status == PENDING else None
    return order_id, payment.id, capture


def _by_invoice(unit: dict, order_id: str) -> Payment | None:
    custom_id = str(unit.get("custom_id") or "")
    if not custom_id.isdigit():
        return None
    payment = db.session.get(Payment, int(custom_id))
    if payment is None or payment.gateway != PAYPAL or payment.provider_reference is not None \
            or unit.get("invoice_id") != paypal_request_key(paypal_key(payment), ""):
        return None
    db.session.execute(update(Payment).where(Payment.id == payment.id,
                                             Payment.provider_reference.is_(None))
                       .values(provider_reference=order_id))
    return db.session.get(Payment, payment.id, populate_existing=True)

