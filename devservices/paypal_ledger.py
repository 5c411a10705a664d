"""The local PayPal stand-in's bookkeeping: orders, captures and refunds, in memory.

What PayPal's Orders v2 and Payments v2 APIs do for an order with intent ``CAPTURE`` and
one purchase unit, with PayPal's statuses, amounts as decimal strings and errors in its
shape. The HTTP side is in ``devservices/paypal_server.py``; every method here is called
with the ledger's lock held, so a method sees and leaves a consistent state.

Beyond the API, what happens at PayPal without us: a refund left ``PENDING`` (eCheck
funding) and later completed or failed, a refund made in PayPal's dashboard, a reversal
(PayPal takes the money back: shown as a refund of a negative amount, as in PayPal's
``PAYMENT.CAPTURE.REVERSED`` sample) and disputes (Disputes API v1 shapes).

Not modelled: intent ``AUTHORIZE``, several purchase units, order updates (PATCH), payment
sources other than the buyer's approval, dispute actions (offers, evidence, appeals).
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

#: Currencies PayPal takes without decimals; every other one has two.
NO_DECIMALS = {"HUF", "JPY", "TWD"}
ERROR_DOCS = "https://developer.paypal.com/docs/api/{api}/v2/#error-"


class PayPalError(Exception):
    """An answer in PayPal's error shape: ``name``, ``message``, ``debug_id``, ``details``."""

    def __init__(self, status: int, name: str, message: str, *, issue: str | None = None,
                 description: str | None = None, field: str | None = None,
                 value: str | None = None, location: str = "body",
                 api: str = "orders", links: list[dict] | None = None) -> None:
        super().__init__(message)
        self.api, self.links = api, links or []
        self.status, self.name, self.message = status, name, message
        self.issue, self.description = issue, description
        self.field, self.value, self.location = field, value, location

    def body(self) -> dict:
        body = {"name": self.name, "message": self.message,
                "debug_id": secrets.token_hex(7)}
        if self.issue:
            detail = {"issue": self.issue, "description": self.description or self.message}
            if self.field:
                detail.update(field=self.field, location=self.location)
            if self.value is not None:
                detail["value"] = self.value
            body["details"] = [detail]
            body["links"] = [{"href": ERROR_DOCS.format(api=self.api) + self.issue,
                              "rel": "information_link", "method": "GET"}, *self.links]
        return body


def invalid_request(issue: str, description: str, field: str | None = None,
                    value: str | None = None) -> PayPalError:
    return PayPalError(400, "INVALID_REQUEST",
                       "Request is not well-formed, syntactically incorrect, or violates "
                       "schema.", issue=issue, description=description, field=field,
                       value=value)


def unprocessable(issue: str, description: str, api: str = "orders") -> PayPalError:
    return PayPalError(422, "UNPROCESSABLE_ENTITY",
                       "The requested action could not be performed, semantically "
                       "incorrect, or failed business validation.",
                       issue=issue, description=description, api=api)


def not_found(kind: str, reference: str) -> PayPalError:
    return PayPalError(404, "RESOURCE_NOT_FOUND",
                       "The specified resource does not exist.", issue="INVALID_RESOURCE_ID",
                       description=f"Specified resource ID does not exist ({kind}).",
                       field=f"{kind}_id", value=reference, location="path",
                       api="payments" if kind in ("capture", "refund") else "orders")


def now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    """A PayPal-looking id: 17 upper-case letters and digits."""
    return uuid.uuid4().hex[:17].upper()


