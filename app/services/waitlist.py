"""The waiting list of a full time: join, leave, and offers as places free up.

When places of a time come back (a cancellation, an expired hold, a move elsewhere, more
capacity), the first customers in line whose quantity fits are each offered a hold for
``WAITLIST_OFFER_MINUTES``: a pending booking made for them, which they take by paying
it (or, with nothing to pay online, by accepting it). An offer nobody takes expires with
its hold; its places go to the next in line.

One rule keeps it fair under concurrency: whoever offers the places of a time, or joins
its line, holds the time's slot row first (``FOR UPDATE``). Two cancellations at once
therefore offer one after the other, each reading what the other left; a customer never
joins a line while places of that time are free. The offer's booking takes its places
with the same conditional update as every booking, in the same transaction as the
entry's change, so an offer and its hold exist together or not at all.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app import events
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.models import Booking, Slot, WaitlistEntry
from app.models.bookings import CONFIRMED, PENDING
from app.models.catalog import SERVICE
from app.models.types import utcnow
from app.models.waitlist import BOOKED, IN_LINE, LEFT, OFFER_EXPIRED, OFFERED, WAITING
from app.services import booking_lifecycle, booking_placing, resource_time
from app.services.booking_placing import MAX_QUANTITY, SLOT_BUSY, BookingRequest
from app.services.scopes import Actor, Scope, require_scope
from app.services.transactions import retried, unit_of_work

log = logging.getLogger(__name__)
NOBODY_FREE = object()  # an offer not made: the staff or room needed is busy then

STATUS_LABELS = {WAITING: "Waiting", OFFERED: "Offered a place", BOOKED: "Booked",
                 OFFER_EXPIRED: "Offer expired", LEFT: "Left the list"}


@dataclass(frozen=True)
class LinePosition:
    entry: WaitlistEntry
    position: int | None  # 1 for the first in line; None once offered or ended


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.capitalize())


# --- customers -------------------------------------------------------------------------

@retried("booking.busy")
def join(*, customer_id: int, slot_id: int, quantity: int = 1,
         now: datetime | None = None) -> LinePosition:
    """Put the customer in line for a full time (no places left for ``quantity``, or
    nobody free to do it). Refused (409) while it can still be booked (book it instead),
    once it has started, and a second time."""
    now = now or utcnow()
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationFailed("waitlist.bad_quantity", "Quantity must be 1 to 100.",
                               {"quantity": [f"Between 1 and {MAX_QUANTITY}."]})
    with unit_of_work(busy=SLOT_BUSY):
        slot = _lock_slot(slot_id)
        if slot is None or not slot.offering.active or slot.retired_at is not None \
                or slot.offering.kind != SERVICE:
            raise NotFound("slot.not_found", "That time is not offered.")
        if slot.starts_at <= now:
            raise Conflict("waitlist.time_started", "That time has started.")
        if quantity > slot.capacity:
            raise ValidationFailed(
                "waitlist.more_than_capacity",
                f"That time has {slot.capacity} places in all.",
                {"quantity": [f"At most {slot.capacity}."]})
        if slot.capacity - slot.booked >= quantity and \
                resource_time.someone_free(db.session, slot.offering_id, slot.id):
            raise Conflict("waitlist.places_free",
                           "That time still has places free: book them instead.",
                           {"remaining": [str(slot.capacity - slot.booked)]})
        if _entry_in_line(slot_id, customer_id) is not None:
            raise Conflict("waitlist.already_in_line",
                           "You are on the waiting list for that time already.")
        entry = WaitlistEntry(provider_id=slot.provider_id, offering_id=slot.offering_id,
                              slot_id=slot_id, customer_id=customer_id, quantity=quantity,
                              status=WAITING, created_at=now)
        db.session.add(entry)
        db.session.flush()
        events.publish("waitlist.joined", _payload(entry), provider_id=entry.provider_id)
    return LinePosition(entry, position_of(entry))


@retried("booking.busy")
def leave(entry_id: int, *, customer_id: int, actor: Actor) -> WaitlistEntry:
    """The customer leaves the line; an offer they hold is declined (its hold cancelled,
    which offers the places to the next in line)."""
    with unit_of_work(busy=SLOT_BUSY):
        entry = _own_entry_for_update(entry_id, customer_id)
        if entry.status not in IN_LINE:
            raise Conflict("waitlist.not_in_line",
                           f"This entry has ended ({status_label(entry.status).lower()}).",
                           {"status": [entry.status]})
        held = _offered_booking(entry)
        if held is not None:  # declining the offer gives its places back
            booking_lifecycle.transition(held, "cancelled",
                                         actor.because("waiting list offer declined"))
        _end(entry, LEFT)
    return entry


def end_for_account(customer_id: int, actor: Actor) -> int:
    """An account closing (erasure): its entries leave every line, its offers are
    declined. In the caller's unit of work. Returns how many entries ended."""
    with unit_of_work(joins=True):
        entries = db.session.scalars(select(WaitlistEntry).where(
            WaitlistEntry.customer_id == customer_id, WaitlistEntry.status.in_(IN_LINE))
            .order_by(WaitlistEntry.id).with_for_update()).all()
        for entry in entries:
            held = _offered_booking(entry)
            if held is not None:
                booking_lifecycle.transition(held, "cancelled", actor)
            _end(entry, LEFT)
        return len(entries)


