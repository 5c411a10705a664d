"""Schemas for provider staff managing their own catalog."""
from __future__ import annotations

import marshmallow as ma

from api.catalog.schemas import LocationSchema
from api.fields import MAX_ID, Id
from api.schemas import Schema
from app.models.catalog import OFFERING_KINDS
from app.services.catalog_rules import MAX_PRICE_MINOR

Str = ma.fields.String
Int = ma.fields.Integer


class CategorySchema(Schema):
    id = Int(dump_only=True)
    name = Str(required=True, validate=ma.validate.Length(min=1, max=120))
    parent_id = Id(allow_none=True)
    position = Int(validate=ma.validate.Range(min=0, max=MAX_ID))


class ManagedLocationSchema(LocationSchema):
    id = Int(dump_only=True)
    name = Str(required=True, validate=ma.validate.Length(min=1, max=120))
    address = Str(validate=ma.validate.Length(max=1000))
    lat = ma.fields.Float(allow_none=True, validate=ma.validate.Range(min=-90, max=90))
    lng = ma.fields.Float(allow_none=True, validate=ma.validate.Range(min=-180, max=180))
    place_id = Str(dump_only=True, allow_none=True)
    geocoded_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    geocode_status = Str(dump_only=True)
    geocode_error = Str(dump_only=True, allow_none=True)


class ManagedOfferingSchema(Schema):
    id = Int(dump_only=True)
    kind = Str(required=True, validate=ma.validate.OneOf(OFFERING_KINDS))
    name = Str(required=True, validate=ma.validate.Length(min=1, max=200))
    description = Str(validate=ma.validate.Length(max=20_000))
    price_minor = Int(required=True, validate=ma.validate.Range(max=MAX_PRICE_MINOR),
                      metadata={"description": "Minor units, e.g. cents"})
    currency = Str(validate=ma.validate.Length(equal=3),
                   metadata={"description": "ISO 4217; default: the provider's currency"})
    duration_minutes = Int(allow_none=True, validate=ma.validate.Range(min=1, max=24 * 60))
    active = ma.fields.Boolean()
    location_id = Id(allow_none=True)
    category_id = Id(allow_none=True)
    image_urls = ma.fields.List(Str(validate=ma.validate.Length(max=2000)),
                                validate=ma.validate.Length(max=20))
    pay_at_venue = ma.fields.Boolean(metadata={
        "description": "Bookings are confirmed without paying online; paid at the venue"})
    free_cancellation_hours = Int(validate=ma.validate.Range(min=0, max=24 * 365), metadata={
        "description": "Customers cancel free of charge until this many hours before"})
    min_notice_minutes = Int(validate=ma.validate.Range(min=0, max=365 * 24 * 60), metadata={
        "description": "No booking (or move) to a time starting sooner than this; default 0"})
    booking_horizon_days = Int(validate=ma.validate.Range(min=1, max=3650), metadata={
        "description": "No booking (or move) to a time more than this many days ahead; "
                       "default 60"})
    max_active_bookings_per_customer = Int(
        allow_none=True, validate=ma.validate.Range(min=1, max=1000), metadata={
            "description": "Bookings still to come (held or confirmed) one customer may "
                           "have of this; null: no limit"})
    max_held_places_per_customer = Int(
        allow_none=True, validate=ma.validate.Range(min=1, max=1000), metadata={
            "description": "Places one customer may hold unpaid at once; null: no limit"})
    buffer_before_minutes = Int(validate=ma.validate.Range(min=0, max=1440), metadata={
        "description": "Minutes the resources are blocked before each booking (not shown "
                       "to customers); default 0"})
    buffer_after_minutes = Int(validate=ma.validate.Range(min=0, max=1440), metadata={
        "description": "Minutes the resources are blocked after each booking; default 0"})
    resources_shared = ma.fields.Boolean(metadata={
        "description": "true: everyone booked on one time shares its resources (a class "
                       "and its teacher); false (default): each booking has them to itself "
                       "(an appointment)"})
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class ManagedVariantSchema(Schema):
    id = Int(dump_only=True)
    offering_id = Int(dump_only=True)
    name = Str(required=True, validate=ma.validate.Length(min=1, max=120))
    sku = Str(required=True, validate=ma.validate.Length(min=1, max=64))
    price_minor = Int(allow_none=True, validate=ma.validate.Range(max=MAX_PRICE_MINOR))
    stock = Int(allow_none=True, validate=ma.validate.Range(max=MAX_ID))
    active = ma.fields.Boolean()


class RuleSchema(Schema):
    id = Int(dump_only=True)
    offering_id = Id(required=True)
    weekday = Int(required=True, validate=ma.validate.Range(min=0, max=6),
                  metadata={"description": "0 = Monday … 6 = Sunday"})
    start_time = ma.fields.Time(required=True, metadata={"description": "Local, e.g. 09:00"})
    end_time = ma.fields.Time(required=True)
    slot_minutes = Int(required=True, validate=ma.validate.Range(min=1, max=24 * 60))
    capacity = Int(required=True, validate=ma.validate.Range(min=1, max=100_000))
    valid_from = ma.fields.Date(required=True)
    valid_to = ma.fields.Date(allow_none=True)


class ClosedDaySchema(Schema):
    id = Int(dump_only=True)
    offering_id = Id(allow_none=True,
                     metadata={"description": "Unset: the whole provider is closed"})
    day = ma.fields.Date(required=True)
    reason = Str(validate=ma.validate.Length(max=200))


class GenerateSlotsSchema(Schema):
    days = Int(load_default=60, validate=ma.validate.Range(min=1, max=366))
    offering_id = Id()


class GenerationReportSchema(Schema):
    offerings = Int()
    created = Int()
    removed = Int(metadata={"description": "Deleted: no rule asks for them, never booked"})
    retired = Int(metadata={"description": "No rule asks for them but they have bookings: "
                                           "kept for the history, no longer bookable"})
    restored = Int(metadata={"description": "Retired slots a rule asks for again"})
    kept_booked = Int(metadata={"description": "Of those no rule asks for, slots with "
                                               "places still taken (now retired)"})
    resized = Int()


