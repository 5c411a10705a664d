"""Rules a catalog row must satisfy, shared by the API services and the console forms.

Each ``check_*`` takes an unsaved or changed model instance and raises
``ValidationFailed`` with per-field messages; it changes nothing.
"""
from __future__ import annotations

from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Category, Location, Offering, Provider, Variant
from app.models.catalog import OFFERING_KINDS, SERVICE
from app.services.validation import check_currency

MAX_PRICE_MINOR = 10**12


def _fail(code: str, field: str, message: str):
    raise ValidationFailed(code, message, {field: [message]})


def check_price(value: int | None, field: str = "price_minor", *, required: bool = True):
    if value is None:
        if required:
            _fail("catalog.price_required", field, "A price is required.")
        return
    if value < 0:
        _fail("catalog.negative_price", field, "A price cannot be negative.")
    if value > MAX_PRICE_MINOR:
        _fail("catalog.price_too_large", field, "The price is too large.")


def _owned_by(model, row_id: int | None, provider_id: int, field: str) -> None:
    if row_id is None:
        return
    owner = db.session.scalar(select(model.provider_id).where(model.id == row_id))
    if owner != provider_id:
        _fail("catalog.unknown_reference", field, f"No such {model.__tablename__} here.")


def check_offering(offering: Offering) -> None:
    if offering.kind not in OFFERING_KINDS:
        _fail("catalog.invalid_kind", "kind", "Kind must be 'service' or 'product'.")
    if not (offering.name or "").strip():
        _fail("catalog.name_required", "name", "A name is required.")
    check_price(offering.price_minor)
    try:
        offering.currency = check_currency(offering.currency or "")
    except ValueError as exc:
        _fail("catalog.invalid_currency", "currency", str(exc))
    if offering.kind == SERVICE and not (offering.duration_minutes or 0) > 0:
        _fail("catalog.duration_required", "duration_minutes",
              "A service needs a duration of at least one minute.")
    _check_booking_rules(offering)
    _owned_by(Location, offering.location_id, offering.provider_id, "location_id")
    _owned_by(Category, offering.category_id, offering.provider_id, "category_id")
    for url in offering.image_urls or []:
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            _fail("catalog.invalid_image_url", "image_urls", f"Not a web address: {url!r}.")


MAX_NOTICE_MINUTES = 365 * 24 * 60
MAX_HORIZON_DAYS = 3650
MAX_BUFFER_MINUTES = 24 * 60


DEFAULT_NOTICE_MINUTES, DEFAULT_HORIZON_DAYS, DEFAULT_CANCELLATION_HOURS = 0, 60, 24


def _check_booking_rules(offering: Offering) -> None:
    """The booking rules' ranges (the table's CHECK constraints, said per field); a rule
    left empty (a form's empty box) takes its default."""
    for field, default in (("min_notice_minutes", DEFAULT_NOTICE_MINUTES),
                           ("booking_horizon_days", DEFAULT_HORIZON_DAYS),
                           ("free_cancellation_hours", DEFAULT_CANCELLATION_HOURS),
                           ("buffer_before_minutes", 0), ("buffer_after_minutes", 0)):
        if getattr(offering, field) is None:
            setattr(offering, field, default)
    if offering.pay_at_venue is None:
        offering.pay_at_venue = False
    if offering.resources_shared is None:
        offering.resources_shared = False
    notice = offering.min_notice_minutes
    if notice is not None and not 0 <= notice <= MAX_NOTICE_MINUTES:
        _fail("catalog.invalid_notice", "min_notice_minutes",
              "The minimum notice is between 0 minutes and a year.")
    horizon = offering.booking_horizon_days
    if horizon is not None and not 1 <= horizon <= MAX_HORIZON_DAYS:
        _fail("catalog.invalid_horizon", "booking_horizon_days",
              f"Bookings may open 1 to {MAX_HORIZON_DAYS} days ahead.")
    for field in ("max_active_bookings_per_customer", "max_held_places_per_customer"):
        limit = getattr(offering, field)
        if limit is not None and not 1 <= limit <= 1000:
            _fail("catalog.invalid_limit", field, "A limit is 1 to 1000; leave it empty for none.")
    for field in ("buffer_before_minutes", "buffer_after_minutes"):
        if not 0 <= getattr(offering, field) <= MAX_BUFFER_MINUTES:
            _fail("catalog.invalid_buffer", field,
                  "A buffer is 0 to 1440 minutes (a day).")
    if offering.free_cancellation_hours is not None and \
            not 0 <= offering.free_cancellation_hours <= 24 * 365:
        _fail("catalog.invalid_cancellation_hours", "free_cancellation_hours",
              "Free cancellation ends 0 hours to a year before the start.")


def check_variant(variant: Variant) -> None:
    if not (variant.name or "").strip():
        _fail("catalog.name_required", "name", "A name is required.")
    if not (variant.sku or "").strip():
        _fail("catalog.sku_required", "sku", "A SKU is required.")
    check_price(variant.price_minor, required=False)
    if variant.stock is not None and variant.stock < 0:
        _fail("catalog.negative_stock", "stock", "Stock cannot be negative.")
    _owned_by(Offering, variant.offering_id, variant.provider_id, "offering_id")
    clash = db.session.scalar(
        select(Variant.id).where(Variant.provider_id == variant.provider_id,
                                 Variant.sku == variant.sku,
                                 Variant.id != (variant.id or 0)))
    if clash is not None:
        raise ValidationFailed("catalog.sku_taken", "This SKU is already used.",
                               {"sku": ["Already used by another variant of this provider."]})


def check_category(category: Category) -> None:
    if not (category.name or "").strip():
        _fail("catalog.name_required", "name", "A name is required.")
    _owned_by(Category, category.parent_id, category.provider_id, "parent_id")
    # Walk up from the new parent: meeting ourselves would make a cycle.
    seen, parent_id = set(), category.parent_id
    while parent_id is not None:
        if parent_id == category.id or parent_id in seen:
            _fail("catalog.category_cycle", "parent_id",
                  "A category cannot be placed under itself.")
        seen.add(parent_id)
        parent_id = db.session.scalar(select(Category.parent_id).where(Category.id == parent_id))


def check_location(location: Location) -> None:
    if not (location.name or "").strip():
        _fail("catalog.name_required", "name", "A name is required.")
    if (location.lat is None) != (location.lng is None):
        _fail("catalog.partial_coordinates", "lat", "Give both latitude and longitude, or neither.")
    if location.lat is not None and not -90 <= location.lat <= 90:
        _fail("catalog.invalid_latitude", "lat", "Latitude must be between -90 and 90.")
    if location.lng is not None and not -180 <= location.lng <= 180:
        _fail("catalog.invalid_longitude", "lng", "Longitude must be between -180 and 180.")


def provider_currency(provider_id: int) -> str:
    return db.session.scalar(select(Provider.currency).where(Provider.id == provider_id))


def provider_timezone(provider_id: int) -> str | None:
    return db.session.scalar(select(Provider.timezone).where(Provider.id == provider_id))
