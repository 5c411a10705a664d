"""The rows a new booking writes: the booking, its first history entry, its attribution,
its audit entry and its outbox events, as plain values (not ORM objects: on the hot path
the session's bookkeeping cost more than the statements), and the row-by-row insert."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import insert

from app import events
from app.models import Attribution, Booking, BookingHistory
from app.models.audit import AuditLog
from app.models.bookings import CONFIRMED, PENDING
from app.models.events import OutboxEvent
from app.services import audit, event_payloads
from app.services.money import amount_due

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
ATTRIBUTION_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                      "ttclid", "ttp", "landing_url", "referrer", "consent", "ip",
                      "user_agent")
BOOKING_COLUMNS = ("reference", "provider_id", "customer_id", "offering_id", "slot_id",
                   "variant_id", "quantity", "status", "unit_price_minor", "total_minor",
                   "currency", "pay_at_venue", "notes", "starts_at", "ends_at",
                   "hold_expires_at", "created_at", "placed_as_guest")
BOOKING_INSERT_COLUMNS = (*BOOKING_COLUMNS, "updated_at")
HISTORY_COLUMNS = ("provider_id", "from_status", "to_status", "actor_id", "reason",
                   "created_at")
AUDIT_COLUMNS = ("created_at", "action", "entity", "provider_id", "actor_id", "ip",
                 "changes")
EVENT_COLUMNS = ("id", "topic", "payload", "provider_id", "status", "attempts", "created_at",
                 "processed_at", "webhooks_pending", "trace_context")
ATTRIBUTION_COLUMNS = (*ATTRIBUTION_FIELDS, "created_at")


def new_reference() -> str:
    # 32 characters are 5 bits each: one 30-bit draw (one call for randomness to the
    # system, not six) picks all six, evenly.
    bits = secrets.randbits(30)
    return "BW-" + "".join(REFERENCE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(6))


@dataclass
class PlacedBooking:
    """What ``place_booking`` returns: the new row's values (not an ORM object)."""

    id: int | None
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
    idempotency_record_id: int | None = None
    placed_as_guest: bool = False


def new_booking(request, terms, *, unit_price: int, variant_id: int | None = None,
                starts_at: datetime | None = None,
                ends_at: datetime | None = None) -> PlacedBooking:
    """The booking ``request`` (a BookingRequest) makes on ``terms`` (the offering's and
    its provider's), not yet written. A product's booking has no slot."""
    now = request.now
    offer_minutes = request.offer_minutes
    confirmed = unit_price == 0 and offer_minutes is None  # nothing to pay: no hold needed
    return PlacedBooking(
        id=None, reference=new_reference(), provider_id=terms.provider_id,
        customer_id=request.customer_id, offering_id=terms.id,
        slot_id=None if variant_id is not None else request.slot_id,
        variant_id=variant_id, quantity=request.quantity,
        status=CONFIRMED if confirmed else PENDING, unit_price_minor=unit_price,
        # A provider whose prices exclude tax charges the tax on top (receipts show it).
        total_minor=amount_due(unit_price * request.quantity, terms.tax_rate_bp,
                               terms.tax_inclusive), currency=terms.currency,
        pay_at_venue=terms.pay_at_venue, notes=request.notes or "", starts_at=starts_at,
        ends_at=ends_at, created_at=now,
        # Pay-at-venue bookings wait for staff to confirm; online payments have a hold.
        hold_expires_at=_hold_expires_at(now, confirmed, terms.pay_at_venue, offer_minutes),
        idempotency_record_id=request.idempotency_record_id,
        placed_as_guest=request.as_guest)


def _hold_expires_at(now: datetime, confirmed: bool, pay_at_venue: bool,
                     offer_minutes: int | None) -> datetime | None:
    if offer_minutes is not None:  # a waiting list's offer is held until taken
        return now + timedelta(minutes=offer_minutes)
    if confirmed or pay_at_venue:
        return None
    return now + timedelta(minutes=current_app.config["HOLD_MINUTES"])


@dataclass
class BookingRows:
    """Every row a new booking writes; ``booking_id`` (and the audit's ``entity_id``) is
    filled in by the insert."""

    booking: dict
    history: dict
    attribution: dict | None
    audit: dict
    events: list[dict]


def booking_rows(booking: PlacedBooking, attribution: dict | None) -> BookingRows:
    now = booking.created_at
    values = {name: getattr(booking, name) for name in BOOKING_COLUMNS}
    values["updated_at"] = now
    if booking.idempotency_record_id is not None:  # absent otherwise: see booking_statement
        values["idempotency_record_id"] = booking.idempotency_record_id
    extra = None
    if attribution:
        extra = {k: v for k, v in attribution.items() if k in ATTRIBUTION_FIELDS}
        extra.setdefault("consent", False)
        booking.attribution_row = SimpleNamespace(**extra)
        extra["created_at"] = now
    # The entry ``audit.record`` would add, written here within the booking's statement.
    audit_row = audit.entry_values(
        "booking.created", entity="booking", provider_id=booking.provider_id,
        changes={"reference": booking.reference, "status": booking.status,
                 "slot_id": booking.slot_id, "variant_id": booking.variant_id,
                 "quantity": booking.quantity})
    topics = ["booking.created"] + (["booking.confirmed"] if booking.status == CONFIRMED
                                    else [])
    audit_row["created_at"] = now  # every row of the booking carries the same time
    event_rows = [events.outbox_row(topic, event_payloads.booking(booking),
                                    provider_id=booking.provider_id)
                  for topic in topics]
    for row in event_rows:
        row["created_at"] = now
        if row["processed_at"] is not None:
            row["processed_at"] = now
    return BookingRows(
        booking=values,
        history=dict(provider_id=booking.provider_id, from_status=None,
                     to_status=booking.status, actor_id=booking.customer_id,
                     reason="placed", created_at=now),
        attribution=extra, audit=audit_row, events=event_rows)


# Built once: a statement built per call (``insert(...).values(...)``) cost more CPU in
# SQLAlchemy than its round trip did. The values are passed at execution.
_INSERT_BOOKING = insert(Booking.__table__).returning(Booking.__table__.c.id)
_INSERT_ATTRIBUTION = insert(Attribution.__table__)
_INSERT_HISTORY = insert(BookingHistory.__table__)
_INSERT_AUDIT = insert(AuditLog.__table__)
_INSERT_EVENT = insert(OutboxEvent.__table__)


def insert_rows(conn, rows: BookingRows) -> int:
    """One insert per row (SQLite, and products): the booking's id."""
    booking_id = conn.execute(_INSERT_BOOKING, rows.booking).scalar_one()
    if rows.attribution is not None:
        conn.execute(_INSERT_ATTRIBUTION, {"booking_id": booking_id, **rows.attribution})
    conn.execute(_INSERT_HISTORY, {"booking_id": booking_id, **rows.history})
    conn.execute(_INSERT_AUDIT, {"entity_id": str(booking_id), **rows.audit})
    if rows.events:
        conn.execute(_INSERT_EVENT, rows.events)
    return booking_id
