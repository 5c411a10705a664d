"""Payment gateways behind one small interface: Stripe, and manual (paid at the venue).

A gateway creates and re-reads payment intents and refunds; it knows nothing about
bookings or the database. Errors say whether trying again later can help
(``GatewayError.retryable``). PayPal (``app/gateways/paypal.py``) implements the same
methods.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import stripe

from app.models.payments import (
    CANCELED,
    MANUAL,
    PROCESSING,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    REQUIRES_ACTION,
    REQUIRES_PAYMENT,
    STRIPE,
    SUCCEEDED,
)


@dataclass(frozen=True)
class IntentState:
    """What the gateway says about a payment, in our own vocabulary."""

    reference: str
    status: str
    amount_minor: int
    currency: str  # upper case ISO 4217
    received_minor: int
    client_secret: str | None = None
    method: str | None = None
    failure_reason: str | None = None
    failure_code: str | None = None  # Stripe's decline_code, else its code
    metadata: dict = field(default_factory=dict)
    approval_url: str | None = None  # where the customer approves it (PayPal)
    awaits_capture: bool = False  # approved by the payer, money not taken yet (PayPal)


@dataclass(frozen=True)
class RefundState:
    reference: str
    status: str  # REFUND_PENDING | REFUND_SUCCEEDED | REFUND_FAILED
    amount_minor: int  # always positive (PayPal shows a reversal's as negative)
    capture_reference: str | None = None  # PayPal: the capture it gives money back from


@dataclass(frozen=True)
class ChargeState:
    """A charge as re-read for ``charge.*`` events: what has been refunded so far."""

    reference: str
    intent_reference: str | None
    amount_refunded_minor: int
    refunds: tuple[RefundState, ...] = ()


class GatewayError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class WebhookInvalid(Exception):
    """A webhook body that is not a fresh event signed with our secret (``reason``
    ``"signature"``), or signed but not shaped as a Stripe event (``"malformed"``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def verified_stripe_event(raw_body: bytes, signature: str, secret: str,
                          tolerance: int) -> dict:
    """The event a Stripe webhook carries, once its signature is checked against the
    secret and its timestamp lies within ``tolerance`` seconds of now (either way)."""
    try:
        payload_text = raw_body.decode("utf-8")
        stripe.WebhookSignature.verify_header(payload_text, signature, secret,
                                              tolerance=tolerance)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise WebhookInvalid("signature", f"The signature does not match: {exc}") from exc
    _refuse_future_timestamp(signature, tolerance)
    try:
        event = json.loads(payload_text)
        str(event["id"]), str(event["type"])
        event["data"]["object"]
    except (ValueError, KeyError, TypeError) as exc:
        raise WebhookInvalid("malformed", "Not a Stripe event.") from exc
    return event


def _refuse_future_timestamp(signature: str, tolerance: int) -> None:
    """stripe-python refuses only timestamps older than the tolerance; one from the future
    would let a captured signature be replayed for as long as it lies ahead."""
    if not tolerance:
        return
    # Read as stripe-python reads it; verify_header accepted it, so it parses.
    items = [item.split("=", 2) for item in signature.split(",")]
    timestamp = int([item[1] for item in items if item[0] == "t"][0])
    if timestamp > time.time() + tolerance:
        raise WebhookInvalid("signature", "The signature's timestamp lies in the future.")


class StripeGateway:
    """Stripe through stripe-python's ``StripeClient``; ``api_base`` for a test server."""

    name = STRIPE

    def __init__(self, secret_key: str, *, publishable_key: str | None = None,
                 api_base: str | None = None, timeout: float = 10.0) -> None:
        options: dict = {"max_network_retries": 0,  # our jobs retry, with backoff
                         "http_client": stripe.RequestsClient(timeout=timeout)}
        if api_base:
            options["base_addresses"] = {"api": api_base.rstrip("/")}
        self._client = stripe.StripeClient(secret_key, **options)
        self.publishable_key = publishable_key

    def create_intent(self, *, amount_minor: int, currency: str, metadata: dict,
                      idempotency_key: str) -> IntentState:
        params = {"amount": amount_minor, "currency": currency.lower(),
                  "metadata": {k: str(v) for k, v in metadata.items()},
                  "payment_method_types": ["card"]}
        return self._call(lambda: _intent(self._client.v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key})))

    def retrieve_intent(self, reference: str) -> IntentState:
        return self._call(lambda: _intent(self._client.v1.payment_intents.retrieve(reference)))

    def confirm_with_test_card(self, reference: str, card: str = "pm_card_visa") -> IntentState:
        """Server-side confirmation with a test payment method (demo and tests only)."""
        def confirm():
            # Attach, then confirm: the two-step form every Stripe-compatible server takes.
            self._client.v1.payment_intents.update(reference, params={"payment_method": card})
            return _intent(self._client.v1.payment_intents.confirm(reference))
        return self._call(confirm)

    def refund(self, *, intent_reference: str, amount_minor: int,
               idempotency_key: str) -> RefundState:
        charge = self._call(lambda: self._latest_charge(intent_reference))
        params = {"amount": amount_minor}
        params["charge" if charge else "payment_intent"] = charge or intent_reference
        return self._call(lambda: _refund(self._client.v1.refunds.create(
            params=params, options={"idempotency_key": idempotency_key})))

    def retrieve_charge(self, reference: str) -> ChargeState:
        def read():
            charge = _plain(self._client.v1.charges.retrieve(reference))
            refunds = (charge.get("refunds") or {}).get("data") or []
            return ChargeState(
                reference=charge["id"], intent_reference=charge.get("payment_intent"),
                amount_refunded_minor=int(charge.get("amount_refunded") or 0),
                refunds=tuple(_refund(r) for r in refunds))
        return self._call(read)

    def retrieve_refund(self, reference: str) -> RefundState:
        return self._call(lambda: _refund(self._client.v1.refunds.retrieve(reference)))

    def _latest_charge(self, intent_reference: str) -> str | None:
        # Refunds name the charge: Stripe accepts the intent too, some stand-ins do not.
        intent = _plain(self._client.v1.payment_intents.retrieve(intent_reference))
        latest = intent.get("latest_charge")
        if latest:
            return latest if isinstance(latest, str) else latest.get("id")
        charges = (intent.get("charges") or {}).get("data") or []
        return charges[-1]["id"] if charges else None

    @staticmethod
    def _call(request):
        try:
            return request()
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise GatewayError(f"Stripe unreachable: {_message(exc)}", retryable=True) from exc
        except stripe.StripeError as exc:
            status = getattr(exc, "http_status", None) or 0
            raise GatewayError(f"Stripe refused: {_message(exc)}",
                               retryable=status >= 500 or status == 409) from exc


