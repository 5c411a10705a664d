from __future__ import annotations

import marshmallow as ma

from api.schemas import QueryArgsSchema, Schema
from app.models.payments import PAYMENT_STATUSES, REFUND_STATUSES
from app.services.catalog_rules import MAX_PRICE_MINOR
from app.services.payments import METHODS

Str = ma.fields.String
Int = ma.fields.Integer


class StartedPaymentSchema(Schema):
    payment_id = Int()
    gateway = Str()
    status = Str(metadata={"description": "created, requires_payment, requires_action, "
                                          "processing, succeeded, failed or canceled"})
    amount_minor = Int()
    currency = Str()
    client_secret = Str(allow_none=True, metadata={
        "description": "For Stripe.js (confirmCardPayment) in the customer's browser"})
    publishable_key = Str(allow_none=True)
    approval_url = Str(allow_none=True, metadata={
        "description": "PayPal: send the customer here to approve the order; PayPal sends "
                       "them back to return_url with the order id as `token`"})
    order_id = Str(allow_none=True, metadata={
        "description": "PayPal: the order's id, for PayPal's JS SDK buttons (their "
                       "createOrder answers with it); capture it afterwards through "
                       "`paypal-return`"})


class PaymentStartSchema(Schema):
    method = Str(validate=ma.validate.OneOf(sorted(METHODS)), metadata={
        "description": "card (Stripe) or paypal; by default the provider's gateway"})
    return_url = Str(validate=ma.validate.Length(max=500), metadata={
        "description": "PayPal: where it sends the customer after approving (an address "
                       "on this site; by default the storefront's PayPal return page, "
                       "which captures and shows the booking)"})
    cancel_url = Str(validate=ma.validate.Length(max=500), metadata={
        "description": "PayPal: where it sends a customer who cancels (an address on this "
                       "site; by default the storefront's, back to the booking)"})


class PayPalReturnSchema(Schema):
    order_id = Str(required=True, validate=ma.validate.Length(min=1, max=255), metadata={
        "description": "The `token` PayPal appended to return_url: the order's id"})


class TestCardSchema(Schema):
    card = Str(load_default="pm_card_visa", validate=ma.validate.Length(max=60), metadata={
        "description": "A test payment method: pm_card_visa succeeds, "
                       "pm_card_chargeCustomerFail is declined"})


class RefundSchema(Schema):
    id = Int(dump_only=True)
    payment_id = Int(dump_only=True)
    amount_minor = Int()
    currency = Str(dump_only=True)
    status = Str(dump_only=True, metadata={"description": ", ".join(REFUND_STATUSES)})
    reason = Str()
    actor_id = Int(dump_only=True, allow_none=True)
    provider_reference = Str(dump_only=True, allow_none=True)
    attempts = Int(dump_only=True)
    last_error = Str(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)


class PaymentSchema(Schema):
    id = Int()
    booking_reference = ma.fields.Function(lambda p: p.booking.reference)
    gateway = Str()
    status = Str()
    amount_minor = Int()
    received_minor = Int(allow_none=True)
    refunded_minor = Int()
    refundable_minor = Int()
    currency = Str()
    method = Str(allow_none=True)
    provider_reference = Str(allow_none=True)
    failure_reason = Str(allow_none=True)
    attention = Str(allow_none=True, metadata={"description": "Why staff should look"})
    succeeded_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class CustomerPaymentSchema(Schema):
    """What a customer sees of their payment (no gateway internals)."""

    id = Int()
    status = Str()
    amount_minor = Int()
    received_minor = Int(allow_none=True)
    refunded_minor = Int()
    currency = Str()
    method = Str(allow_none=True)
    succeeded_at = ma.fields.DateTime(allow_none=True)


class PayPalReturnedSchema(CustomerPaymentSchema):
    failure_code = Str(allow_none=True, metadata={
        "description": "PayPal's issue when it declined the funding source "
                       "(INSTRUMENT_DECLINED)"})
    approval_url = Str(allow_none=True, metadata={
        "description": "After a decline: where the customer may approve again with another "
                       "funding source, then come back"})


class PaymentDetailSchema(PaymentSchema):
    refunds = ma.fields.List(ma.fields.Nested(RefundSchema))


class RefundCreateSchema(Schema):
    amount_minor = Int(
        allow_none=True, validate=ma.validate.Range(min=1, max=MAX_PRICE_MINOR),
        metadata={"description": "Minor units; leave out to refund everything still refundable"})
    reason = Str(load_default="", validate=ma.validate.Length(max=300))


class MarkPaidSchema(Schema):
    method = Str(load_default="cash", validate=ma.validate.Length(min=1, max=40))


class PaymentListArgsSchema(QueryArgsSchema):
    status = Str(validate=ma.validate.OneOf(PAYMENT_STATUSES))
    attention = ma.fields.Boolean(metadata={"description": "Only payments flagged for staff"})


class RefundListArgsSchema(QueryArgsSchema):
    status = Str(validate=ma.validate.OneOf(REFUND_STATUSES))


class WebhookAckSchema(Schema):
    received = ma.fields.Boolean()
    duplicate = ma.fields.Boolean()
    event_id = Str()