def parse_money(money, field_name: str) -> tuple[Decimal, str]:
    """A ``{currency_code, value}`` object read as PayPal reads it: the value a decimal
    string with exactly the currency's places (none for JPY, HUF and TWD)."""
    if not isinstance(money, dict):
        raise invalid_request("MISSING_REQUIRED_PARAMETER", "A required field is missing.",
                              field_name)
    currency, value = money.get("currency_code"), money.get("value")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise invalid_request("INVALID_PARAMETER_VALUE", "The currency code is invalid.",
                              f"{field_name}/currency_code", str(currency))
    currency = currency.upper()
    try:
        amount = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0:
        raise invalid_request("INVALID_PARAMETER_SYNTAX", "The value is not a positive "
                              "decimal amount.", f"{field_name}/value", str(value))
    places = 0 if currency in NO_DECIMALS else 2
    if -amount.as_tuple().exponent > places:
        raise invalid_request("DECIMAL_PRECISION", "The value has too many decimal places "
                              "for the currency.", f"{field_name}/value", value)
    return amount, currency


def money_text(amount: Decimal, currency: str) -> dict:
    places = 0 if currency in NO_DECIMALS else 2
    return {"currency_code": currency, "value": f"{amount:.{places}f}"}


@dataclass
class Order:
    id: str
    amount: Decimal
    currency: str
    return_url: str | None
    cancel_url: str | None
    status: str  # CREATED | PAYER_ACTION_REQUIRED | APPROVED | COMPLETED
    purchase_unit: dict
    approve_rel: str  # "payer-action" with a payment_source.paypal, else "approve"
    create_time: str = field(default_factory=now_text)
    update_time: str | None = None
    payer_id: str | None = None
    brand_name: str | None = None  # experience_context.brand_name: the approval page's merchant
    decline_capture: bool = False
    capture_id: str | None = None


@dataclass
class Capture:
    id: str
    order_id: str
    amount: Decimal
    currency: str
    custom_id: str | None
    invoice_id: str | None
    status: str = "COMPLETED"  # COMPLETED | PARTIALLY_REFUNDED | REFUNDED
    create_time: str = field(default_factory=now_text)
    update_time: str = field(default_factory=now_text)
    refund_ids: list[str] = field(default_factory=list)


@dataclass
class Refund:
    id: str
    capture_id: str
    amount: Decimal
    currency: str
    invoice_id: str | None
    note_to_payer: str | None
    status: str = "COMPLETED"  # PENDING | COMPLETED | FAILED | CANCELLED
    status_reason: str | None = None  # why PENDING (ECHECK)
    reversal: bool = False  # PayPal took the money back (shown with a negative amount)
    create_time: str = field(default_factory=now_text)
    update_time: str = field(default_factory=now_text)


#: A refund in these states gives, or may still give, money back: it counts against the rest.
REFUND_COUNTED = ("PENDING", "COMPLETED")


@dataclass
class Dispute:
    id: str
    capture_id: str
    amount: Decimal
    currency: str
    reason: str
    status: str = "OPEN"  # OPEN | WAITING_FOR_SELLER_RESPONSE | UNDER_REVIEW | RESOLVED ...
    stage: str = "INQUIRY"  # INQUIRY | CHARGEBACK | PRE_ARBITRATION | ARBITRATION
    outcome: str | None = None  # RESOLVED_BUYER_FAVOUR | RESOLVED_SELLER_FAVOUR | ...
    create_time: str = field(default_factory=now_text)
    update_time: str = field(default_factory=now_text)


