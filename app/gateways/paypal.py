"""PayPal through its official server SDK (``paypal-server-sdk``): Orders v2 with capture.

The same small interface as :class:`app.gateways.payments.StripeGateway`: an order is the
"intent" (its id is the payment's ``provider_reference``), read back in our own
vocabulary (:class:`IntentState`, :class:`RefundState`); failures are
:class:`GatewayError` saying whether trying again can help. Money is integer minor units
everywhere but in the requests, where PayPal wants decimal strings in major units.

An order is paid only when its capture is ``COMPLETED``: an approved order is money
promised, not taken (``PROCESSING`` until captured).

The SDK (2.4.0) has no call for webhooks or disputes, so :meth:`PayPalGateway.verified_event`
calls ``/v1/notifications/verify-webhook-signature`` and :meth:`PayPalGateway.retrieve_dispute`
``/v1/customer/disputes/{id}`` through the SDK's own request machinery (its OAuth token,
base address, timeouts and errors), as its generated controllers do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import requests
from apimatic_core.authentication.multiple.single_auth import Single
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from apimatic_core.request_builder import RequestBuilder
from apimatic_core.response_handler import ResponseHandler
from apimatic_core.types.parameter import Parameter
from babel.numbers import get_currency_precision
from paypalserversdk.api_helper import APIHelper
from paypalserversdk.configuration import Configuration, Server
from paypalserversdk.controllers.base_controller import BaseController
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.http.http_method_enum import HttpMethodEnum
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
from paypalserversdk.models.money import Money
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.payment_source import PaymentSource
from paypalserversdk.models.paypal_experience_user_action import PaypalExperienceUserAction
from paypalserversdk.models.paypal_wallet import PaypalWallet
from paypalserversdk.models.paypal_wallet_context_shipping_preference import (
    PaypalWalletContextShippingPreference,
)
from paypalserversdk.models.paypal_wallet_experience_context import (
    PaypalWalletExperienceContext,
)
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from app.gateways.payments import GatewayError, IntentState, RefundState, WebhookInvalid
from app.models.payments import (
    CANCELED,
    FAILED,
    PROCESSING,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    REQUIRES_PAYMENT,
    SUCCEEDED,
)

PAYPAL = "paypal"
SANDBOX_API_BASE = "https://api-m.sandbox.paypal.com"
#: PayPal takes these without decimals, whatever our minor units (TWD's have two).
WHOLE_UNITS_ONLY = {"HUF", "JPY", "TWD"}
_WEBHOOK_HEADERS = {"transmission_id": "paypal-transmission-id",
                    "transmission_time": "paypal-transmission-time",
                    "transmission_sig": "paypal-transmission-sig",
                    "cert_url": "paypal-cert-url", "auth_algo": "paypal-auth-algo"}


class PayPalRefused(GatewayError):
    """PayPal answered with an error; ``issue`` is its first detail's issue
    (``REFUND_AMOUNT_EXCEEDED``, ``INSTRUMENT_DECLINED``, ...) or its error name."""

    def __init__(self, message: str, *, retryable: bool, issue: str | None,
                 links: dict[str, str] | None = None) -> None:
        super().__init__(message, retryable=retryable)
        self.issue, self.links = issue, links or {}


@dataclass(frozen=True)
class DisputeState:
    """A PayPal dispute as PayPal shows it now (Disputes API v1)."""

    reference: str  # PayPal's dispute id (PP-D-...)
    status: str  # OPEN, WAITING_FOR_SELLER_RESPONSE, UNDER_REVIEW, RESOLVED, ...
    reason: str | None
    stage: str | None  # INQUIRY, CHARGEBACK, PRE_ARBITRATION, ARBITRATION
    outcome: str | None  # once RESOLVED: RESOLVED_BUYER_FAVOUR, RESOLVED_SELLER_FAVOUR, ...
    amount_minor: int | None
    currency: str | None
    capture_references: tuple[str, ...]  # the disputed captures (seller_transaction_id)

    @property
    def resolved(self) -> bool:
        return self.status == "RESOLVED"


class PayPalGateway:
    """PayPal's REST API at ``api_base`` (PayPal's sandbox, its live address, or a
    stand-in such as devservices/paypal_server.py)."""

    name = PAYPAL
    publishable_key = None  # the storefront is sent to PayPal's approval page instead

    def __init__(self, client_id: str, client_secret: str, *,
                 api_base: str = SANDBOX_API_BASE, webhook_id: str | None = None,
                 timeout: float = 10.0) -> None:
        config = _Configuration(
            api_base, timeout=timeout, max_retries=0,  # our jobs retry, with backoff
            client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                o_auth_client_id=client_id, o_auth_client_secret=client_secret))
        self._client = PaypalServersdkClient(config=config)
        self._notifications = _NotificationsController(self._client.global_configuration)
        self._disputes = _DisputesController(self._client.global_configuration)
        self.webhook_id = webhook_id

    # --- orders ---------------------------------------------------------------------------

    def create_intent(self, *, amount_minor: int, currency: str, metadata: dict,
                      idempotency_key: str, return_url: str,
                      cancel_url: str) -> IntentState:
        """An order for ``amount_minor`` that the buyer approves at
        :attr:`IntentState.approval_url`, then comes back to ``return_url``. Our payment id
        (``metadata["payment_id"]``) goes with it as ``custom_id``, and as ``invoice_id``
        unless ``metadata["invoice_id"]`` names one (PayPal keeps those unique for good)."""
        payment_id = str(metadata["payment_id"])
        invoice_id = str(metadata.get("invoice_id") or payment_id)[:127]
        unit = PurchaseUnitRequest(
            amount=AmountWithBreakdown(currency_code=currency.upper(),
                                       value=_major_units(amount_minor, currency)),
            custom_id=payment_id, invoice_id=invoice_id)
        if metadata.get("booking_reference"):
            unit.description = f"Booking {metadata['booking_reference']}"[:127]
        experience = PaypalWalletExperienceContext(
            return_url=return_url, cancel_url=cancel_url,
            user_action=PaypalExperienceUserAction.PAY_NOW,
            shipping_preference=PaypalWalletContextShippingPreference.NO_SHIPPING)
        if metadata.get("brand_name"):  # PayPal's page names this merchant, not the account's
            experience.brand_name = str(metadata["brand_name"])[:127]
        body = OrderRequest(intent=CheckoutPaymentIntent.CAPTURE, purchase_units=[unit],
                            payment_source=PaymentSource(
                                paypal=PaypalWallet(experience_context=experience)))
        return self._call(lambda: _intent(_json(self._client.orders.create_order({
            "body": body, "paypal_request_id": idempotency_key,
            "prefer": "return=representation"}))))

    def retrieve_intent(self, reference: str) -> IntentState:
        return self._call(lambda: _intent(self._order(reference)))

    def capture(self, reference: str, *, idempotency_key: str) -> IntentState:
        """Take the money of an approved order. An order not approved yet, captured
        already, or whose funding was declined (``INSTRUMENT_DECLINED``: the buyer may
        approve again with another) is read back as it stands rather than raised."""
        try:
            return self._call(lambda: _intent(_json(self._client.orders.capture_order({
                "id": reference, "paypal_request_id": idempotency_key,
                "prefer": "return=representation"}))))
        except PayPalRefused as exc:
            if exc.issue not in ("ORDER_NOT_APPROVED", "ORDER_ALREADY_CAPTURED",
                                 "INSTRUMENT_DECLINED"):
                raise
            refused = exc
        state = self.retrieve_intent(reference)
        if refused.issue == "INSTRUMENT_DECLINED" and state.status != SUCCEEDED:
            return _with_decline(state, refused)
        return state

    # --- refunds --------------------------------------------------------------------------

    def refund(self, *, intent_reference: str, amount_minor: int,
               idempotency_key: str) -> RefundState:
        """Refund part or all of the order's capture (PayPal refuses more than is left)."""
        def refund():
            capture = _capture_of(self._order(intent_reference))
            if capture is None:
                raise PayPalRefused(f"PayPal order {intent_reference} has no capture to "
                                    "refund.", retryable=False, issue="NO_CAPTURE")
            currency = capture["amount"]["currency_code"]
            body = RefundRequest(amount=Money(currency_code=currency,
                                              value=_major_units(amount_minor, currency)))
            return _refund(_json(self._client.payments.refund_captured_payment({
                "capture_id": capture["id"], "body": body,
                "paypal_request_id": idempotency_key, "prefer": "return=representation"})))
        return self._call(refund)

    def retrieve_refund(self, reference: str) -> RefundState:
        """A refund, or a reversal (PayPal shows those as refunds of negative amounts),
        with the capture it belongs to."""
        return self._call(lambda: _refund(_json(self._client.payments.get_refund(
            {"refund_id": reference}))))

    def order_of_capture(self, capture_reference: str) -> str | None:
        """The id of the order a capture was made for (None when PayPal does not say)."""
        capture = self._call(lambda: _json(self._client.payments.get_captured_payment(
            {"capture_id": capture_reference})))
        order_id = ((capture.get("supplementary_data") or {}).get("related_ids") or {}) \
            .get("order_id")
        return order_id if isinstance(order_id, str) and order_id else None

    # --- disputes -------------------------------------------------------------------------

    def retrieve_dispute(self, reference: str) -> DisputeState:
        return self._call(lambda: _dispute(_json(self._disputes.get_dispute(reference))))

    # --- webhooks -------------------------------------------------------------------------

    def verified_event(self, headers, raw_body: bytes) -> dict:
        """The event a PayPal webhook carries, once PayPal's verify call confirms that
        its signature covers this body and our webhook id. ``headers``: the request's
        (any mapping; names in any case). Raises :class:`WebhookInvalid`, or
        :class:`GatewayError` when PayPal cannot be asked (retryable: answer 5xx)."""
        if not self.webhook_id:
            raise WebhookInvalid("signature", "No PayPal webhook id is configured.")
        given = {str(name).lower(): value for name, value in headers.items()}
        fields = {field: given.get(header) for field, header in _WEBHOOK_HEADERS.items()}
        try:
            event = json.loads(raw_body)
        except ValueError:
            event = None
        if not isinstance(event, dict) or not all(fields.values()):
            raise WebhookInvalid("signature", "Not a signed PayPal webhook.")
        answer = self._call(lambda: _json(self._notifications.verify_signature(
            {**fields, "webhook_id": self.webhook_id, "webhook_event": event})))
        if answer.get("verification_status") != "SUCCESS":
            raise WebhookInvalid("signature", "PayPal did not confirm the signature.")
        if not all(isinstance(event.get(key), str) for key in ("id", "event_type")) \
                or not isinstance(event.get("resource"), dict):
            raise WebhookInvalid("malformed", "Not a PayPal event.")
        return event

    # --- plumbing -------------------------------------------------------------------------

    def _order(self, reference: str) -> dict:
        return _json(self._client.orders.get_order({"id": reference}))

    @staticmethod
    def _call(request):
        try:
            return request()
        except PayPalRefused:
            raise
        except requests.RequestException as exc:
            raise GatewayError(f"PayPal unreachable: {exc}", retryable=True) from exc
        except AuthValidationException as exc:
            # The SDK says this both for refused credentials and for a token endpoint
            # that did not answer; only a retry tells the two apart.
            raise GatewayError(f"PayPal gave no access token: {exc}", retryable=True) from exc
        except ApiException as exc:
            raise _refused(exc) from exc


