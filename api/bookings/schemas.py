from __future__ import annotations

import marshmallow as ma

from api.fields import Id, Instant
from api.schemas import QueryArgsSchema, Schema
from app.models.bookings import STATUSES

Str = ma.fields.String


class AttributionSchema(Schema):
    utm_source = Str(allow_none=True, validate=ma.validate.Length(max=200))
    utm_medium = Str(allow_none=True, validate=ma.validate.Length(max=200))
    utm_campaign = Str(allow_none=True, validate=ma.validate.Length(max=200))
    utm_term = Str(allow_none=True, validate=ma.validate.Length(max=200))
    utm_content = Str(allow_none=True, validate=ma.validate.Length(max=200))
    ttclid = Str(allow_none=True, validate=ma.validate.Length(max=200))
    ttp = Str(allow_none=True, validate=ma.validate.Length(max=200),
              metadata={"description": "The TikTok _ttp cookie's value"})
    landing_url = Str(allow_none=True, validate=ma.validate.Length(max=2000))
    referrer = Str(allow_none=True, validate=ma.validate.Length(max=2000))
    consent = ma.fields.Boolean(load_default=False,
                                metadata={"description": "Tracking consent given"})


class BookingCreateSchema(AttributionSchema):
    offering_id = Id(required=True)
    slot_id = Id(allow_none=True,
                                metadata={"description": "Services: the slot to book"})
    variant_id = Id(allow_none=True,
                    metadata={"description": "Products: the variant to buy"})
    quantity = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100))
    notes = Str(load_default="", validate=ma.validate.Length(max=2000))
    resource_id = Id(allow_none=True, metadata={
        "description": "Services done by staff: the person chosen "
                       "(`GET /offerings/{id}/resources`); omitted: anyone available"})


class HistorySchema(Schema):
    from_status = Str(allow_none=True)
    to_status = Str()
    reason = Str()
    created_at = ma.fields.DateTime()


class BookingSchema(Schema):
    reference = Str(metadata={"example": "BW-7K3Q9P"})
    status = Str(metadata={"enum": list(STATUSES)})
    provider_id = ma.fields.Integer()
    offering_id = ma.fields.Integer()
    slot_id = ma.fields.Integer(allow_none=True)
    variant_id = ma.fields.Integer(allow_none=True)
    quantity = ma.fields.Integer()
    unit_price_minor = ma.fields.Integer()
    total_minor = ma.fields.Integer()
    currency = Str()
    pay_at_venue = ma.fields.Boolean()
    notes = Str()
    starts_at = ma.fields.DateTime(allow_none=True)
    ends_at = ma.fields.DateTime(allow_none=True)
    hold_expires_at = ma.fields.DateTime(allow_none=True,
                                         metadata={"description": "Pending: pay before this"})
    created_at = ma.fields.DateTime()
    attribution = ma.fields.Nested(AttributionSchema, attribute="attribution_row",
                                   allow_none=True)


class BookingDetailSchema(BookingSchema):
    history = ma.fields.List(ma.fields.Nested(HistorySchema))
    resources = ma.fields.Function(
        lambda booking: [{"id": held.resource_id, "name": held.resource.name,
                          "kind": held.resource.kind} for held in booking.resource_bookings],
        metadata={"description": "Who and what it is with (staff, room, equipment): "
                                 "[{id, name, kind}]; empty once it gave its time back"})


class BookingQueryArgsSchema(QueryArgsSchema):
    status = Str(validate=ma.validate.OneOf(STATUSES))
    start = Instant(data_key="from", metadata={"description": "Starting at or after"})
    end = Instant(data_key="to", metadata={"description": "Starting before"})


class RescheduleSchema(Schema):
    slot_id = Id(required=True)