class Ledger:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.orders: dict[str, Order] = {}
        self.captures: dict[str, Capture] = {}
        self.refunds: dict[str, Refund] = {}
        self.disputes: dict[str, Dispute] = {}
        self.refunds_held = 0  # how many of the next refunds PayPal leaves PENDING
        # PayPal-Request-Id → the answer first given to it, per operation.
        self.answered: dict[tuple[str, str], dict] = {}

    # --- orders ---------------------------------------------------------------------------

    def create_order(self, body: dict) -> Order:
        if not isinstance(body, dict) or body.get("intent") != "CAPTURE":
            raise invalid_request("INVALID_PARAMETER_VALUE", "Only intent CAPTURE is "
                                  "supported here.", "/intent", str((body or {}).get("intent")))
        units = body.get("purchase_units")
        if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
            raise invalid_request("INVALID_ARRAY_MAX_ITEMS", "Exactly one purchase unit is "
                                  "supported here.", "/purchase_units")
        unit = units[0]
        amount, currency = parse_money(unit.get("amount"), "/purchase_units/@reference_id"
                                       "=='default'/amount")
        context, approve_rel = _experience_context(body)
        order = Order(id=new_id(), amount=amount, currency=currency,
                      return_url=context.get("return_url"),
                      cancel_url=context.get("cancel_url"),
                      status="PAYER_ACTION_REQUIRED" if approve_rel == "payer-action"
                      else "CREATED",
                      purchase_unit={key: unit[key] for key in
                                     ("reference_id", "custom_id", "invoice_id",
                                      "description", "soft_descriptor") if key in unit},
                      approve_rel=approve_rel, brand_name=context.get("brand_name"))
        order.purchase_unit.setdefault("reference_id", "default")
        self.orders[order.id] = order
        return order

    def order(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise not_found("order", order_id)
        return order

    def approve(self, order_id: str, *, decline_capture: bool = False) -> Order:
        """The buyer approving on PayPal's page; ``decline_capture``: with a funding
        source the bank will decline when the order is captured."""
        order = self.order(order_id)
        if order.status not in ("CREATED", "PAYER_ACTION_REQUIRED", "APPROVED"):
            raise unprocessable("ORDER_CANNOT_BE_APPROVED", f"The order is {order.status}.")
        order.status, order.update_time = "APPROVED", now_text()
        order.payer_id = order.payer_id or new_id()[:13]
        order.decline_capture = decline_capture
        return order

    def capture(self, order_id: str) -> Order:
        order = self.order(order_id)
        if order.status == "COMPLETED":
            raise unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured. If "
                                "'intent=CAPTURE' only one capture per order is allowed.")
        if order.status != "APPROVED":
            raise unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the "
                                "Order for payment.")
        if order.decline_capture:
            declined = unprocessable("INSTRUMENT_DECLINED", "The instrument presented was "
                                     "either declined by the processor or bank, or it "
                                     "can't be used for this payment.")
            # As PayPal does: where the buyer may approve again with another source.
            declined.links = [self._link(f"/checkoutnow?token={order.id}", "redirect")]
            raise declined
        unit = order.purchase_unit
        capture = Capture(id=new_id(), order_id=order.id, amount=order.amount,
                          currency=order.currency, custom_id=unit.get("custom_id"),
                          invoice_id=unit.get("invoice_id"))
        self.captures[capture.id] = capture
        order.capture_id, order.status, order.update_time = capture.id, "COMPLETED", now_text()
        return order

    # --- captures and refunds ---------------------------------------------------------------

    def capture_of(self, capture_id: str) -> Capture:
        capture = self.captures.get(capture_id)
        if capture is None:
            raise not_found("capture", capture_id)
        return capture

    def refund_of(self, refund_id: str) -> Refund:
        refund = self.refunds.get(refund_id)
        if refund is None:
            raise not_found("refund", refund_id)
        return refund

    def refund(self, capture_id: str, body: dict, *, reversal: bool = False) -> Refund:
        """A refund of the capture (all that is left without an amount); PENDING when
        :attr:`refunds_held` says so (as PayPal leaves an eCheck-funded one)."""
        capture = self.capture_of(capture_id)
        body = body if isinstance(body, dict) else {}
        remaining = capture.amount - sum(self.refunds[r].amount for r in capture.refund_ids
                                         if self.refunds[r].status in REFUND_COUNTED)
        if remaining <= 0:
            raise unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been "
                                "fully refunded.", api="payments")
        if body.get("amount") is None:
            amount, currency = remaining, capture.currency
        else:
            amount, currency = parse_money(body["amount"], "/amount")
        if currency != capture.currency:
            raise unprocessable("REFUND_CAPTURE_CURRENCY_MISMATCH", "Refund must be in the "
                                "same currency as the capture.", api="payments")
        if amount > remaining:
            raise unprocessable("REFUND_AMOUNT_EXCEEDED", "The refund amount must be less "
                                "than or equal to the capture amount that has not yet been "
                                "refunded.", api="payments")
        refund = Refund(id=new_id(), capture_id=capture.id, amount=amount, currency=currency,
                        invoice_id=body.get("invoice_id"),
                        note_to_payer="Payment reversed" if reversal
                        else body.get("note_to_payer"), reversal=reversal)
        if self.refunds_held and not reversal:
            self.refunds_held -= 1
            refund.status, refund.status_reason = "PENDING", "ECHECK"
        self.refunds[refund.id] = refund
        capture.refund_ids.append(refund.id)
        self._restate(capture)
        return refund

    def finish_refund(self, refund_id: str, status: str) -> Refund:
        """A PENDING refund completing (``COMPLETED``) or failing (``FAILED``)."""
        refund = self.refund_of(refund_id)
        if refund.status != "PENDING":
            raise unprocessable("REFUND_NOT_PENDING", f"The refund is {refund.status}.",
                                api="payments")
        refund.status, refund.status_reason, refund.update_time = status, None, now_text()
        self._restate(self.captures[refund.capture_id])
        return refund

    def _restate(self, capture: Capture) -> None:
        """The capture's status from its completed refunds and reversals (PayPal's capture
        statuses have no REVERSED: a reversed capture shows as refunded)."""
        given_back = sum(self.refunds[r].amount for r in capture.refund_ids
                         if self.refunds[r].status == "COMPLETED")
        capture.status = "REFUNDED" if given_back >= capture.amount else \
            "PARTIALLY_REFUNDED" if given_back else "COMPLETED"
        capture.update_time = now_text()

    # --- disputes -------------------------------------------------------------------------

    def open_dispute(self, capture_id: str, reason: str, value: str | None) -> Dispute:
        capture = self.capture_of(capture_id)
        amount = capture.amount if value is None else parse_money(
            {"currency_code": capture.currency, "value": value}, "/dispute_amount")[0]
        dispute = Dispute(id=f"PP-D-{secrets.randbelow(10 ** 8):08d}", capture_id=capture.id,
                          amount=amount, currency=capture.currency, reason=reason)
        self.disputes[dispute.id] = dispute
        return dispute

    def dispute(self, dispute_id: str) -> Dispute:
        dispute = self.disputes.get(dispute_id)
        if dispute is None:
            raise PayPalError(404, "RESOURCE_NOT_FOUND", "The specified resource does not "
                              "exist.", issue="INVALID_RESOURCE_ID",
                              description="Specified resource ID does not exist.",
                              field="dispute_id", value=dispute_id, location="path",
                              api="customer-disputes")
        return dispute

    # --- as PayPal shows them ---------------------------------------------------------------

    def order_json(self, order: Order) -> dict:
        unit = dict(order.purchase_unit, amount=money_text(order.amount, order.currency))
        if order.capture_id:
            unit["payments"] = {"captures": [self.capture_json(self.captures[order.capture_id])]}
        body = {"id": order.id, "intent": "CAPTURE", "status": order.status,
                "purchase_units": [unit], "create_time": order.create_time,
                "links": self._order_links(order)}
        if order.update_time:
            body["update_time"] = order.update_time
        if order.payer_id:
            body["payer"] = {"payer_id": order.payer_id,
                             "email_address": "buyer@example.com",
                             "name": {"given_name": "Test", "surname": "Buyer"}}
            body["payment_source"] = {"paypal": {"account_id": order.payer_id,
                                                 "email_address": "buyer@example.com"}}
        return body

    def capture_json(self, capture: Capture) -> dict:
        body = {"id": capture.id, "status": capture.status,
                "amount": money_text(capture.amount, capture.currency),
                "final_capture": True, "seller_protection": {"status": "ELIGIBLE"},
                "create_time": capture.create_time, "update_time": capture.update_time,
                "supplementary_data": {"related_ids": {"order_id": capture.order_id}},
                "links": [
                    self._link(f"/v2/payments/captures/{capture.id}", "self"),
                    self._link(f"/v2/payments/captures/{capture.id}/refund", "refund",
                               "POST"),
                    self._link(f"/v2/checkout/orders/{capture.order_id}", "up")]}
        for key in ("custom_id", "invoice_id"):
            if getattr(capture, key):
                body[key] = getattr(capture, key)
        return body

    def refund_json(self, refund: Refund) -> dict:
        amount = money_text(refund.amount, refund.currency)
        if refund.reversal:  # as in PayPal's PAYMENT.CAPTURE.REVERSED sample
            amount["value"] = "-" + amount["value"]
        body = {"id": refund.id, "status": refund.status, "amount": amount,
                "create_time": refund.create_time, "update_time": refund.update_time,
                "links": [self._link(f"/v2/payments/refunds/{refund.id}", "self"),
                          self._link(f"/v2/payments/captures/{refund.capture_id}", "up")]}
        if refund.status_reason:
            body["status_details"] = {"reason": refund.status_reason}
        capture = self.captures[refund.capture_id]
        if capture.custom_id and not refund.reversal:
            body["custom_id"] = capture.custom_id
        for key in ("invoice_id", "note_to_payer"):
            if getattr(refund, key):
                body[key] = getattr(refund, key)
        return body

    def dispute_json(self, dispute: Dispute) -> dict:
        """Show dispute details (Disputes API v1): the disputed capture is the
        transaction's ``seller_transaction_id``."""
        capture = self.captures[dispute.capture_id]
        transaction = {"seller_transaction_id": capture.id, "create_time": capture.create_time,
                       "transaction_status": capture.status,
                       "gross_amount": money_text(capture.amount, capture.currency),
                       "buyer": {"name": "Test Buyer"},
                       "seller": {"merchant_id": "LOCALMERCHANT", "name": "Local Merchant"}}
        if capture.invoice_id:
            transaction["invoice_number"] = capture.invoice_id
        if capture.custom_id:
            transaction["custom"] = capture.custom_id
        body = {"dispute_id": dispute.id, "create_time": dispute.create_time,
                "update_time": dispute.update_time, "disputed_transactions": [transaction],
                "reason": dispute.reason, "status": dispute.status,
                "dispute_amount": money_text(dispute.amount, dispute.currency),
                "dispute_life_cycle_stage": dispute.stage, "dispute_channel": "INTERNAL",
                "links": [self._link(f"/v1/customer/disputes/{dispute.id}", "self")]}
        if dispute.outcome:
            body["dispute_outcome"] = {"outcome_code": dispute.outcome}
            if dispute.outcome == "RESOLVED_BUYER_FAVOUR":
                body["dispute_outcome"]["amount_refunded"] = money_text(dispute.amount,
                                                                        dispute.currency)
        return body

    def _order_links(self, order: Order) -> list[dict]:
        links = [self._link(f"/v2/checkout/orders/{order.id}", "self")]
        if order.status in ("CREATED", "PAYER_ACTION_REQUIRED"):
            links.append(self._link(f"/checkoutnow?token={order.id}", order.approve_rel))
        if order.status != "COMPLETED":
            links.append(self._link(f"/v2/checkout/orders/{order.id}", "update", "PATCH"))
            links.append(self._link(f"/v2/checkout/orders/{order.id}/capture", "capture",
                                    "POST"))
        return links

    def _link(self, path: str, rel: str, method: str = "GET") -> dict:
        return {"href": self.base_url + path, "rel": rel, "method": method}


def _experience_context(body: dict) -> tuple[dict, str]:
    """Where the buyer returns to: ``payment_source.paypal.experience_context`` (the
    current form, answered with a ``payer-action`` link) or the older
    ``application_context`` (answered with an ``approve`` link)."""
    source = (body.get("payment_source") or {}).get("paypal")
    if isinstance(source, dict):
        return dict(source.get("experience_context") or {}), "payer-action"
    return dict(body.get("application_context") or {}), "approve"
