"""Placing and changing bookings. Capacity can never be oversold.

Places on a slot (or stock on a variant) are taken by one conditional UPDATE inside the
booking transaction: ``booked = booked + n WHERE booked + n <= capacity``. PostgreSQL
serialises concurrent updates of the row, so the check and the change are one step; a
CHECK constraint on the slot is the last line of defence. A lock wait longer than
``lock_timeout`` becomes a 409 ``booking.busy``. Every transition goes through
``booking_states`` and leaves a ``BookingHistory`` row and an outbox event.
"""
from __future__ import annotations

import secrets
from types import SimpleNamespace
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import OperationalError

from app import events
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Attribution, Booking, BookingHistory, Offering, Provider, Slot, Variant
from app.models.bookings import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    EXPIRED,
    NO_SHOW,
    PENDING,
)
from app.models.catalog import SERVICE
from app.models.types import utcnow
from app.services import audit
from app.services.booking_states import RELEASING, check_transition

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
MAX_QUANTITY = 100
ATTRIBUTION_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                      "ttclid", "landing_url", "referrer", "consent", "ip", "user_agent")


def new_reference() -> str:
    return "BW-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class Actor:
    """Who acts: a user id (None for the system) and a reason for the history."""

    user_id: int | None
    reason: str = ""


# --- placing -----------------------------------------------------------------------------

def place_booking(*, customer_id: int, offering_id: int, slot_id: int | None = None,
                  variant_id: int | None = None, quantity: int = 1, notes: str = "",
                  attribution: dict | None = None, now: datetime | None = None) -> Booking:
    """Take the places and create the booking in one transaction; commits."""
    now = now or utcnow()
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationFailed("booking.bad_quantity", "Quantity must be 1 to 100.",
                               {"quantity": [f"Between 1 and {MAX_QUANTITY}."]})
    with _transaction():
        # The hot path: one statement checks the offering and takes the places.
        taken = _take_places_of(offering_id, slot_id, quantity, now) if slot_id else None
        if taken is not None:
            offering, starts_at, ends_at = taken
            unit_price = offering.price_minor
        else:  # a product (a slot id given with one is ignored), or no slot given
            offering = _bookable_offering(offering_id)
            if offering.kind == SERVICE:
                _take_places(offering, slot_id, quantity, now)  # explains what is missing
            unit_price = _take_stock(offering, variant_id, quantity)
            starts_at = ends_at = None
        # Core inserts, not ORM objects: this is the hottest write path of the platform.
        booking = _insert_booking(offering, customer_id, slot_id if offering.kind == SERVICE
                                  else None, variant_id, quantity, unit_price, notes,
                                  starts_at, ends_at, now)
        if attribution:
            values = {k: v for k, v in attribution.items() if k in ATTRIBUTION_FIELDS}
            values.setdefault("consent", False)
            db.session.execute(insert(Attribution.__table__).values(
                booking_id=booking.id, created_at=now, **values))
            booking.attribution_row = SimpleNamespace(**values)
        db.session.execute(insert(BookingHistory.__table__).values(
            booking_id=booking.id, provider_id=booking.provider_id, from_status=None,
            to_status=booking.status, actor_id=customer_id, reason="placed", created_at=now))
        audit.record("booking.created", entity="booking", entity_id=booking.id,
                     provider_id=booking.provider_id,
                     changes={"reference": booking.reference, "status": booking.status,
                              "slot_id": booking.slot_id, "variant_id": booking.variant_id,
                              "quantity": booking.quantity})
        events.publish("booking.created", _payload(booking), provider_id=booking.provider_id)
        if booking.status == CONFIRMED:
            events.publish("booking.confirmed", _payload(booking),
                           provider_id=booking.provider_id)
        events.commit()
    return booking


def _bookable_offering(offering_id: int):
    row = db.session.execute(
        select(Offering.id, Offering.kind, Offering.price_minor, Offering.currency,
               Offering.provider_id, Offering.pay_at_venue)
        .join(Provider, Provider.id == Offering.provider_id)
        .where(Offering.id == offering_id, Offering.active.is_(True),
               Provider.active.is_(True))).first()
    if row is None:
        raise NotFound("offering.not_found", f"No offering with id {offering_id}.")
    return row


@contextmanager
def _transaction():
    """A transaction rolled back, events included, when anything goes wrong; a lock wait
    longer than PostgreSQL's ``lock_timeout`` (set per connection, see config) is a 409."""
    try:
        yield
    except OperationalError as exc:
        events.rollback()
        if "lock timeout" in str(exc).lower() or "LockNotAvailable" in type(exc.orig).__name__:
            raise Conflict("booking.busy", "That slot is busy right now; try again.") from exc
        raise
    except Exception:
        events.rollback()
        raise