class _Configuration(Configuration):
    """The SDK's configuration with one base address of our choosing (it knows only
    PayPal's sandbox and live ones)."""

    def __init__(self, base_uri: str, **options) -> None:
        self._base_uri = base_uri.rstrip("/")
        super().__init__(**options)

    def get_base_uri(self, server=Server.DEFAULT) -> str:
        return self._base_uri


class _NotificationsController(BaseController):
    """The verify-webhook-signature call, built like the SDK's generated controllers."""

    def verify_signature(self, body: dict):
        return super().new_api_call_builder.request(
            RequestBuilder().server(Server.DEFAULT)
            .path("/v1/notifications/verify-webhook-signature")
            .http_method(HttpMethodEnum.POST)
            .header_param(Parameter().key("Content-Type").value("application/json"))
            .header_param(Parameter().key("accept").value("application/json"))
            .body_param(Parameter().value(body))
            .body_serializer(APIHelper.json_serialize)
            .auth(Single("Oauth2")),
        ).response(
            ResponseHandler().deserializer(APIHelper.json_deserialize).is_api_response(True)
        ).execute()


class _DisputesController(BaseController):
    """Show dispute details (Disputes API v1), built like the SDK's generated controllers."""

    def get_dispute(self, dispute_id: str):
        return super().new_api_call_builder.request(
            RequestBuilder().server(Server.DEFAULT)
            .path("/v1/customer/disputes/{id}")
            .http_method(HttpMethodEnum.GET)
            .template_param(Parameter().key("id").value(dispute_id).should_encode(True))
            .header_param(Parameter().key("accept").value("application/json"))
            .auth(Single("Oauth2")),
        ).response(
            ResponseHandler().deserializer(APIHelper.json_deserialize).is_api_response(True)
        ).execute()