def warm_up() -> None:
    """Load the parts of stripe-python it loads on first use (the client's services, the
    resource classes its answers become): about 70 ms a process. A worker that forks per
    job calls it before forking. No request is made."""
    client = StripeGateway("sk_warm_up")._client
    # Touching them loads them.
    client.v1.payment_intents, client.v1.refunds, client.v1.charges
    stripe.PaymentIntent, stripe.Refund, stripe.Charge, stripe.Event


class ManualGateway:
    """Paid at the venue: nothing online. Staff record the payment in the console."""

    name = MANUAL
    publishable_key = None


_STATUS = {
    "requires_payment_method": REQUIRES_PAYMENT,
    "requires_confirmation": REQUIRES_PAYMENT,
    "requires_action": REQUIRES_ACTION,
    "processing": PROCESSING,
    "requires_capture": PROCESSING,
    "succeeded": SUCCEEDED,
    "canceled": CANCELED,
}
_REFUND_STATUS = {"succeeded": REFUND_SUCCEEDED, "pending": REFUND_PENDING,
                  "requires_action": REFUND_PENDING, "failed": REFUND_FAILED,
                  "canceled": REFUND_FAILED}


def _plain(obj) -> dict:
    """stripe-python's objects are not dicts; read them as plain (nested) dicts."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def _intent(intent) -> IntentState:
    intent = _plain(intent)
    error = intent.get("last_payment_error")
    # A declined attempt leaves the intent waiting for another payment method
    # (requires_payment, with the error): the customer may retry while the hold lasts.
    status = _STATUS.get(intent["status"], PROCESSING)
    return IntentState(
        reference=intent["id"], status=status, amount_minor=int(intent["amount"]),
        currency=str(intent["currency"]).upper(),
        received_minor=_received(intent, status),
        client_secret=intent.get("client_secret"),
        method=(intent.get("payment_method_types") or ["card"])[0],
        failure_reason=(error or {}).get("message") if error else None,
        failure_code=_failure_code(error),
        metadata=dict(intent.get("metadata") or {}))


def _failure_code(error: dict | None) -> str | None:
    """Why an attempt failed, as a code: the bank's reason (``decline_code``, e.g.
    insufficient_funds) where Stripe gives one, else the error's ``code``."""
    if not error:
        return None
    code = error.get("decline_code") or error.get("code")
    return str(code)[:64] if code else None


def _received(intent: dict, status: str) -> int:
    if "amount_received" in intent:
        return int(intent["amount_received"] or 0)
    # Stand-ins that leave the field out (localstripe): a succeeded intent received it all.
    return int(intent["amount"]) if status == SUCCEEDED else 0


def _refund(refund) -> RefundState:
    refund = _plain(refund)
    return RefundState(reference=refund["id"],
                       status=_REFUND_STATUS.get(refund.get("status"), REFUND_PENDING),
                       amount_minor=int(refund["amount"]))


def _message(exc: Exception) -> str:
    return getattr(exc, "user_message", None) or str(exc) or exc.__class__.__name__
