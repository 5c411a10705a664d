"""The webhook payloads, documented: one schema per topic family, registered in the OpenAPI
document's components (``WebhookBookingEvent``, ...) and used by the tests to check what
is sent. The data are built by ``app/services/webhook_payloads.py``; these schemas are
their contract (version 1).

Every delivery's body is an envelope: ``type`` (the topic), ``timestamp`` (when the event
happened, ISO 8601 UTC) and ``data``.
"""
from __future__ import annotations

import marshmallow as ma

from api.schemas import Schema
from app.services import webhook_topics


def _doc(text: str) -> dict:
    return {"metadata": {"description": text}}


class WebhookMoneySchema(Schema):
    amount_minor = ma.fields.Integer(required=True, **_doc("In minor units (cents)"))
    currency = ma.fields.String(required=True, **_doc("ISO 4217 code, e.g. EUR"))
    amount = ma.fields.String(required=True, **_doc("In major units, e.g. \"42.00\""))


class WebhookProviderSchema(Schema):
    name = ma.fields.String(required=True)
    slug = ma.fields.String(required=True, **_doc("The provider's storefront name"))
    time_zone = ma.fields.String(required=True, **_doc("IANA zone, e.g. Europe/Berlin"))


class WebhookCustomerSchema(Schema):
    name = ma.fields.String(allow_none=True, required=True)
    email = ma.fields.String(required=True)
    phone = ma.fields.String(allow_none=True, required=True, **_doc("E.164, if known"))


class WebhookOfferingSchema(Schema):
    id = ma.fields.Integer(required=True, **_doc("The offering's id in the provider API"))
    name = ma.fields.String(required=True)
    variant = ma.fields.String(allow_none=True, required=True)


class WebhookBookingDataSchema(Schema):
    reference = ma.fields.String(required=True, **_doc("The booking reference, e.g. BK7Q2M4X"))
    status = ma.fields.String(required=True, **_doc(
        "pending, confirmed, cancelled, expired, completed, no_show or refunded"))
    offering = ma.fields.Nested(WebhookOfferingSchema, required=True)
    starts_at = ma.fields.AwareDateTime(allow_none=True, required=True, **_doc("UTC"))
    ends_at = ma.fields.AwareDateTime(allow_none=True, required=True, **_doc("UTC"))
    time_zone = ma.fields.String(required=True, **_doc("The provider's zone, for showing times"))
    quantity = ma.fields.Integer(required=True)
    total = ma.fields.Nested(WebhookMoneySchema, allow_none=True, required=True)
    pay_at_venue = ma.fields.Boolean(required=True)
    customer = ma.fields.Nested(WebhookCustomerSchema, allow_none=True, required=True)
    provider = ma.fields.Nested(WebhookProviderSchema, required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    previous_starts_at = ma.fields.AwareDateTime(
        allow_none=True, **_doc("booking.rescheduled only: where it was before (UTC)"))


class WebhookRefundSchema(Schema):
    id = ma.fields.Integer(required=True, **_doc("The refund's id in the provider API"))
    amount = ma.fields.Nested(WebhookMoneySchema, required=True)
    status = ma.fields.String(required=True)
    reason = ma.fields.String(allow_none=True, required=True)
    fully_refunded = ma.fields.Boolean(required=True)
    error = ma.fields.String(allow_none=True, required=True,
                             **_doc("payment.refund_failed: why, in words"))


class WebhookDisputeSchema(Schema):
    reason = ma.fields.String(allow_none=True, required=True)
    amount = ma.fields.Nested(WebhookMoneySchema, allow_none=True, required=True)


class WebhookPaymentDataSchema(Schema):
    id = ma.fields.Integer(required=True, **_doc("The payment's id in the provider API"))
    booking_reference = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    method = ma.fields.String(required=True, **_doc("stripe, paypal or manual"))
    amount = ma.fields.Nested(WebhookMoneySchema, required=True)
    received = ma.fields.Nested(WebhookMoneySchema, allow_none=True, required=True)
    refunded = ma.fields.Nested(WebhookMoneySchema, required=True)
    failure_reason = ma.fields.String(allow_none=True, required=True,
                                      **_doc("payment.declined and payment.failed"))
    customer = ma.fields.Nested(WebhookCustomerSchema, allow_none=True, required=True)
    provider = ma.fields.Nested(WebhookProviderSchema, required=True)
    refund = ma.fields.Nested(WebhookRefundSchema, allow_none=True,
                              **_doc("payment.refunded and payment.refund_failed"))
    dispute = ma.fields.Nested(WebhookDisputeSchema, **_doc("payment.disputed"))


class WebhookReceiptDataSchema(Schema):
    id = ma.fields.Integer(required=True, **_doc("The receipt's id in the provider API"))
    kind = ma.fields.String(required=True, **_doc("receipt or credit_note"))
    number = ma.fields.String(required=True, **_doc("As printed, e.g. R-000042"))
    booking_reference = ma.fields.String(allow_none=True, required=True)
    total = ma.fields.Nested(WebhookMoneySchema, required=True)
    tax = ma.fields.Nested(WebhookMoneySchema, required=True)
    issued_at = ma.fields.AwareDateTime(required=True)
    provider = ma.fields.Nested(WebhookProviderSchema, required=True)


class WebhookWaitlistDataSchema(Schema):
    id = ma.fields.Integer(required=True, **_doc("The waiting-list entry's id"))
    status = ma.fields.String(required=True, **_doc("waiting, offered, booked, expired, left"))
    offering = ma.fields.Nested(WebhookOfferingSchema, required=True)
    starts_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    ends_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    time_zone = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True)
    booking_reference = ma.fields.String(allow_none=True, required=True,
                                         **_doc("The booking held for an offer"))
    offer_expires_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    customer = ma.fields.Nested(WebhookCustomerSchema, allow_none=True, required=True)
    provider = ma.fields.Nested(WebhookProviderSchema, required=True)