def _take_places_of(offering_id: int, slot_id: int, quantity: int, now: datetime):
    """Take places on a slot of a bookable service in one UPDATE … FROM: (offering row,
    start, end); None for a product; otherwise raises why (no offering, slot, started, full)."""
    if db.session.get_bind().dialect.name != "postgresql":
        # SQLite's RETURNING names only the updated table's columns: two statements.
        offering = _bookable_offering(offering_id)
        if offering.kind != SERVICE:
            return None
        return (offering, *_take_places(offering, slot_id, quantity, now))
    else:
        taken = _update_slot_returning_offering(offering_id, slot_id, quantity, now)
    if taken is not None:
        return taken, taken.starts_at, taken.ends_at
    offering = _bookable_offering(offering_id)
    if offering.kind != SERVICE:
        return None
    _take_places(offering, slot_id, quantity, now)  # raises with the reason
    raise Conflict("booking.busy", "That slot changed meanwhile; try again.")


def _update_slot_returning_offering(offering_id: int, slot_id: int, quantity: int,
                                    now: datetime):
    return db.session.execute(
        update(Slot).where(
            Slot.id == slot_id, Slot.offering_id == offering_id, Slot.starts_at > now,
            Slot.booked + quantity <= Slot.capacity,
            Offering.id == Slot.offering_id, Offering.active.is_(True),
            Offering.kind == SERVICE,
            Provider.id == Offering.provider_id, Provider.active.is_(True))
        .values(booked=Slot.booked + quantity)
        .returning(Slot.starts_at, Slot.ends_at, Offering.id, Offering.kind,
                   Offering.price_minor, Offering.currency, Offering.provider_id,
                   Offering.pay_at_venue)).first()


def _take_places(offering, slot_id: int | None, quantity: int, now: datetime):
    if slot_id is None:
        raise ValidationFailed("booking.slot_required", "Choose a slot for this service.",
                               {"slot_id": ["Required for services."]})
    taken = db.session.execute(
        update(Slot).where(Slot.id == slot_id, Slot.offering_id == offering.id,
                           Slot.starts_at > now, Slot.booked + quantity <= Slot.capacity)
        .values(booked=Slot.booked + quantity)
        .returning(Slot.starts_at, Slot.ends_at)).first()
    if taken is not None:
        return taken.starts_at, taken.ends_at
    slot = db.session.execute(select(Slot.offering_id, Slot.starts_at, Slot.capacity,
                                     Slot.booked).where(Slot.id == slot_id)).first()
    if slot is None or slot.offering_id != offering.id:
        raise ValidationFailed("booking.unknown_slot", "No such slot for this offering.",
                               {"slot_id": ["No such slot for this offering."]})
    if slot.starts_at <= now:
        raise Conflict("booking.slot_started", "That slot has already started.")
    raise Conflict("booking.slot_full", f"Only {slot.capacity - slot.booked} places left.",
                   {"quantity": [f"At most {max(slot.capacity - slot.booked, 0)}."]})


def _take_stock(offering, variant_id: int | None, quantity: int) -> int:
    if variant_id is None:
        raise ValidationFailed("booking.variant_required", "Choose a variant of this product.",
                               {"variant_id": ["Required for products."]})
    taken = db.session.execute(
        update(Variant).where(Variant.id == variant_id, Variant.offering_id == offering.id,
                              Variant.active.is_(True),
                              (Variant.stock.is_(None)) | (Variant.stock >= quantity))
        .values(stock=Variant.stock - quantity)
        .returning(Variant.price_minor)).first()
    if taken is None:
        exists = db.session.scalar(select(Variant.id).where(
            Variant.id == variant_id, Variant.offering_id == offering.id,
            Variant.active.is_(True)))
        if exists is None:
            raise ValidationFailed("booking.unknown_variant", "No such variant.",
                                   {"variant_id": ["No such variant of this product."]})
        raise Conflict("booking.out_of_stock", "Not enough stock left.")
    return taken.price_minor if taken.price_minor is not None else offering.price_minor


@dataclass
class PlacedBooking:
    """What ``place_booking`` returns: the new row's values (not an ORM object)."""

    id: int
    reference: str
    provider_id: int
    customer_id: int
    offering_id: int
    slot_id: int | None
    variant_id: int | None
    quantity: int
    status: str
    unit_price_minor: int
    total_minor: int
    currency: str
    pay_at_venue: bool
    notes: str
    starts_at: datetime | None
    ends_at: datetime | None
    hold_expires_at: datetime | None
    created_at: datetime
    attribution_row: object = None


