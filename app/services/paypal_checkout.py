"""The customer's way back from PayPal's approval page: capture, then settle.

PayPal sends the customer back to our return URL with the order id (``token``); that
return proves nothing (anyone can type the address). :func:`capture_on_return` asks
PayPal to capture the order and settles the payment from the order PayPal then reports
(:func:`app.services.payments.settle`): only a ``COMPLETED`` capture pays. An order not
approved stays unpaid, a declined funding source waits for another approval, and a
repeated return reads the capture already made (an intent-CAPTURE order is captured once
at most, whatever the PayPal-Request-Id).

:func:`reconciled_order` is PayPal's part of reconciliation: an order the customer approved
but never came back from (and whose webhook never came) is captured while its booking is
still pending, and left uncaptured once the booking no longer waits for its money.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from flask import current_app
from sqlalchemy import select

from app.errors import Conflict
from app.extensions import db
from app.gateways.payments import GatewayError, IntentState
from app.models import Booking
from app.models.bookings import PENDING
from app.models.payments import CANCELED, PAYPAL, SUCCEEDED, Payment
from app.services.payments import (
    GatewayUnavailable,
    payment_for_customer,
    paypal_configured,
    paypal_gateway,
    paypal_key,
    paypal_request_key,
    settle_by_id,
)
from app.services.transactions import end_read


#: PayPal's JS SDK, for sandbox and live client ids alike.
PAYPAL_JS_SDK = "https://www.paypal.com/sdk/js"


def is_paypal_host(url: str) -> bool:
    host = urlsplit(url or "").hostname or ""
    return host == "paypal.com" or host.endswith(".paypal.com")


def js_sdk_url() -> str | None:
    """Where the storefront loads PayPal's JS SDK from (no query), or None: then "Pay with
    PayPal" is the plain form to the approval page. PAYPAL_JS_SDK_URL when set (empty:
    none); unset, PayPal's own when PAYPAL_API_BASE is PayPal's, none for a stand-in."""
    if not paypal_configured():
        return None
    configured = current_app.config.get("PAYPAL_JS_SDK_URL")
    if configured is not None:
        return configured.strip() or None
    return PAYPAL_JS_SDK if is_paypal_host(current_app.config.get("PAYPAL_API_BASE")) \
        else None


def js_sdk_script(currency: str) -> str | None:
    """The SDK's address for a payment in ``currency``, as PayPal's buttons need it: the
    order's currency and intent must match the ones it is loaded with. Venmo is left out
    (a US-only wallet this shop does not offer), so its domain need not be allowed."""
    base = js_sdk_url()
    if base is None:
        return None
    query = urlencode({"client-id": current_app.config["PAYPAL_CLIENT_ID"],
                       "currency": currency.upper(), "intent": "capture",
                       "disable-funding": "venmo"})
    return f"{base}{'&' if '?' in base else '?'}{query}"


@dataclass(frozen=True)
class Returned:
    """Where the payment stands after the return; ``approval_url``: PayPal declined the
    funding source and the customer may approve again there with another."""

    id: int
    status: str
    amount_minor: int
    received_minor: int | None
    refunded_minor: int
    currency: str
    method: str | None
    succeeded_at: datetime | None
    failure_code: str | None
    approval_url: str | None = None


def capture_on_return(reference: str, *, customer_id: int, order_id: str) -> Returned:
    """Capture the customer's approved PayPal order for their booking and settle it."""
    payment = payment_for_customer(reference, customer_id=customer_id)  # 404: not theirs
    payment_id, status, gateway_name = payment.id, payment.status, payment.gateway
    key = paypal_key(payment)
    order_matches = payment.provider_reference == order_id
    booking_status = db.session.scalar(select(Booking.status).where(
        Booking.id == payment.booking_id))
    end_read()  # nothing stays open across PayPal's calls
    if gateway_name != PAYPAL:
        raise Conflict("payment.not_paypal", "This booking is not being paid with PayPal.")
    if not order_matches:
        raise Conflict("payment.order_mismatch",
                       "That PayPal order is not this booking's payment.",
                       {"order_id": ["Not the order PayPal was asked to approve."]})
    if status == SUCCEEDED:
        return _fresh(payment_id)  # a repeated return: paid already
    if booking_status != PENDING:
        raise Conflict("payment.not_payable",
                       f"A {booking_status} booking cannot be paid online.",
                       {"status": [booking_status]})

    gateway = paypal_gateway()
    try:
        # A fresh request id per return: after a declined funding source the customer may
        # approve again, and that capture must not be answered with the stored decline.
        state = gateway.capture(order_id, idempotency_key=paypal_request_key(
            key, f"capture-{uuid.uuid4().hex[:12]}-"))
    except GatewayError as exc:
        if exc.retryable:
            raise GatewayUnavailable("payment.gateway_unavailable",
                                     "PayPal did not answer; try again in a moment.") from exc
        raise Conflict("payment.capture_refused", exc.message) from exc
    settle_by_id(payment_id, state, reason="PayPal order captured on the customer's return")
    return _fresh(payment_id, state.approval_url if state.failure_code else None)


def _fresh(payment_id: int, approval_url: str | None = None) -> Returned:
    # Inline consumers (no Redis) end the session on their way: read the outcome afresh.
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    return Returned(id=payment.id, status=payment.status, amount_minor=payment.amount_minor,
                    received_minor=payment.received_minor,
                    refunded_minor=payment.refunded_minor, currency=payment.currency,
                    method=payment.method, succeeded_at=payment.succeeded_at,
                    failure_code=payment.failure_code, approval_url=approval_url)


#: failure_code of a payment whose approved order was left uncaptured (booking gone).
LEFT_UNCAPTURED = "order_left_uncaptured"


def reconciled_order(payment_id: int, order_id: str) -> IntentState:
    """The state to settle an unsettled PayPal payment with, as reconciliation sees it.

    Re-reads the order. Approved but not captured: captured if the booking is still
    pending (it is paid only if PayPal reports the capture completed); otherwise left
    uncaptured and answered as canceled, so the payment ends and is not re-read again.
    Orders v2 has no void for intent CAPTURE (only authorizations can be voided): an
    approved order nobody captures simply lapses at PayPal, and no money moves."""
    payment = db.session.get(Payment, payment_id)
    key = paypal_key(payment)
    booking_status = db.session.scalar(select(Booking.status).where(
        Booking.id == payment.booking_id))
    end_read()  # nothing stays open across PayPal's calls
    gateway = paypal_gateway()
    state = gateway.retrieve_intent(order_id)
    if not state.awaits_capture:
        return state
    if booking_status == PENDING:
        return gateway.capture(order_id, idempotency_key=paypal_request_key(
            key, f"capture-{uuid.uuid4().hex[:12]}-"))
    return IntentState(**{
        **state.__dict__, "status": CANCELED, "awaits_capture": False,
        "failure_code": LEFT_UNCAPTURED,
        "failure_reason": f"Approved at PayPal after the booking was {booking_status}; "
                          "the order was left uncaptured (nothing was taken)."})
