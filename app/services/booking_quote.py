"""What a booking will be, before it is made: the review step's figures.

The same rules as placing it (``booking_rows.new_booking``: the unit price, the total with
tax by ``money.amount_due``; the slot's places as read now), so the review shows what the
booking will say. Placing checks everything again under its locks: a time taken between
the review and the click is refused then, with other times offered.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Offering, Slot, Variant
from app.models.catalog import PRODUCT, SERVICE
from app.models.types import utcnow
from app.services import browse
from app.services.booking_placing import MAX_QUANTITY
from app.services.money import amount_due, tax_breakdown


@dataclass(frozen=True)
class Quote:
    offering: Offering
    slot: Slot | None
    variant: Variant | None
    quantity: int
    unit_price_minor: int
    total_minor: int          # what the customer pays
    tax_minor: int            # of which (or on top of the prices), at the provider's rate
    tax_rate_bp: int
    tax_inclusive: bool
    currency: str
    pay_at_venue: bool
    free_cancellation_hours: int


def quote(offering_id: int, *, slot_id: int | None = None, variant_id: int | None = None,
          quantity: int = 1, now: datetime | None = None) -> Quote:
    """The figures of booking ``quantity`` of a visible offering's slot or variant; a time
    no longer free, or a variant out of stock: 409 (``booking.slot_full`` /
    ``booking.out_of_stock``), as placing would answer."""
    offering = browse.get_offering(offering_id)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationFailed("booking.bad_quantity", f"Book 1 to {MAX_QUANTITY}.",
                               {"quantity": [f"Between 1 and {MAX_QUANTITY}."]})
    slot = variant = None
    unit = offering.price_minor
    if offering.kind == SERVICE:
        slot = db.session.get(Slot, slot_id) if slot_id else None
        if slot is None or slot.offering_id != offering.id or slot.retired_at is not None:
            raise NotFound("slot.not_found", "That time is not offered.")
        if slot.starts_at <= (now or utcnow()):
            raise Conflict("booking.slot_started", "That time has begun; choose another.")
        if slot.capacity - slot.booked < quantity:
            raise Conflict("booking.slot_full", "That time is no longer free for "
                           f"{quantity} place{'s' if quantity != 1 else ''}.")
    elif offering.kind == PRODUCT:
        variant = db.session.get(Variant, variant_id) if variant_id else None
        if variant is None or variant.offering_id != offering.id or not variant.active:
            raise NotFound("variant.not_found", "That option is not offered.")
        if variant.stock is not None and variant.stock < quantity:
            raise Conflict("booking.out_of_stock", "Not enough left of that option.")
        unit = variant.price_minor if variant.price_minor is not None else offering.price_minor
    provider = offering.provider
    total = amount_due(unit * quantity, provider.tax_rate_bp, provider.tax_inclusive)
    tax = tax_breakdown(unit * quantity, provider.tax_rate_bp, provider.tax_inclusive)
    return Quote(offering=offering, slot=slot, variant=variant, quantity=quantity,
                 unit_price_minor=unit, total_minor=total, tax_minor=tax.tax_minor,
                 tax_rate_bp=provider.tax_rate_bp, tax_inclusive=provider.tax_inclusive,
                 currency=offering.currency, pay_at_venue=offering.pay_at_venue,
                 free_cancellation_hours=offering.free_cancellation_hours)