class WebhookTestDataSchema(Schema):
    endpoint_id = ma.fields.Integer(required=True)
    message = ma.fields.String(required=True)


def _envelope(name: str, topics: tuple[str, ...], data_schema, description: str):
    return type(name, (Schema,), {
        "type": ma.fields.String(required=True, validate=ma.validate.OneOf(topics),
                                 **_doc("The topic: " + ", ".join(topics))),
        "timestamp": ma.fields.AwareDateTime(required=True,
                                             **_doc("When the event happened (UTC)")),
        "data": ma.fields.Nested(data_schema, required=True),
        "Meta": type("Meta", (), {"title": name, "description": description}),
        "__module__": __name__,
    })


WebhookBookingEventSchema = _envelope(
    "WebhookBookingEventSchema", webhook_topics.BOOKING_TOPICS, WebhookBookingDataSchema,
    "A booking was created, confirmed, cancelled, moved, expired, completed, marked a "
    "no-show or refunded")
WebhookPaymentEventSchema = _envelope(
    "WebhookPaymentEventSchema", webhook_topics.PAYMENT_TOPICS, WebhookPaymentDataSchema,
    "A payment succeeded, was declined, failed, was (partly) refunded, a refund failed, "
    "or the payment was disputed")
WebhookReceiptEventSchema = _envelope(
    "WebhookReceiptEventSchema", webhook_topics.RECEIPT_TOPICS, WebhookReceiptDataSchema,
    "A receipt or credit note was issued (its PDF is ready)")
WebhookWaitlistEventSchema = _envelope(
    "WebhookWaitlistEventSchema", webhook_topics.WAITLIST_TOPICS, WebhookWaitlistDataSchema,
    "A customer joined a waiting list, was offered a place, or the offer ran out")
WebhookTestEventSchema = _envelope(
    "WebhookTestEventSchema", (webhook_topics.TEST_TOPIC,), WebhookTestDataSchema,
    "Sent on request (\"send a test event\") to check an endpoint")

ENVELOPES = (WebhookBookingEventSchema, WebhookPaymentEventSchema, WebhookReceiptEventSchema,
             WebhookWaitlistEventSchema, WebhookTestEventSchema)


def schema_for(topic: str):
    """The envelope schema documenting ``topic``'s body."""
    for envelope in ENVELOPES:
        if topic in envelope._declared_fields["type"].validate.choices:
            return envelope
    raise KeyError(topic)


def register(spec) -> None:
    """Add the payloads to the OpenAPI document's components."""
    for envelope in ENVELOPES:
        name = envelope.__name__.removesuffix("Schema")
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=envelope)
