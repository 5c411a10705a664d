"""A booking's life after it is placed: every transition goes through ``booking_states``
and leaves a ``BookingHistory`` row and an outbox event.

- Staff actions take a required :class:`~app.services.scopes.Scope` (another provider's
  booking answers 404) and are each one unit of work.
- Customer actions take the customer's id (another customer's booking answers 404).
- :func:`confirm_paid`, :func:`expire_unpaid` and :func:`mark_refunded` are the verbs
  payments and refunds use: they run in the caller's transaction, on a booking the
  caller has locked.

Locks: the booking's row before its payment's (see :mod:`app.services.transactions`);
slots by conditional updates, in id order. A lock wait longer than ``lock_timeout`` is a
409 ``booking.busy``; a deadlock victim is run again.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from app import events
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Booking, BookingHistory, Offering, Slot, Variant
from app.models.bookings import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    EXPIRED,
    NO_SHOW,
    PENDING,
    REFUNDED,
)
from app.models.payments import PROCESSING, REQUIRES_ACTION, Payment
from app.models.types import utcnow
from app.services import booking_places, booking_rules, event_payloads, resource_time
from app.services.booking_placing import SLOT_BUSY
from app.services.booking_rules import OFFERING, SLOT
from app.services.booking_states import (
    RELEASING,
    BookingFacts,
    check_staff_action,
    check_transition,
)
from app.services.scopes import SYSTEM, Actor, Scope, require_scope
from app.services.transactions import retried, unit_of_work

PAYMENT_GRACE = timedelta(hours=1)  # see expire_holds


# --- finding the booking -----------------------------------------------------------------

def get_booking_for_update(reference: str, *, scope: Scope) -> Booking:
    """The booking, row-locked; one outside ``scope`` answers 404."""
    query = require_scope(scope).filter(select(Booking).where(Booking.reference == reference),
                                        Booking)
    return _locked(query, reference)


def get_own_booking_for_update(reference: str, *, customer_id: int) -> Booking:
    """The customer's own booking, row-locked; another customer's answers 404."""
    return _locked(select(Booking).where(Booking.reference == reference,
                                         Booking.customer_id == customer_id), reference)


def _locked(query, reference: str) -> Booking:
    booking = db.session.scalar(query.with_for_update())
    if booking is None:
        raise NotFound("booking.not_found", f"No booking {reference}.")
    return booking


def transition(booking: Booking, target: str, actor: Actor, *,
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


# --- staff -------------------------------------------------------------------------------

@retried("booking.busy")
def confirm_booking(reference: str, *, actor: Actor, scope: Scope) -> Booking:
    """Staff confirm a booking that is paid at the venue (online payments confirm their own)."""
    with unit_of_work(busy=SLOT_BUSY):
        booking = get_booking_for_update(reference, scope=scope)
        check_staff_action("confirm", facts_of(booking), utcnow())
        transition(booking, CONFIRMED, actor)
    return booking


@retried("booking.busy")
def cancel_booking(reference: str, *, actor: Actor, scope: Scope,
                   now: datetime | None = None) -> Booking:
    """Staff cancel any time."""
    with unit_of_work(busy=SLOT_BUSY):
        booking = get_booking_for_update(reference, scope=scope)
        _cancel(booking, actor, now or utcnow(), by_customer=False)
    return booking


def complete_booking(reference: str, *, actor: Actor, scope: Scope,
                     now: datetime | None = None) -> Booking:
    """Staff record that a booking took place (once it has ended)."""
    return _staff_transition(reference, "complete", COMPLETED, actor, scope, now or utcnow())


def mark_no_show(reference: str, *, actor: Actor, scope: Scope,
                 now: datetime | None = None) -> Booking:
    """Staff record that the customer did not come (once it has started)."""
    return _staff_transition(reference, "no_show", NO_SHOW, actor, scope, now or utcnow())


@retried("booking.busy")
def _staff_transition(reference, action, target, actor, scope, now) -> Booking:
    with unit_of_work(busy=SLOT_BUSY):
        booking = get_booking_for_update(reference, scope=scope)
        check_staff_action(action, facts_of(booking), now)
        transition(booking, target, actor)
    return booking


def facts_of(booking: Booking) -> BookingFacts:
    """What the staff-actions table looks at, read from a booking (locked or not)."""
    # Any payment row: a pay-at-venue booking has one only once it is marked paid.
    paid = db.session.scalar(select(Payment.id).where(
        Payment.booking_id == booking.id).limit(1)) is not None
    return BookingFacts(status=booking.status, pay_at_venue=booking.pay_at_venue,
                        total_minor=booking.total_minor, starts_at=booking.starts_at,
                        ends_at=booking.ends_at, paid=paid)


@retried("booking.busy")
def reschedule_booking(reference: str, *, new_slot_id: int, actor: Actor, scope: Scope,
                       now: datetime | None = None) -> Booking:
    """Staff move a booking to another slot of the same offering, at any time."""
    with unit_of_work(busy=SLOT_BUSY):
        booking = get_booking_for_update(reference, scope=scope)
        _move(booking, new_slot_id, actor, now or utcnow(), by_customer=False)
    return booking


def expire_holds(*, scope: Scope, now: datetime | None = None, limit: int = 500) -> int:
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
    query = require_scope(scope).filter(query, Booking)
    with unit_of_work(busy=SLOT_BUSY):
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # two sweepers share the work
        expired = 0
        for booking in db.session.scalars(query).all():
            transition(booking, EXPIRED, SYSTEM.because("hold expired"))
            expired += 1
    return expired


# --- customers ---------------------------------------------------------------------------

@retried("booking.busy")
def cancel_own_booking(reference: str, *, customer_id: int, actor: Actor,
                       now: datetime | None = None) -> Booking:
    """Customers cancel a confirmed booking within the offering's free-cancellation
    window (a pending one any time)."""
    with unit_of_work(busy=SLOT_BUSY):
        booking = get_own_booking_for_update(reference, customer_id=customer_id)
        _cancel(booking, actor, now or utcnow(), by_customer=True)
    return booking


@retried("booking.busy")
def reschedule_own_booking(reference: str, *, new_slot_id: int, customer_id: int,
                           actor: Actor, now: datetime | None = None) -> Booking:
    """Customers move a confirmed booking within the free-cancellation window (a pending
    one any time)."""
    with unit_of_work(busy=SLOT_BUSY):
        booking = get_own_booking_for_update(reference, customer_id=customer_id)
        _move(booking, new_slot_id, actor, now or utcnow(), by_customer=True)
    return booking


def customer_change_refusal(booking: Booking, now: datetime, *,
                            moving: bool) -> Conflict | None:
    """Why the customer may not cancel (or, ``moving``, move) the booking now, or None.

    A pending booking may be changed any time; a confirmed one within the offering's
    free-cancellation window; nothing else. The one rule for the API, the storefront and
    what the booking page offers."""
    if booking.status == PENDING:
        return None
    if booking.status == CONFIRMED:
        if _within_free_cancellation(booking, now):
            return None
        if moving:
            return Conflict("booking.change_window_passed",
                            "Changes are no longer possible; please contact the provider.")
        return Conflict("booking.cancellation_window_passed",
                        "Free cancellation has ended; please contact the provider.",
                        {"status": [booking.status]})
    return Conflict("booking.not_changeable", f"A {booking.status} booking cannot be changed.",
                    {"status": [booking.status]})


def free_cancellation_until(booking: Booking) -> datetime | None:
    """Until when the customer may cancel or move a confirmed booking (None: no start)."""
    if booking.starts_at is None:
        return None
    hours = db.session.scalar(select(Offering.free_cancellation_hours).where(
        Offering.id == booking.offering_id))
    return booking.starts_at - timedelta(hours=hours or 0)


def _cancel(booking: Booking, actor: Actor, now: datetime, *, by_customer: bool) -> None:
    free = _within_free_cancellation(booking, now)
    if by_customer and booking.status == CONFIRMED:
        refusal = customer_change_refusal(booking, now, moving=False)
        if refusal is not None:
            raise refusal
    transition(booking, CANCELLED, actor,
               extra={"free_cancellation": free, "by_customer": by_customer})


def _move(booking: Booking, new_slot_id: int, actor: Actor, now: datetime, *,
          by_customer: bool) -> None:
    """Move a locked booking to another slot of the same offering, atomically.

    Both slot rows are updated in id order (no deadlock between two opposite moves); if
    the new slot cannot take the places, nothing changes and the old places stay held.
    The new slot must pass the offering's and the slot's guards (the customer is the
    booking's, not asked again).
    """
    if booking.status not in (PENDING, CONFIRMED) or booking.slot_id is None:
        raise Conflict("booking.not_reschedulable",
                       f"A {booking.status} booking cannot be moved.",
                       {"status": [booking.status]})
    if by_customer:
        refusal = customer_change_refusal(booking, now, moving=True)
        if refusal is not None:
            raise refusal
    if new_slot_id == booking.slot_id:
        raise ValidationFailed("booking.same_slot", "That is the booking's slot already.",
                               {"slot_id": ["Choose another slot."]})
    old_slot_id = booking.slot_id
    guards = booking_rules.about(OFFERING, SLOT)
    rules = db.session.execute(
        select(Offering.min_notice_minutes, Offering.booking_horizon_days)
        .where(Offering.id == booking.offering_id)).one()
    # The provider's turn at the people first, as placing a booking takes it before
    # any slot's row: a move and a booking never wait for each other both ways.
    resource_time.take_turn(db.session.connection(), booking.provider_id)
    for slot_id in sorted((old_slot_id, new_slot_id)):
        if slot_id == new_slot_id:
            starts_at, ends_at = booking_places.take_places(
                db.session, guards, offering_id=booking.offering_id, slot_id=new_slot_id,
                customer_id=None, quantity=booking.quantity, now=now,
                min_notice_minutes=rules.min_notice_minutes,
                booking_horizon_days=rules.booking_horizon_days)
        else:
            _release_slot(old_slot_id, booking.quantity)
    _move_resources(booking, new_slot_id)
    booking.slot_id, booking.starts_at, booking.ends_at = new_slot_id, starts_at, ends_at
    _record(booking, booking.status, booking.status,
            actor if actor.reason else actor.because(f"rescheduled from slot {old_slot_id}"))
    events.publish("booking.rescheduled",
                   event_payloads.booking(booking, previous_slot_id=old_slot_id),
                   provider_id=booking.provider_id)


# --- verbs of payments and refunds (the caller's transaction, the caller's lock) --------

def confirm_paid(booking: Booking, *, actor: Actor) -> None:
    """The booking's payment succeeded (online, or taken at the venue)."""
    transition(booking, CONFIRMED, actor)


def expire_unpaid(booking: Booking, *, actor: Actor) -> None:
    """The booking's payment failed or was cancelled: its hold ends, its places return."""
    transition(booking, EXPIRED, actor)


def mark_refunded(booking: Booking, *, actor: Actor) -> None:
    """The booking's payment was refunded in full: a booking still held or confirmed is
    cancelled first (its places return), then it is refunded."""
    if booking.status in (PENDING, CONFIRMED):
        transition(booking, CANCELLED, actor)
    if booking.status == CANCELLED:
        transition(booking, REFUNDED, actor)


# --- helpers -----------------------------------------------------------------------------

def _within_free_cancellation(booking: Booking, now: datetime) -> bool:
    until = free_cancellation_until(booking)
    return until is None or now <= until


def _release(booking: Booking) -> None:
    if booking.slot_id is not None:
        _release_slot(booking.slot_id, booking.quantity)
        resource_time.release(db.session.connection(), booking.id)
    elif booking.variant_id is not None:
        db.session.execute(update(Variant).where(
            Variant.id == booking.variant_id, Variant.stock.is_not(None))
            .values(stock=Variant.stock + booking.quantity))


def _move_resources(booking: Booking, new_slot_id: int) -> None:
    """The booking's resources' time moves with it: the same people if they are free
    then, else any who are (refused, and nothing moved, when nobody is)."""
    conn = db.session.connection()
    kept = tuple(resource_time.assigned(conn, booking.id))
    resource_time.release(conn, booking.id)
    starts_at = conn.scalar(select(Slot.starts_at).where(Slot.id == new_slot_id))
    resource_time.assign(conn, booking_id=booking.id, provider_id=booking.provider_id,
                         offering_id=booking.offering_id, slot_id=new_slot_id,
                         starts_at=starts_at, prefer=kept, turn_taken=True)


def _release_slot(slot_id: int, quantity: int) -> None:
    db.session.execute(update(Slot).where(Slot.id == slot_id, Slot.booked >= quantity)
                       .values(booked=Slot.booked - quantity))


def _record(booking: Booking, previous: str | None, target: str, actor: Actor) -> None:
    db.session.add(BookingHistory(booking=booking, provider_id=booking.provider_id,
                                  from_status=previous, to_status=target,
                                  actor_id=actor.user_id, reason=actor.reason[:300]))