@retried("booking.busy")
def accept(entry_id: int, *, customer_id: int, actor: Actor) -> Booking:
    """Take an offer with nothing to pay online: a free time is confirmed, a time paid at
    the venue waits for staff as any such booking does. An offer to pay online is taken
    by paying its booking."""
    with unit_of_work(busy=SLOT_BUSY):
        entry = _own_entry_for_update(entry_id, customer_id)
        held = _offered_booking(entry) if entry.status == OFFERED else None
        if held is None:
            raise Conflict("waitlist.no_offer", "There is no offer to take on this entry.",
                           {"status": [entry.status]})
        if held.total_minor > 0 and not held.pay_at_venue:
            raise Conflict("waitlist.pay_to_accept",
                           "Pay for the booking to take the place.",
                           {"booking_reference": [held.reference]})
        if held.total_minor == 0:
            booking_lifecycle.transition(held, CONFIRMED,
                                         actor.because("waiting list offer taken"))
        else:
            held.hold_expires_at = None  # now waits for staff to confirm, like any
        _end(entry, BOOKED)
    return held


def entries_of_customer(customer_id: int, *, now: datetime | None = None
                        ) -> list[LinePosition]:
    """The customer's entries for times still to come, newest first, with their place in
    line."""
    now = now or utcnow()
    entries = db.session.scalars(
        select(WaitlistEntry).join(Slot, Slot.id == WaitlistEntry.slot_id)
        .where(WaitlistEntry.customer_id == customer_id, Slot.starts_at > now)
        .order_by(WaitlistEntry.created_at.desc(), WaitlistEntry.id.desc())).all()
    return [LinePosition(entry, position_of(entry)) for entry in entries]


def entry_of_customer(entry_id: int, customer_id: int) -> WaitlistEntry:
    entry = db.session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.id == entry_id, WaitlistEntry.customer_id == customer_id))
    if entry is None:
        raise NotFound("waitlist.not_found", "No such waiting list entry.")
    return entry


def offer_of_booking(reference: str, customer_id: int) -> WaitlistEntry | None:
    """The customer's open offer whose hold is that booking, if it is one."""
    return db.session.scalar(
        select(WaitlistEntry).join(Booking, Booking.id == WaitlistEntry.booking_id)
        .where(Booking.reference == reference, WaitlistEntry.customer_id == customer_id,
               WaitlistEntry.status == OFFERED))


def positions(line: list[WaitlistEntry]) -> list[LinePosition]:
    """A time's line (in order) with each waiting entry's place in it."""
    shown, waiting = [], 0
    for entry in line:
        waiting += entry.status == WAITING
        shown.append(LinePosition(entry, waiting if entry.status == WAITING else None))
    return shown


def position_of(entry: WaitlistEntry) -> int | None:
    if entry.status != WAITING:
        return None
    ahead = db.session.scalar(select(func.count()).select_from(WaitlistEntry).where(
        WaitlistEntry.slot_id == entry.slot_id, WaitlistEntry.status == WAITING,
        WaitlistEntry.id < entry.id))
    return ahead + 1


# --- staff -----------------------------------------------------------------------------

def line_of_slot(slot_id: int, *, scope: Scope) -> list[WaitlistEntry]:
    """Everyone who is or was in line for a time, in order (another provider's: 404)."""
    require_scope(scope)
    slot = db.session.scalar(scope.filter(select(Slot).where(Slot.id == slot_id), Slot))
    if slot is None:
        raise NotFound("slot.not_found", "No such time.")
    return list(db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.slot_id == slot_id).order_by(WaitlistEntry.id)))


@dataclass(frozen=True)
class LineOfBooking:
    """A booking's time's waiting list, for the booking's page."""

    slot: Slot
    counts: dict[str, int]  # {"waiting": 2, "offered": 1}: who is in line now
    offer: WaitlistEntry | None  # the entry whose offer this booking is (held or taken)