_ORDER_STATUS = {"CREATED": REQUIRES_PAYMENT, "SAVED": REQUIRES_PAYMENT,
                 "PAYER_ACTION_REQUIRED": REQUIRES_PAYMENT, "APPROVED": PROCESSING,
                 "VOIDED": CANCELED, "COMPLETED": PROCESSING}
_CAPTURE_STATUS = {"COMPLETED": SUCCEEDED, "PARTIALLY_REFUNDED": SUCCEEDED,
                   "REFUNDED": SUCCEEDED, "PENDING": PROCESSING, "DECLINED": FAILED,
                   "FAILED": FAILED}
_REFUND_STATUS = {"COMPLETED": REFUND_SUCCEEDED, "PENDING": REFUND_PENDING,
                  "FAILED": REFUND_FAILED, "CANCELLED": REFUND_FAILED}


def _json(response) -> dict:
    """The SDK's answer as the JSON PayPal sent (its models drop nothing we read, but
    plain dicts are simpler to map)."""
    body = json.loads(response.text) if response.text else {}
    return body if isinstance(body, dict) else {}


def _intent(order: dict) -> IntentState:
    unit = (order.get("purchase_units") or [{}])[0]
    amount = unit.get("amount") or {}
    currency = str(amount.get("currency_code", "")).upper()
    capture = _capture_of(order)
    if capture is not None:
        status = _CAPTURE_STATUS.get(capture.get("status"), PROCESSING)
    else:
        status = _ORDER_STATUS.get(order.get("status"), PROCESSING)
    reason = ((capture or {}).get("status_details") or {}).get("reason")
    return IntentState(
        reference=order["id"], status=status,
        amount_minor=_minor_units(amount.get("value", "0"), currency), currency=currency,
        received_minor=_minor_units(capture["amount"]["value"], currency)
        if status == SUCCEEDED else 0,
        method=PAYPAL,
        failure_reason=f"PayPal: capture {capture['status'].lower()}" if status == FAILED
        else None,
        failure_code=str(reason)[:64] if status == FAILED and reason else None,
        metadata={"payment_id": unit["custom_id"]} if unit.get("custom_id") else {},
        approval_url=_link(order, "payer-action") or _link(order, "approve"),
        awaits_capture=capture is None and order.get("status") == "APPROVED")