def _insert_booking(offering, customer_id, slot_id, variant_id, quantity, unit_price, notes,
                    starts_at, ends_at, now) -> PlacedBooking:
    free = unit_price == 0
    confirmed = free  # nothing to pay: no hold needed
    values = dict(
        reference=new_reference(), provider_id=offering.provider_id, customer_id=customer_id,
        offering_id=offering.id, slot_id=slot_id, variant_id=variant_id, quantity=quantity,
        status=CONFIRMED if confirmed else PENDING, unit_price_minor=unit_price,
        total_minor=unit_price * quantity, currency=offering.currency,
        pay_at_venue=offering.pay_at_venue, notes=notes or "", starts_at=starts_at,
        ends_at=ends_at, created_at=now,
        # Pay-at-venue bookings wait for staff to confirm; online payments have a hold.
        hold_expires_at=None if confirmed or offering.pay_at_venue else now + timedelta(
            minutes=current_app.config["HOLD_MINUTES"]),
        updated_at=now,
    )
    booking_id = db.session.execute(insert(Booking.__table__).values(**values).returning(
        Booking.__table__.c.id)).scalar_one()
    values.pop("updated_at")
    return PlacedBooking(id=booking_id, **values)


# --- transitions -------------------------------------------------------------------------

def get_booking_for_update(reference: str, *, customer_id: int | None = None,
                           provider_id: int | None = None) -> Booking:
    """The booking, row-locked; another customer's or provider's answers 404."""
    query = select(Booking).where(Booking.reference == reference)
    if customer_id is not None:
        query = query.where(Booking.customer_id == customer_id)
    if provider_id is not None:
        query = query.where(Booking.provider_id == provider_id)
    booking = db.session.scalar(query.with_for_update())
    if booking is None:
        raise NotFound("booking.not_found", f"No booking {reference}.")
    return booking


def transition(booking: Booking, target: str, actor: Actor, *, now: datetime | None = None,
               extra: dict | None = None) -> None:
    """Move a locked booking to ``target`` in the open transaction (no commit)."""
    check_transition(booking.status, target)
    previous = booking.status
    if target in RELEASING and previous in (PENDING, CONFIRMED):
        _release(booking)
    booking.status = target
    booking.hold_expires_at = None
    _record(booking, previous, target, actor)
    payload = _payload(booking)
    payload.update(extra or {})
    events.publish(f"booking.{target}", payload, provider_id=booking.provider_id)


def confirm_booking(reference: str, *, actor: Actor, provider_id: int | None = None) -> Booking:
    """Staff confirm a booking that is paid at the venue (online payments confirm their own)."""
    with _transaction():
        booking = get_booking_for_update(reference, provider_id=provider_id)
        if not booking.pay_at_venue and booking.total_minor > 0 and booking.status == PENDING:
            raise Conflict("booking.awaits_payment",
                           "This booking is confirmed by its online payment, not by hand.",
                           {"status": [booking.status]})
        transition(booking, CONFIRMED, actor)
        events.commit()
    return booking


def cancel_booking(reference: str, *, actor: Actor, customer_id: int | None = None,
                   provider_id: int | None = None, now: datetime | None = None) -> Booking:
    """Customers cancel within the offering's free-cancellation window; staff any time."""
    now = now or utcnow()
    with _transaction():
        booking = get_booking_for_update(reference, customer_id=customer_id,
                                         provider_id=provider_id)
        free = _within_free_cancellation(booking, now)
        if customer_id is not None and booking.status == CONFIRMED and not free:
            raise Conflict("booking.cancellation_window_passed",
                           "Free cancellation has ended; please contact the provider.",
                           {"status": [booking.status]})
        transition(booking, CANCELLED, actor, now=now,
                   extra={"free_cancellation": free, "by_customer": customer_id is not None})
        events.commit()
    return booking


def complete_booking(reference: str, *, actor: Actor, provider_id: int | None = None,
                     now: datetime | None = None) -> Booking:
    return _after_start(reference, COMPLETED, actor, provider_id, now or utcnow(),
                        lambda b, n: b.ends_at is None or b.ends_at <= n,
                        "It can be completed once it has ended.")


def mark_no_show(reference: str, *, actor: Actor, provider_id: int | None = None,
                 now: datetime | None = None) -> Booking:
    return _after_start(reference, NO_SHOW, actor, provider_id, now or utcnow(),
                        lambda b, n: b.starts_at is None or b.starts_at <= n,
                        "A no-show can be recorded once it has started.")


