"""Placing and changing bookings. Capacity can never be oversold.

Placing is :mod:`app.services.booking_placing` (its rules: :mod:`app.services.booking_rules`).
Every transition goes through ``booking_states`` and leaves a ``BookingHistory`` row and
an outbox event. A lock wait longer than ``lock_timeout`` becomes a 409 ``booking.busy``.

Locks: the booking's row before its payment's (see :mod:`app.services.transactions`); a
transaction PostgreSQL aborts as a deadlock victim is run again, then answers 409
``booking.busy``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app import events
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Booking, BookingHistory, Offering, Slot, Variant
from app.models.bookings import CANCELLED, COMPLETED, CONFIRMED, EXPIRED, NO_SHOW, PENDING
from app.models.payments import PROCESSING, REQUIRES_ACTION, Payment
from app.models.types import utcnow
from app.services import booking_places, booking_rules, event_payloads
from app.services.booking_placing import (  # noqa: F401 (callers import them from here)
    MAX_QUANTITY,
    REFERENCE_ATTEMPTS,
    SLOT_BUSY,
    BookingRequest,
    place_booking,
)
from app.services.booking_rows import (  # noqa: F401
    ATTRIBUTION_FIELDS,
    BOOKING_COLUMNS,
    REFERENCE_ALPHABET,
    PlacedBooking,
    new_reference,
)
from app.services.booking_rules import OFFERING, SLOT
from app.services.booking_states import RELEASING, check_transition
from app.services.transactions import retried, transaction

PAYMENT_GRACE = timedelta(hours=1)  # see expire_holds


@dataclass(frozen=True)
class Actor:
    """Who acts: a user id (None for the system) and a reason for the history."""

    user_id: int | None
    reason: str = ""


def _transaction():
    """The booking's transaction: a lock wait on a busy slot is a 409 ``booking.busy``."""
    return transaction(lock_busy=SLOT_BUSY)


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
    events.publish(f"booking.{target}", event_payloads.booking(booking, **(extra or {})),
                   provider_id=booking.provider_id)


@retried("booking.busy")
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


@retried("booking.busy")
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


@retried("booking.busy")
def _after_start(reference, target, actor, provider_id, now, ready, message) -> Booking:
    with _transaction():
        booking = get_booking_for_update(reference, provider_id=provider_id)
        check_transition(booking.status, target)
        if not ready(booking, now):
            raise Conflict("booking.too_early", message, {"status": [booking.status]})
        transition(booking, target, actor, now=now)
        events.commit()
    return booking


@retried("booking.busy")
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
                starts_at, ends_at = booking_places.take_places(
                    db.session, booking_rules.about(OFFERING, SLOT),
                    offering_id=booking.offering_id, slot_id=new_slot_id, customer_id=None,
                    quantity=booking.quantity, now=now)
            else:
                _release_slot(old_slot_id, booking.quantity)
        booking.slot_id, booking.starts_at, booking.ends_at = new_slot_id, starts_at, ends_at
        _record(booking, booking.status, booking.status,
                Actor(actor.user_id, actor.reason or f"rescheduled from slot {old_slot_id}"))
        events.publish("booking.rescheduled",
                       event_payloads.booking(booking, previous_slot_id=old_slot_id),
                       provider_id=booking.provider_id)
        events.commit()
    return booking


def expire_holds(*, now: datetime | None = None, limit: int = 500) -> int:
    """Pending bookings whose hold ran out become expired and give their places back.

    A hold whose payment is on its way (processing, or waiting for the customer's bank)
    gets up to ``PAYMENT_GRACE`` more: reconciliation asks the gateway first, so a payment
    that succeeds at the last moment confirms its booking instead of being refunded.
    """
    now = now or utcnow()
    in_flight = select(Payment.booking_id).where(
        Payment.status.in_((PROCESSING, REQUIRES_ACTION)))
    query = (select(Booking).where(Booking.status == PENDING,
                                   Booking.hold_expires_at.is_not(None),
                                   Booking.hold_expires_at <= now,
                                   (Booking.hold_expires_at <= now - PAYMENT_GRACE)
                                   | Booking.id.not_in(in_flight))
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