def _capture_of(order: dict) -> dict | None:
    """The order's latest capture (intent CAPTURE has one per order at most)."""
    for unit in order.get("purchase_units") or []:
        captures = (unit.get("payments") or {}).get("captures") or []
        if captures:
            return captures[-1]
    return None


def _with_decline(state: IntentState, exc: PayPalRefused) -> IntentState:
    """An order whose funding was declined at capture waits for the buyer to approve it
    again with another (as Stripe's intent waits for another card)."""
    return IntentState(**{**state.__dict__, "status": REQUIRES_PAYMENT, "awaits_capture": False,
                          "failure_reason": "PayPal declined the buyer's funding source.",
                          "failure_code": exc.issue,
                          "approval_url": exc.links.get("redirect") or state.approval_url})


def _refund(refund: dict) -> RefundState:
    amount = refund["amount"]
    up = _link(refund, "up") or ""
    return RefundState(reference=refund["id"],
                       status=_REFUND_STATUS.get(refund.get("status"), REFUND_PENDING),
                       amount_minor=abs(_minor_units(amount["value"], amount["currency_code"])),
                       capture_reference=up.rstrip("/").rsplit("/", 1)[-1]
                       if "/captures/" in up else None)


def _dispute(dispute: dict) -> DisputeState:
    amount = dispute.get("dispute_amount") or {}
    currency = str(amount.get("currency_code") or "").upper() or None
    captures = tuple(str(t["seller_transaction_id"])
                     for t in dispute.get("disputed_transactions") or []
                     if isinstance(t, dict) and t.get("seller_transaction_id"))
    return DisputeState(
        reference=str(dispute["dispute_id"]), status=str(dispute.get("status") or "OPEN"),
        reason=dispute.get("reason"), stage=dispute.get("dispute_life_cycle_stage"),
        outcome=(dispute.get("dispute_outcome") or {}).get("outcome_code"),
        amount_minor=_minor_units(amount["value"], currency)
        if currency and amount.get("value") else None,
        currency=currency, capture_references=captures)