def line_of_booking(booking_id: int, *, scope: Scope) -> LineOfBooking | None:
    """The line of the booking's time and whether the booking is a waiting list offer;
    None when it is no offer and nobody is in line (or another provider's booking)."""
    require_scope(scope)
    booking = db.session.scalar(scope.filter(select(Booking).where(Booking.id == booking_id),
                                             Booking))
    if booking is None or booking.slot_id is None:
        return None
    offer = db.session.scalar(scope.filter(select(WaitlistEntry).where(
        WaitlistEntry.booking_id == booking.id).order_by(WaitlistEntry.id.desc()).limit(1),
        WaitlistEntry))
    counts = line_counts([booking.slot_id], scope=scope).get(booking.slot_id, {})
    if offer is None and not counts:
        return None
    return LineOfBooking(db.session.get(Slot, booking.slot_id), counts, offer)


def line_counts(slot_ids, *, scope: Scope) -> dict[int, dict[str, int]]:
    """How many entries of each of these times are waiting and offered a place, in one
    query: ``{slot_id: {"waiting": 2, "offered": 1}}`` (times with nobody in line are
    left out; another provider's times count nothing)."""
    require_scope(scope)
    ids = sorted(set(slot_ids))
    if not ids:
        return {}
    rows = db.session.execute(scope.filter(
        select(WaitlistEntry.slot_id, WaitlistEntry.status, func.count())
        .where(WaitlistEntry.slot_id.in_(ids), WaitlistEntry.status.in_(IN_LINE))
        .group_by(WaitlistEntry.slot_id, WaitlistEntry.status), WaitlistEntry))
    counts: dict[int, dict[str, int]] = {}
    for slot_id, status, count in rows:
        counts.setdefault(slot_id, {})[status] = count
    return counts


def places_in_line(slot_ids, *, scope: Scope) -> dict[int, int]:
    """The place in line (1: next to be offered) of every waiting entry of these times,
    by entry id, in one query; the same numbers as :func:`position_of`."""
    require_scope(scope)
    ids = sorted(set(slot_ids))
    if not ids:
        return {}
    rows = db.session.execute(scope.filter(
        select(WaitlistEntry.id, WaitlistEntry.slot_id)
        .where(WaitlistEntry.slot_id.in_(ids), WaitlistEntry.status == WAITING)
        .order_by(WaitlistEntry.slot_id, WaitlistEntry.id), WaitlistEntry))
    places, ahead = {}, {}
    for entry_id, slot_id in rows:
        ahead[slot_id] = ahead.get(slot_id, 0) + 1
        places[entry_id] = ahead[slot_id]
    return places


# --- offers: the consumers of the events that free places --------------------------------

def on_places_freed(*, event_id: str, topic: str, payload: dict) -> None:
    """``booking.cancelled``, ``booking.expired``, ``booking.rescheduled`` (the time it
    left), ``slot.capacity_raised``: end the offer whose hold this was, then offer the
    freed places. Idempotent: it reads the state, never the event's counts."""
    with unit_of_work(joins=True):  # with the consumer's record of this event
        reference = payload.get("booking_reference")
        if reference and topic in ("booking.cancelled", "booking.expired"):
            _end_offer_of(reference)
        slot_id = (payload.get("previous_slot_id") if topic == "booking.rescheduled"
                   else payload.get("slot_id"))
        if slot_id is not None:
            # Slots locked in id order, whichever booking freed them: no deadlocks.
            for each in sorted({slot_id, *_lines_sharing_people(slot_id)}):
                offer_freed_places(each)


def _lines_sharing_people(slot_id: int) -> list[int]:
    """The provider's other times with people waiting that overlap this one, when its
    offering needs staff or rooms: the person freed here may be who they wait for."""
    slot = db.session.get(Slot, slot_id)
    if slot is None or not resource_time.needs(db.session, slot.offering_id):
        return []
    start, end = resource_time.taken_between(slot)
    return list(db.session.scalars(
        select(WaitlistEntry.slot_id).distinct()
        .join(Slot, Slot.id == WaitlistEntry.slot_id)
        .where(WaitlistEntry.provider_id == slot.provider_id,
               WaitlistEntry.status == WAITING, WaitlistEntry.slot_id != slot_id,
               func.coalesce(Slot.resource_from, Slot.starts_at) < end,
               func.coalesce(Slot.resource_until, Slot.ends_at) > start)))


def on_booking_confirmed(*, event_id: str, topic: str, payload: dict) -> None:
    """``booking.confirmed``: an offer paid for (or confirmed by staff) is booked."""
    with unit_of_work(joins=True):
        entry = db.session.scalar(
            select(WaitlistEntry).join(Booking, Booking.id == WaitlistEntry.booking_id)
            .where(Booking.reference == payload["booking_reference"],
                   WaitlistEntry.status == OFFERED).with_for_update(of=WaitlistEntry))
        if entry is not None:
            _end(entry, BOOKED)