def _after_start(reference, target, actor, provider_id, now, ready, message) -> Booking:
    with _transaction():
        booking = get_booking_for_update(reference, provider_id=provider_id)
        check_transition(booking.status, target)
        if not ready(booking, now):
            raise Conflict("booking.too_early", message, {"status": [booking.status]})
        transition(booking, target, actor, now=now)
        events.commit()
    return booking


def reschedule_booking(reference: str, *, new_slot_id: int, actor: Actor,
                       customer_id: int | None = None, provider_id: int | None = None,
                       now: datetime | None = None) -> Booking:
    """Move a booking to another slot of the same offering, atomically.

    Both slot rows are updated in id order (no deadlock between two opposite moves); if the
    new slot cannot take the places, nothing changes and the old places stay held.
    """
    now = now or utcnow()
    with _transaction():
        booking = get_booking_for_update(reference, customer_id=customer_id,
                                         provider_id=provider_id)
        if booking.status not in (PENDING, CONFIRMED) or booking.slot_id is None:
            raise Conflict("booking.not_reschedulable",
                           f"A {booking.status} booking cannot be moved.",
                           {"status": [booking.status]})
        if customer_id is not None and booking.status == CONFIRMED and \
                not _within_free_cancellation(booking, now):
            raise Conflict("booking.change_window_passed",
                           "Changes are no longer possible; please contact the provider.")
        if new_slot_id == booking.slot_id:
            raise ValidationFailed("booking.same_slot", "That is the booking's slot already.",
                                   {"slot_id": ["Choose another slot."]})
        old_slot_id = booking.slot_id
        for slot_id in sorted((old_slot_id, new_slot_id)):
            if slot_id == new_slot_id:
                offering = _bookable_offering(booking.offering_id)
                starts_at, ends_at = _take_places(offering, new_slot_id, booking.quantity, now)
            else:
                _release_slot(old_slot_id, booking.quantity)
        booking.slot_id, booking.starts_at, booking.ends_at = new_slot_id, starts_at, ends_at
        _record(booking, booking.status, booking.status,
                Actor(actor.user_id, actor.reason or f"rescheduled from slot {old_slot_id}"))
        payload = _payload(booking)
        payload["previous_slot_id"] = old_slot_id
        events.publish("booking.rescheduled", payload, provider_id=booking.provider_id)
        events.commit()
    return booking


def expire_holds(*, now: datetime | None = None, limit: int = 500) -> int:
    """Pending bookings whose hold ran out become expired and give their places back."""
    now = now or utcnow()
    query = (select(Booking).where(Booking.status == PENDING,
                                   Booking.hold_expires_at.is_not(None),
                                   Booking.hold_expires_at <= now)
             .order_by(Booking.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # two sweepers share the work
    expired = 0
    for booking in db.session.scalars(query).all():
        transition(booking, EXPIRED, Actor(None, "hold expired"), now=now)
        expired += 1
    events.commit()
    return expired


# --- helpers -----------------------------------------------------------------------------

def _within_free_cancellation(booking: Booking, now: datetime) -> bool:
    if booking.starts_at is None:
        return True
    hours = db.session.scalar(select(Offering.free_cancellation_hours).where(
        Offering.id == booking.offering_id))
    return now <= booking.starts_at - timedelta(hours=hours or 0)


def _release(booking: Booking) -> None:
    if booking.slot_id is not None:
        _release_slot(booking.slot_id, booking.quantity)
    elif booking.variant_id is not None:
        db.session.execute(update(Variant).where(
            Variant.id == booking.variant_id, Variant.stock.is_not(None))
            .values(stock=Variant.stock + booking.quantity))


def _release_slot(slot_id: int, quantity: int) -> None:
    db.session.execute(update(Slot).where(Slot.id == slot_id, Slot.booked >= quantity)
                       .values(booked=Slot.booked - quantity))


def _record(booking: Booking, previous: str | None, target: str, actor: Actor) -> None:
    db.session.add(BookingHistory(booking=booking, provider_id=booking.provider_id,
                                  from_status=previous, to_status=target,
                                  actor_id=actor.user_id, reason=actor.reason[:300]))


def _payload(booking: Booking) -> dict:
    return {
        "booking_reference": booking.reference, "provider_id": booking.provider_id,
        "customer_id": booking.customer_id, "offering_id": booking.offering_id,
        "slot_id": booking.slot_id, "variant_id": booking.variant_id,
        "quantity": booking.quantity, "status": booking.status,
        "total_minor": booking.total_minor, "currency": booking.currency,
        "starts_at": booking.starts_at.isoformat() if booking.starts_at else None,
    }