def _link(resource: dict, rel: str) -> str | None:
    return next((link.get("href") for link in resource.get("links") or []
                 if link.get("rel") == rel), None)


def _major_units(amount_minor: int, currency: str) -> str:
    """1850 EUR → "18.50"; 1500 JPY → "1500"; 150000 TWD → "1500" (PayPal's whole
    dollars). An amount PayPal cannot express is refused, never rounded."""
    currency = currency.upper()
    value = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
    places = 0 if currency in WHOLE_UNITS_ONLY else get_currency_precision(currency)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise PayPalRefused(f"PayPal takes {currency} amounts in whole units only.",
                            retryable=False, issue="DECIMAL_PRECISION")
    return f"{value:.{places}f}"


def _minor_units(value: str, currency: str) -> int:
    return int(Decimal(value).scaleb(get_currency_precision(currency.upper())))


def _refused(exc: ApiException) -> PayPalRefused:
    """PayPal's error as a GatewayError: worth retrying on 5xx, 429 (too many requests)
    and 409 (the same PayPal-Request-Id still being worked on)."""
    try:
        error = json.loads(exc.response.text or "{}")
    except ValueError:
        error = {}
    error = error if isinstance(error, dict) else {}
    detail = (error.get("details") or [{}])[0]
    detail = detail if isinstance(detail, dict) else {}
    issue = detail.get("issue") or error.get("name") or error.get("error")
    status = exc.response_code or 0
    message = (detail.get("description") or error.get("message")
               or error.get("error_description") or exc.reason)
    debug = f" (debug id {error['debug_id']})" if error.get("debug_id") else ""
    links = {link.get("rel"): link.get("href") for link in error.get("links") or []
             if isinstance(link, dict)}
    return PayPalRefused(f"PayPal refused: {issue}: {message}{debug}",
                         retryable=status >= 500 or status in (409, 429), issue=issue,
                         links=links)