def offer_freed_places(slot_id: int, *, now: datetime | None = None) -> list[WaitlistEntry]:
    """Offer a time's free places to the first in line whose quantity fits, in the open
    unit of work (or one of its own). Returns the entries offered a place."""
    now = now or utcnow()
    with unit_of_work(joins=True, busy=SLOT_BUSY):
        slot = _lock_slot(slot_id)
        if slot is None:
            return []
        line = db.session.scalars(
            select(WaitlistEntry).where(WaitlistEntry.slot_id == slot_id,
                                        WaitlistEntry.status == WAITING)
            .order_by(WaitlistEntry.id).with_for_update()).all()
        if not line:
            return []
        if slot.starts_at <= now or slot.retired_at is not None:
            for entry in line:  # nobody can be offered a time that has gone
                _end(entry, OFFER_EXPIRED)
            return []
        free = slot.capacity - slot.booked
        offered = []
        minutes = current_app.config["WAITLIST_OFFER_MINUTES"]
        for entry in line:
            if free <= 0:
                break
            if entry.quantity > free:
                continue  # the next in line may want fewer
            booking = _hold_for(entry, now, minutes)
            if booking is NOBODY_FREE:
                break  # places, but nobody to do it: the line waits for them
            if booking is None:
                continue
            entry.status, entry.booking_id = OFFERED, booking.id
            entry.offered_at, entry.offer_expires_at = now, booking.hold_expires_at
            events.publish("waitlist.offered",
                           _payload(entry, booking_reference=booking.reference,
                                    offer_expires_at=booking.hold_expires_at.isoformat()),
                           provider_id=entry.provider_id)
            free -= entry.quantity
            offered.append(entry)
        return offered


def _hold_for(entry: WaitlistEntry, now: datetime, minutes: int):
    """The offer's booking, placed in the open transaction; None when the customer may no
    longer book it (an account closed, a per-customer limit reached: they leave the line);
    ``NOBODY_FREE`` when the staff or room it needs is busy then."""
    request = BookingRequest(customer_id=entry.customer_id, offering_id=entry.offering_id,
                             slot_id=entry.slot_id, quantity=entry.quantity, now=now,
                             offer_minutes=minutes)
    try:
        with db.session.begin_nested():  # a refusal undoes this offer's rows only
            return booking_placing.place_in_transaction(db.session.connection(), request)
    except DomainError as refused:
        if refused.code == resource_time.RESOURCE_BUSY[0]:
            return NOBODY_FREE  # they keep their place in line
        log.info("waiting list entry %s not offered: %s", entry.id, refused.code)
        _end(entry, LEFT)
        return None


# --- helpers ---------------------------------------------------------------------------

def _own_entry_for_update(entry_id: int, customer_id: int) -> WaitlistEntry:
    """The customer's own entry, row-locked; another customer's answers 404."""
    entry = db.session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.id == entry_id, WaitlistEntry.customer_id == customer_id)
        .with_for_update())
    if entry is None:
        raise NotFound("waitlist.not_found", "No such waiting list entry.")
    return entry


def _lock_slot(slot_id: int) -> Slot | None:
    return db.session.scalar(select(Slot).where(Slot.id == slot_id)
                             .with_for_update(of=Slot))


def _entry_in_line(slot_id: int, customer_id: int) -> WaitlistEntry | None:
    return db.session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.slot_id == slot_id, WaitlistEntry.customer_id == customer_id,
        WaitlistEntry.status.in_(IN_LINE)))


def _offered_booking(entry: WaitlistEntry) -> Booking | None:
    """The offer's hold, locked, while it is still a hold."""
    if entry.status != OFFERED or entry.booking_id is None:
        return None
    booking = db.session.scalar(select(Booking).where(Booking.id == entry.booking_id)
                                .with_for_update())
    return booking if booking is not None and booking.status == PENDING else None


def _end_offer_of(reference: str) -> None:
    """The offer whose hold ran out (or was cancelled) has expired: ``waitlist.expired``."""
    entry = db.session.scalar(
        select(WaitlistEntry).join(Booking, Booking.id == WaitlistEntry.booking_id)
        .where(Booking.reference == reference, WaitlistEntry.status == OFFERED)
        .with_for_update(of=WaitlistEntry))
    if entry is not None:
        _end(entry, OFFER_EXPIRED)
        events.publish("waitlist.expired", _payload(entry, booking_reference=reference),
                       provider_id=entry.provider_id)


def _end(entry: WaitlistEntry, status: str) -> None:
    entry.status, entry.ended_at = status, utcnow()


def _payload(entry: WaitlistEntry, **extra) -> dict:
    return {"waitlist_entry_id": entry.id, "provider_id": entry.provider_id,
            "offering_id": entry.offering_id, "slot_id": entry.slot_id,
            "customer_id": entry.customer_id, "quantity": entry.quantity,
            "status": entry.status, **extra}

