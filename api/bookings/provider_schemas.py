"""The provider API's bookings: the webhooks' booking ``data`` (one documented shape,
:class:`api.webhooks.payloads.WebhookBookingDataSchema`) with what a list adds."""
from __future__ import annotations

import marshmallow as ma

from api.fields import DateOrMoment, Id, IsoMoment
from api.schemas import QueryArgsSchema, Schema
from api.webhooks.payloads import WebhookBookingDataSchema, WebhookMoneySchema
from app.models.bookings import STATUSES
from app.models.payments import PAYMENT_STATUSES
from app.services.provider_booking_queries import SORTS

Str = ma.fields.String


def _doc(text: str) -> dict:
    return {"metadata": {"description": text}}


class BookingPaymentSummarySchema(Schema):
    id = ma.fields.Integer(required=True, **_doc("The payment's id in the provider API"))
    status = Str(required=True, **_doc(", ".join(PAYMENT_STATUSES)))
    method = Str(required=True, **_doc("stripe, paypal or manual"))
    amount = ma.fields.Nested(WebhookMoneySchema, required=True)
    received = ma.fields.Nested(WebhookMoneySchema, allow_none=True, required=True)
    refunded = ma.fields.Nested(WebhookMoneySchema, required=True)


class ProviderBookingSchema(WebhookBookingDataSchema):
    """A booking as its webhooks' ``data`` describe it, with ``updated_at`` and its
    payment."""

    class Meta:
        exclude = ("previous_starts_at",)

    starts_at = IsoMoment(allow_none=True, required=True, **_doc("UTC"))
    ends_at = IsoMoment(allow_none=True, required=True, **_doc("UTC"))
    created_at = IsoMoment(required=True, **_doc("UTC"))
    updated_at = IsoMoment(required=True, **_doc(
        "Last change to the booking (UTC); its payment may have changed since"))
    payment = ma.fields.Nested(BookingPaymentSummarySchema, allow_none=True, required=True,
                               **_doc("Its payment, or null before one was started"))


class ProviderBookingQueryArgsSchema(QueryArgsSchema):
    statuses = ma.fields.List(Str(validate=ma.validate.OneOf(STATUSES)), data_key="status",
                              validate=ma.validate.Length(max=len(STATUSES)), **_doc(
                                  "Any of these statuses (repeat the parameter): "
                                  + ", ".join(STATUSES)))
    starts_from = DateOrMoment(**_doc(
        "Starting at or after; a date, or a time without an offset, is in the provider's "
        "zone (2031-03-01 is its midnight)"))
    starts_before = DateOrMoment(**_doc("Starting before; read like starts_from"))
    offering_id = Id()
    created_since = DateOrMoment(**_doc(
        "Created at or after (for incremental sync; read like starts_from)"))
    customer_email = Str(validate=ma.validate.Length(min=1, max=320), **_doc(
        "The customer's whole email address, any case"))
    sort = Str(load_default=SORTS[0], validate=ma.validate.OneOf(SORTS), **_doc(
        "-created_at (newest first, the default), created_at, starts_at or -starts_at"))
