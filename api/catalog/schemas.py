from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import marshmallow as ma

from api.fields import Id, Instant

from api.pagination import PaginationArgsSchema
from api.schemas import QueryArgsSchema, Schema
from app.models.catalog import OFFERING_KINDS
from app.services.catalog_rules import MAX_PRICE_MINOR
from app.services.search import SORTS


class ProviderSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    slug = ma.fields.String()
    timezone = ma.fields.String()
    currency = ma.fields.String()
    contact_email = ma.fields.String(allow_none=True)
    contact_phone = ma.fields.String(allow_none=True)


class LocationSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    address = ma.fields.String()
    lat = ma.fields.Float(allow_none=True)
    lng = ma.fields.Float(allow_none=True)


class VariantSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    sku = ma.fields.String()
    price_minor = ma.fields.Function(
        lambda v: v.price_minor if v.price_minor is not None else v.offering.price_minor,
        metadata={"description": "The variant's price, or the offering's when not overridden"})
    in_stock = ma.fields.Function(lambda v: v.stock is None or v.stock > 0)
    stock = ma.fields.Integer(allow_none=True)


class OfferingSchema(Schema):
    id = ma.fields.Integer()
    provider_id = ma.fields.Integer()
    kind = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String()
    price_minor = ma.fields.Integer(metadata={"description": "Price in minor units (cents)"})
    currency = ma.fields.String(metadata={"description": "ISO 4217"})
    duration_minutes = ma.fields.Integer(allow_none=True)
    category_id = ma.fields.Integer(allow_none=True)
    image_urls = ma.fields.List(ma.fields.String())
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    distance_km = ma.fields.Float(allow_none=True,
                                  metadata={"description": "Only when `near` was given"})


class SlotSchema(Schema):
    id = ma.fields.Integer()
    starts_at = ma.fields.DateTime(metadata={"description": "UTC"})
    ends_at = ma.fields.DateTime(metadata={"description": "UTC"})
    starts_at_local = ma.fields.Method("_starts_local",
                                       metadata={"description": "In the provider's zone"})
    ends_at_local = ma.fields.Method("_ends_local")
    timezone = ma.fields.Method("_zone")
    capacity = ma.fields.Integer()
    remaining = ma.fields.Integer()

    def _zone(self, slot):
        return self.context_zone(slot)

    def context_zone(self, slot) -> str:
        return slot.provider.timezone

    def _starts_local(self, slot):
        return slot.starts_at.astimezone(ZoneInfo(self.context_zone(slot))).isoformat()

    def _ends_local(self, slot):
        return slot.ends_at.astimezone(ZoneInfo(self.context_zone(slot))).isoformat()


class OfferingDetailSchema(OfferingSchema):
    min_notice_minutes = ma.fields.Integer(metadata={
        "description": "Times starting sooner than this cannot be booked"})
    booking_horizon_days = ma.fields.Integer(metadata={
        "description": "Times further ahead than this cannot be booked"})
    variants = ma.fields.Method("_active_variants")
    next_slots = ma.fields.List(ma.fields.Nested(SlotSchema))
    provider = ma.fields.Nested(ProviderSchema)

    def _active_variants(self, offering):
        return VariantSchema(many=True).dump([v for v in offering.variants if v.active])


class LatLngField(ma.fields.Field):
    """``near=52.52,13.405``"""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            lat, lng = (float(part) for part in str(value).split(","))
        except ValueError as exc:
            raise ma.ValidationError("Use 'lat,lng', e.g. 52.52,13.405.") from exc
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ma.ValidationError("Latitude or longitude out of range.")
        return lat, lng


class OfferingQueryArgsSchema(PaginationArgsSchema):
    q = ma.fields.String(validate=ma.validate.Length(max=200))
    category = Id()
    kind = ma.fields.String(validate=ma.validate.OneOf(OFFERING_KINDS))
    provider = Id()
    min_price = ma.fields.Integer(validate=ma.validate.Range(min=0, max=MAX_PRICE_MINOR))
    max_price = ma.fields.Integer(validate=ma.validate.Range(min=0, max=MAX_PRICE_MINOR))
    near = LatLngField(metadata={"description": "lat,lng", "type": "string"})
    radius_km = ma.fields.Float(validate=ma.validate.Range(min=0, max=1000, min_inclusive=False))
    available_from = Instant()
    available_to = Instant()
    sort = ma.fields.String(validate=ma.validate.OneOf(SORTS))

    @ma.validates_schema
    def _consistent(self, data, **kwargs):
        errors = {}
        if "radius_km" in data and "near" not in data:
            errors["radius_km"] = ["Give 'near' with 'radius_km'."]
        if data.get("sort") == "distance" and "near" not in data:
            errors["sort"] = ["Sorting by distance needs 'near'."]
        if data.get("min_price") is not None and data.get("max_price") is not None \
                and data["min_price"] > data["max_price"]:
            errors["max_price"] = ["Must not be below min_price."]
        if data.get("available_from") and data.get("available_to") \
                and data["available_to"] <= data["available_from"]:
            errors["available_to"] = ["Must be after available_from."]
        if errors:
            raise ma.ValidationError(errors)


class SlotQueryArgsSchema(QueryArgsSchema):
    start = Instant(data_key="from", metadata={"description": "Default: now"})
    end = Instant(data_key="to", metadata={"description": "Default: from + 14 days"})
    only_free = ma.fields.Boolean(load_default=False)


# --- choosing a time -----------------------------------------------------------------------

class MonthField(ma.fields.Field):
    """A month as ``YYYY-MM``, loaded as the date of its first day."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return datetime.strptime(str(value), "%Y-%m").date()
        except ValueError:
            raise ma.ValidationError("Use YYYY-MM, e.g. 2031-03.") from None


class FreeDaysArgsSchema(QueryArgsSchema):
    month = MonthField(required=True, metadata={
        "description": "The month, on the provider's calendar (YYYY-MM)", "type": "string",
        "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"})
    quantity = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100))
    resource_id = Id(load_default=None,
                     metadata={"description": "Only the times this person (or room) is "
                                              "free: one of `/offerings/{id}/resources`"})


class FreeDaySchema(Schema):
    date = ma.fields.Date()
    free_times = ma.fields.Integer(metadata={"description": "How many times are free"})


class FreeDaysSchema(Schema):
    offering_id = ma.fields.Integer()
    timezone = ma.fields.String(metadata={"description": "The provider's zone: days are its days"})
    month = ma.fields.Function(lambda month: month.month.strftime("%Y-%m"))
    quantity = ma.fields.Integer()
    days = ma.fields.Function(
        lambda month: [{"date": day.isoformat(), "free_times": count}
                       for day, count in sorted(month.free_times_per_day.items())],
        metadata={"description": "Only the days with a free time"})


class FreeTimesArgsSchema(QueryArgsSchema):
    date = ma.fields.Date(required=True, metadata={"description": "The provider's day"})
    quantity = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100))
    resource_id = Id(load_default=None,
                     metadata={"description": "Only the times this person (or room) is "
                                              "free: one of `/offerings/{id}/resources`"})


class FreeTimeSchema(Schema):
    slot_id = ma.fields.Integer()
    starts_at = ma.fields.Function(lambda free: free.starts_at.astimezone(ZoneInfo("UTC"))
                                   .isoformat(), metadata={"description": "UTC"})
    starts_at_local = ma.fields.Function(lambda free: free.starts_at.isoformat())
    ends_at_local = ma.fields.Function(lambda free: free.ends_at.isoformat())
    remaining = ma.fields.Integer()


class PartOfDaySchema(Schema):
    part = ma.fields.String(metadata={"description": "morning, afternoon or evening"})
    times = ma.fields.List(ma.fields.Nested(FreeTimeSchema))


class FreeTimesSchema(Schema):
    offering_id = ma.fields.Integer()
    timezone = ma.fields.String()
    date = ma.fields.Function(lambda day: day.day.isoformat())
    quantity = ma.fields.Integer()
    parts = ma.fields.Function(lambda day: [
        {"part": part, "times": FreeTimeSchema(many=True).dump(times)}
        for part, times in day.parts])
