"""Placing and changing bookings. Capacity can never be oversold.

Places on a slot (or stock on a variant) are taken by one conditional UPDATE inside the
booking transaction: ``booked = booked + n WHERE booked + n <= capacity``. PostgreSQL
serialises concurrent updates of the row, so the check and the change are one step; a
CHECK constraint on the slot is the last line of defence. A lock wait longer than
``lock_timeout`` becomes a 409 ``booking.busy``. Every transition goes through
``booking_states`` and leaves a ``BookingHistory`` row and an outbox event.

Locks: the booking's row before its payment's (see :mod:`app.services.transactions`); a
transaction PostgreSQL aborts as a deadlock victim is run again, then answers 409
``booking.busy``.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (
    JSON,
    LABEL_STYLE_NONE,
    String,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError

from app import events
from app.errors import UNKNOWN_USER, Conflict, NotFound, Unauthorized, ValidationFailed
from app.extensions import AUTOCOMMIT_BIND, db
from app.models import (
    Account,
    Attribution,
    Booking,
    BookingHistory,
    Offering,
    Provider,
    Slot,
    Variant,
)
from app.models.audit import AuditLog
from app.models.events import OutboxEvent
from app.models.bookings import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    EXPIRED,
    NO_SHOW,
    PENDING,
)
from app.models.catalog import SERVICE
from app.models.payments import PROCESSING, REQUIRES_ACTION, Payment
from app.models.types import utcnow
from app.services import audit, event_payloads, idempotency
from app.services.booking_states import RELEASING, check_transition
from app.services.transactions import retried, retrying, transaction
from app.services.money import amount_due

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
MAX_QUANTITY = 100
PAYMENT_GRACE = timedelta(hours=1)  # see expire_holds
ATTRIBUTION_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
                      "ttclid", "ttp", "landing_url", "referrer", "consent", "ip",
                      "user_agent")


def new_reference() -> str:
    # 32 characters are 5 bits each: one 30-bit draw (one call for randomness to the
    # system, not six) picks all six, evenly.
    bits = secrets.randbits(30)
    return "BW-" + "".join(REFERENCE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(6))


@dataclass(frozen=True)
class Actor:
    """Who acts: a user id (None for the system) and a reason for the history."""

    user_id: int | None
    reason: str = ""


# --- placing -----------------------------------------------------------------------------

def place_booking(*, customer_id: int, offering_id: int, slot_id: int | None = None,
                  variant_id: int | None = None, quantity: int = 1, notes: str = "",
                  attribution: dict | None = None, now: datetime | None = None,
                  idempotency_record_id: int | None = None) -> PlacedBooking:
    """Create the booking and take its places in one transaction; commits.

    ``idempotency_record_id``: the Idempotency-Key claim this request holds; the booking
    row carries it, so one key places one booking at most (a second attempt raises
    ``idempotency.AlreadyCommitted``) and a retry after a crash can find it.

    The offering and the slot are read first, unlocked, and the places are taken last, so
    that the slot's row lock is held from the conditional UPDATE to the commit only (busy
    slots serialise on that lock). On PostgreSQL the UPDATE and every insert are one
    statement whose inserts read from the UPDATE: no places taken, no rows written.
    """
    now = now or utcnow()
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationFailed("booking.bad_quantity", "Quantity must be 1 to 100.",
                               {"quantity": [f"Between 1 and {MAX_QUANTITY}."]})
    for attempt in range(1, REFERENCE_ATTEMPTS + 1):
        try:
            return retrying(_place, customer_id, offering_id, slot_id, variant_id,
                            quantity, notes, attribution, now, idempotency_record_id,
                            busy_code="booking.busy")
        except IntegrityError as exc:
            if _constraint_hit(exc, "uq_booking_idempotency_record_id",
                               "booking.idempotency_record_id"):
                raise idempotency.AlreadyCommitted() from exc
            # Six random characters are short enough to read out on the phone, so with
            # millions of bookings a new one now and then draws a taken reference: the
            # transaction rolled back whole; draw again.
            if attempt == REFERENCE_ATTEMPTS or not _reference_clash(exc):
                raise
    raise AssertionError("unreachable")


REFERENCE_ATTEMPTS = 5


def _reference_clash(exc: IntegrityError) -> bool:
    return _constraint_hit(exc, "uq_booking_reference", "booking.reference")


def _constraint_hit(exc: IntegrityError, constraint_name: str, column: str) -> bool:
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if constraint is not None:
        return constraint == constraint_name
    return column in str(exc.orig)  # SQLite names the column


def _place(customer_id, offering_id, slot_id, variant_id, quantity, notes, attribution,
           now, idempotency_record_id) -> PlacedBooking:
    # A Core connection of its own, not the ORM session: nothing here is an ORM object,
    # and the session's bookkeeping around one transaction cost more CPU per booking
    # than the statements did.
    placed = None
    if slot_id is not None and db.engine.dialect.name == "postgresql":
        # The booking is one statement, atomic on its own: autocommit spares the round
        # trips of BEGIN and COMMIT. Reads around it take no locks either way.
        with _transaction(), db.engines[AUTOCOMMIT_BIND].connect() as conn:
            placed = _place_on_slot(conn, customer_id, offering_id, slot_id, quantity, notes,
                                    attribution, now, idempotency_record_id)
    if placed is None:
        with _transaction(), db.engine.begin() as conn:
            placed = _place_row_by_row(conn, customer_id, offering_id, slot_id, variant_id,
                                       quantity, notes, attribution, now,
                                       idempotency_record_id)
    booking, rows = placed
    dispatched = events.to_dispatch(rows.events)
    if dispatched:  # committed: hand them on (the sweep does, should this fail)
        events.dispatch(dispatched)
    return booking


def _place_on_slot(conn, customer_id, offering_id, slot_id, quantity, notes, attribution,
                   now, idempotency_record_id):
    """PostgreSQL, a service: one statement takes the places and writes every row, from
    the offering's terms as this process last read them. The statement re-checks each of
    those terms (and the customer's account), so a stale memory costs a retry, never a
    wrong booking: when it takes nothing, read afresh and either say why or try again.
    None for a product (a slot id given with one is ignored)."""
    terms = _remembered_terms.get(offering_id)
    if terms is not None:
        if terms.kind != SERVICE:
            return None
        placed = _try_placing(conn, terms, customer_id, slot_id, quantity, notes,
                              attribution, now, idempotency_record_id)
        if placed is not None:
            return placed
    found = _offering_and_slot(conn, offering_id, slot_id, customer_id)  # 404, 401
    terms = _remember(found)
    if found.kind != SERVICE:
        return None
    _check_slot(found, slot_id, quantity, now)  # why the statement would take nothing
    placed = _try_placing(conn, terms, customer_id, slot_id, quantity, notes, attribution,
                          now, idempotency_record_id)
    if placed is None:
        _refuse(conn, found, slot_id, quantity, now)
    return placed


def _try_placing(conn, terms, customer_id, slot_id, quantity, notes, attribution, now,
                 idempotency_record_id):
    booking = _new_booking(terms, customer_id, slot_id, None, quantity, terms.price_minor,
                           notes, None, None, now)  # the slot's times come from its row
    booking.idempotency_record_id = idempotency_record_id
    rows = _booking_rows(booking, customer_id, attribution, now)
    placed = _take_places_and_insert(conn, terms, booking, rows, now)
    if placed is None:
        return None
    booking.id, booking.starts_at, booking.ends_at = placed
    return booking, rows


def _place_row_by_row(conn, customer_id, offering_id, slot_id, variant_id, quantity, notes,
                      attribution, now, idempotency_record_id):
    """Products, and SQLite: read the offering, take the stock or places, insert each row."""
    found = _offering_and_slot(conn, offering_id, slot_id, customer_id)
    if found.kind == SERVICE:
        _check_slot(found, slot_id, quantity, now)
        booking = _new_booking(found, customer_id, slot_id, None, quantity,
                               found.price_minor, notes, found.starts_at, found.ends_at, now)
    else:  # a product (a slot id given with one is ignored)
        unit_price = _take_stock(conn, found, variant_id, quantity)
        booking = _new_booking(found, customer_id, None, variant_id, quantity, unit_price,
                               notes, None, None, now)
    booking.idempotency_record_id = idempotency_record_id
    rows = _booking_rows(booking, customer_id, attribution, now)
    booking.id = _insert_rows(conn, rows)
    if found.kind == SERVICE:
        _take_places(conn, found, slot_id, quantity, now)  # last: see the docstring
    return booking, rows


class OfferingTerms(NamedTuple):
    """What a booking takes from its offering and provider: every one of them is
    re-checked by the placing statement."""

    id: int
    kind: str
    price_minor: int
    currency: str
    provider_id: int
    pay_at_venue: bool
    tax_rate_bp: int
    tax_inclusive: bool


# Per process, by offering id: the terms the last booking of each offering was placed on.
_remembered_terms: dict[int, OfferingTerms] = {}
_remembering = threading.Lock()  # threaded servers: one writer at a time
REMEMBERED_OFFERINGS = 10_000


def _remember(found) -> OfferingTerms:
    terms = OfferingTerms(*(getattr(found, name) for name in OfferingTerms._fields))
    with _remembering:
        _remembered_terms.pop(terms.id, None)
        if len(_remembered_terms) >= REMEMBERED_OFFERINGS:
            del _remembered_terms[next(iter(_remembered_terms))]  # the longest unrefreshed
        _remembered_terms[terms.id] = terms
    return terms


# The customer's account is checked in the same read: the booking endpoint takes the
# customer from the token alone (no query of its own), so this is where an account that
# was deactivated after its token was issued is refused.
_ACCOUNT_ACTIVE = select(Account.active).where(Account.id == bindparam("customer_id"))
_CUSTOMER_ACTIVE = _ACCOUNT_ACTIVE.scalar_subquery().label("customer_active")
_OFFERING_COLUMNS = (Offering.id, Offering.kind, Offering.price_minor, Offering.currency,
                     Offering.provider_id, Offering.pay_at_venue, Provider.tax_rate_bp,
                     Provider.tax_inclusive, _CUSTOMER_ACTIVE)
# Built once, as the placing statement is: each booking runs one of them.
_BOOKABLE_OFFERING = (
    select(*_OFFERING_COLUMNS)
    .join(Provider, Provider.id == Offering.provider_id)
    .where(Offering.id == bindparam("offering_id"), Offering.active.is_(True),
           Provider.active.is_(True)))
_BOOKABLE_OFFERING_AND_SLOT = (
    select(*_OFFERING_COLUMNS, Slot.id.label("slot_id"), Slot.starts_at, Slot.ends_at,
           Slot.capacity, Slot.booked, Slot.retired_at)
    .join(Provider, Provider.id == Offering.provider_id)
    .outerjoin(Slot, (Slot.id == bindparam("slot_id")) & (Slot.offering_id == Offering.id))
    .where(Offering.id == bindparam("offering_id"), Offering.active.is_(True),
           Provider.active.is_(True)))


def _bookable_offering(offering_id: int):
    """The active offering of an active provider (no customer to check: rescheduling)."""
    row = db.session.execute(
        _BOOKABLE_OFFERING, {"offering_id": offering_id, "customer_id": None}).first()
    if row is None:
        raise NotFound("offering.not_found", f"No offering with id {offering_id}.")
    return row


def _offering_and_slot(conn, offering_id: int, slot_id: int | None, customer_id: int):
    """The active offering of an active provider, with the slot's columns (``slot_id``
    None unless the slot exists and belongs to the offering); read without a lock.
    Refuses a customer whose account is missing or inactive (401)."""
    params = {"offering_id": offering_id, "customer_id": customer_id}
    statement = _BOOKABLE_OFFERING
    if slot_id is not None:
        statement, params["slot_id"] = _BOOKABLE_OFFERING_AND_SLOT, slot_id
    row = conn.execute(statement, params).first()
    if row is None:
        # No offering, so the account was not read: check it before answering 404.
        _require_active_customer(conn.scalar(_ACCOUNT_ACTIVE, {"customer_id": customer_id}))
        raise NotFound("offering.not_found", f"No offering with id {offering_id}.")
    _require_active_customer(row.customer_active)
    return row


def _require_active_customer(active: bool | None) -> None:
    if not active:  # None: no such account
        raise Unauthorized(*UNKNOWN_USER)


def _check_slot(found, slot_id: int | None, quantity: int, now: datetime) -> None:
    """Refuse early what the conditional UPDATE would refuse later (it still decides)."""
    if slot_id is None:
        raise ValidationFailed("booking.slot_required", "Choose a slot for this service.",
                               {"slot_id": ["Required for services."]})
    _explain(found, quantity, now)


def _explain(slot, quantity: int, now: datetime) -> None:
    """Raise why ``slot`` (offering_id/slot_id, starts_at, capacity, booked, retired_at)
    cannot take ``quantity`` places; return when it can."""
    if slot is None or slot.slot_id is None:
        raise ValidationFailed("booking.unknown_slot", "No such slot for this offering.",
                               {"slot_id": ["No such slot for this offering."]})
    if slot.retired_at is not None:
        raise Conflict("booking.slot_retired", "That time is no longer offered.",
                       {"slot_id": ["No longer offered; choose another time."]})
    if slot.starts_at <= now:
        raise Conflict("booking.slot_started", "That slot has already started.")
    if slot.booked + quantity > slot.capacity:
        left = slot.capacity - slot.booked
        raise Conflict("booking.slot_full", f"Only {left} places left.",
                       {"quantity": [f"At most {max(left, 0)}."]})


def _refuse(executor, offering, slot_id: int, quantity: int, now: datetime):
    """The conditional UPDATE took nothing: say why, now that it is known. ``executor``:
    the session or connection of the booking's transaction, here and below."""
    slot = executor.execute(
        select(Slot.id.label("slot_id"), Slot.starts_at, Slot.capacity, Slot.booked,
               Slot.retired_at)
        .where(Slot.id == slot_id, Slot.offering_id == offering.id)).first()
    _explain(slot, quantity, now)
    raise Conflict("booking.busy", "That slot changed meanwhile; try again.")


SLOT_BUSY = ("booking.busy", "That slot is busy right now; try again.")


def _transaction():
    """The booking's transaction: a lock wait on a busy slot is a 409 ``booking.busy``."""
    return transaction(lock_busy=SLOT_BUSY)


def _take_places(executor, offering, slot_id: int | None, quantity: int, now: datetime):
    """Take places on a slot of ``offering``: (starts_at, ends_at); raises why not."""
    if slot_id is None:
        raise ValidationFailed("booking.slot_required", "Choose a slot for this service.",
                               {"slot_id": ["Required for services."]})
    taken = executor.execute(
        update(Slot).where(Slot.id == slot_id, Slot.offering_id == offering.id,
                           Slot.starts_at > now, Slot.retired_at.is_(None),
                           Slot.booked + quantity <= Slot.capacity)
        .values(booked=Slot.booked + quantity)
        .returning(Slot.starts_at, Slot.ends_at)).first()
    if taken is not None:
        return taken.starts_at, taken.ends_at
    slot = executor.execute(select(Slot.id.label("slot_id"), Slot.starts_at,
                                   Slot.capacity, Slot.booked, Slot.retired_at)
                            .where(Slot.id == slot_id, Slot.offering_id == offering.id)
                            ).first()
    _explain(slot, quantity, now)
    raise Conflict("booking.busy", "That slot changed meanwhile; try again.")


def _take_stock(executor, offering, variant_id: int | None, quantity: int) -> int:
    if variant_id is None:
        raise ValidationFailed("booking.variant_required", "Choose a variant of this product.",
                               {"variant_id": ["Required for products."]})
    taken = executor.execute(
        update(Variant).where(Variant.id == variant_id, Variant.offering_id == offering.id,
                              Variant.active.is_(True),
                              (Variant.stock.is_(None)) | (Variant.stock >= quantity))
        .values(stock=Variant.stock - quantity)
        .returning(Variant.price_minor)).first()
    if taken is None:
        exists = executor.scalar(select(Variant.id).where(
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


def _new_booking(offering, customer_id, slot_id, variant_id, quantity, unit_price, notes,
                 starts_at, ends_at, now) -> PlacedBooking:
    confirmed = unit_price == 0  # nothing to pay: no hold needed
    return PlacedBooking(
        id=None, reference=new_reference(), provider_id=offering.provider_id,
        customer_id=customer_id, offering_id=offering.id, slot_id=slot_id,
        variant_id=variant_id, quantity=quantity,
        status=CONFIRMED if confirmed else PENDING, unit_price_minor=unit_price,
        # A provider whose prices exclude tax charges the tax on top (receipts show it).
        total_minor=amount_due(unit_price * quantity, offering.tax_rate_bp,
                               offering.tax_inclusive), currency=offering.currency,
        pay_at_venue=offering.pay_at_venue, notes=notes or "", starts_at=starts_at,
        ends_at=ends_at, created_at=now,
        # Pay-at-venue bookings wait for staff to confirm; online payments have a hold.
        hold_expires_at=None if confirmed or offering.pay_at_venue else now + timedelta(
            minutes=current_app.config["HOLD_MINUTES"]))


@dataclass
class _BookingRows:
    """Every row a new booking writes; ``booking_id`` (and the audit's ``entity_id``) is
    filled in by the insert."""

    booking: dict
    history: dict
    attribution: dict | None
    audit: dict
    events: list[dict]


def _booking_rows(booking: PlacedBooking, customer_id: int, attribution: dict | None,
                  now: datetime) -> _BookingRows:
    values = {name: getattr(booking, name) for name in BOOKING_COLUMNS}
    values["updated_at"] = now
    if booking.idempotency_record_id is not None:  # absent otherwise: see _placing_statement
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
    return _BookingRows(
        booking=values,
        history=dict(provider_id=booking.provider_id, from_status=None,
                     to_status=booking.status, actor_id=customer_id, reason="placed",
                     created_at=now),
        attribution=extra, audit=audit_row, events=event_rows)


BOOKING_COLUMNS = ("reference", "provider_id", "customer_id", "offering_id", "slot_id",
                   "variant_id", "quantity", "status", "unit_price_minor", "total_minor",
                   "currency", "pay_at_venue", "notes", "starts_at", "ends_at",
                   "hold_expires_at", "created_at")


_BOOKING_INSERT_COLUMNS = (*BOOKING_COLUMNS, "updated_at")
_HISTORY_COLUMNS = ("provider_id", "from_status", "to_status", "actor_id", "reason",
                    "created_at")
_AUDIT_COLUMNS = ("created_at", "action", "entity", "provider_id", "actor_id", "ip",
                  "changes")
_EVENT_COLUMNS = ("id", "topic", "payload", "provider_id", "status", "attempts", "created_at",
                  "processed_at")


def _insert_rows(conn, rows: _BookingRows) -> int:
    """One insert per row (SQLite, and products): the booking's id."""
    booking_id = conn.execute(insert(Booking.__table__).values(**rows.booking)
                              .returning(Booking.__table__.c.id)).scalar_one()
    if rows.attribution is not None:
        conn.execute(insert(Attribution.__table__).values(booking_id=booking_id,
                                                          **rows.attribution))
    conn.execute(insert(BookingHistory.__table__).values(booking_id=booking_id,
                                                         **rows.history))
    conn.execute(insert(AuditLog.__table__).values(entity_id=str(booking_id),
                                                   **rows.audit))
    for row in rows.events:
        conn.execute(insert(OutboxEvent.__table__).values(**row))
    return booking_id


def _take_places_and_insert(conn, terms: OfferingTerms, booking: PlacedBooking,
                            rows: _BookingRows, now: datetime):
    """PostgreSQL, one statement: the conditional UPDATE of the slot (re-checking every
    term the booking was priced on: the offering and provider still active, the same
    price, currency, tax and payment mode; and the customer's account active), then every
    insert as a data-modifying CTE selecting from it. The booking's (id, starts_at,
    ends_at), or None (nothing written) when the UPDATE took no places.

    The statement is built once per shape (with or without attribution, one or two
    events) from bind parameters, so a request only fills in values: building it anew
    cost more CPU than running it."""
    attribution = None
    if rows.attribution is not None:
        attribution = {name: rows.attribution.get(name) for name in _ATTRIBUTION_COLUMNS}
    statement = _placing_statement(attribution is not None, len(rows.events),
                                   "idempotency_record_id" in rows.booking)
    # Bind names never equal a column name: an UPDATE takes such a parameter as a SET value.
    params = {
        "p_slot_id": booking.slot_id, "p_offering_id": terms.id, "p_now": now,
        "p_quantity": booking.quantity, "p_price_minor": terms.price_minor,
        "p_currency": terms.currency, "p_pay_at_venue": bool(terms.pay_at_venue),
        "p_provider_id": terms.provider_id, "p_tax_rate_bp": terms.tax_rate_bp,
        "p_tax_inclusive": bool(terms.tax_inclusive),
        **_prefixed("b", rows.booking), **_prefixed("h", rows.history),
        **_prefixed("a", rows.audit),
    }
    if attribution is not None:
        params.update(_prefixed("t", attribution))
    for n, row in enumerate(rows.events):
        params.update(_prefixed("e", row, n))
    return conn.execute(statement, params).first()


_ATTRIBUTION_COLUMNS = (*ATTRIBUTION_FIELDS, "created_at")
_PLACING_STATEMENTS: dict[tuple[bool, int, bool], object] = {}


# Columns whose value is the same in every row of a booking are bound once, as the
# UPDATE's parameters (the name given here), or not bound at all (None): the slot's times
# come from the slot's row, and the rows after the booking's take its provider and time
# from it. Fewer than 50 parameters and 4 KB of SQL lets psycopg cache the statement's
# conversion instead of parsing it again for every booking (a test keeps it so).
# Prefixes: b booking, h history, a audit, t attribution, e event.
_SHARED = {
    "b": {"provider_id": "p_provider_id", "offering_id": "p_offering_id",
          "slot_id": "p_slot_id", "quantity": "p_quantity", "currency": "p_currency",
          "pay_at_venue": "p_pay_at_venue", "created_at": "p_now", "updated_at": "p_now",
          "starts_at": None, "ends_at": None},
    "h": {"provider_id": None, "actor_id": "b_customer_id", "created_at": None},
    "a": {"provider_id": None, "created_at": None},
    "t": {"created_at": None},
    "e": {"provider_id": None, "created_at": None, "attempts": None},
}


def _prefixed(table: str, values: dict, n: int | str = "") -> dict:
    shared = _SHARED[table]
    return {f"{table}{n}_{name}": value for name, value in values.items()
            if name not in shared}


def _placing_statement(with_attribution: bool, event_count: int, with_key: bool = False):
    """``with_key``: the booking carries an Idempotency-Key's record id. A booking without
    one runs a statement without that column, as fast as before keys were recorded."""
    key = (with_attribution, event_count, with_key)
    if key not in _PLACING_STATEMENTS:
        _PLACING_STATEMENTS[key] = _build_placing_statement(with_attribution, event_count,
                                                            with_key)
    return _PLACING_STATEMENTS[key]


def _build_placing_statement(with_attribution: bool, event_count: int,
                             with_key: bool = False):
    slot, offering, provider = Slot.__table__, Offering.__table__, Provider.__table__
    account = Account.__table__
    quantity = bindparam("p_quantity", type_=slot.c.booked.type)
    taken = (
        update(slot).where(
            slot.c.id == bindparam("p_slot_id"),
            slot.c.offering_id == bindparam("p_offering_id"),
            slot.c.starts_at > bindparam("p_now", type_=slot.c.starts_at.type),
            slot.c.retired_at.is_(None),
            slot.c.booked + quantity <= slot.c.capacity,
            offering.c.id == slot.c.offering_id, offering.c.active.is_(True),
            offering.c.kind == literal_column(f"'{SERVICE}'"),
            offering.c.price_minor == bindparam("p_price_minor",
                                                type_=offering.c.price_minor.type),
            offering.c.currency == bindparam("p_currency", type_=offering.c.currency.type),
            offering.c.pay_at_venue == bindparam("p_pay_at_venue",
                                                 type_=offering.c.pay_at_venue.type),
            offering.c.provider_id == bindparam("p_provider_id"),
            provider.c.id == offering.c.provider_id, provider.c.active.is_(True),
            provider.c.tax_rate_bp == bindparam("p_tax_rate_bp"),
            provider.c.tax_inclusive == bindparam("p_tax_inclusive"),
            exists().where(account.c.id == bindparam("b_customer_id"),
                           account.c.active.is_(True)))
        .values(booked=slot.c.booked + quantity)
        .returning(slot.c.starts_at, slot.c.ends_at).cte("taken"))
    booking = Booking.__table__
    # The events' payloads carry the slot's start in ISO 8601, UTC, as
    # ``event_payloads.booking`` does.
    starts_at = func.jsonb_build_object(literal_column("'starts_at'"), func.concat(
        func.to_jsonb(func.timezone(literal_column("'UTC'"), booking.c.starts_at))
        .op("#>>")(literal_column("'{}'")), literal_column("'+00:00'"))).label("s")
    columns = _BOOKING_INSERT_COLUMNS + (("idempotency_record_id",) if with_key else ())
    new = _insert_from(booking, "b", columns, taken,
                       starts_at=taken.c.starts_at, ends_at=taken.c.ends_at).returning(
        booking.c.id, booking.c.provider_id, booking.c.created_at, booking.c.starts_at,
        booking.c.ends_at, starts_at).cte("placed")
    booking_id = new.c.id
    # The rows that follow the booking take its provider and time from it.
    shared = {"provider_id": new.c.provider_id, "created_at": new.c.created_at}
    dependent = [
        _insert_from(BookingHistory.__table__, "h", _HISTORY_COLUMNS, new,
                     booking_id=booking_id, **shared).cte("history"),
        _insert_from(AuditLog.__table__, "a", _AUDIT_COLUMNS, new,
                     entity_id=cast(booking_id, String), **shared).cte("audit"),
    ]
    if with_attribution:
        dependent.append(_insert_from(Attribution.__table__, "t",
                                      _ATTRIBUTION_COLUMNS, new, booking_id=booking_id,
                                      created_at=new.c.created_at).cte("attribution"))
    dependent += [
        _insert_from(OutboxEvent.__table__, "e", _EVENT_COLUMNS, new, n=n,
                     attempts=literal_column("0"), payload=cast(cast(
                         bindparam(f"e{n}_payload", type_=JSON), JSONB).op("||")(new.c.s),
                         JSON), **shared)
        .cte(f"event_{n}") for n in range(event_count)]
    return select(booking_id, new.c.starts_at, new.c.ends_at).add_cte(*dependent)


def _insert_from(table, prefix: str, columns, source, n: int | str = "", **expressions):
    """``INSERT INTO table (…) SELECT :<prefix><n>_<column>…, <expressions> FROM source``
    (shared columns bound by their shared name; ``expressions`` replace columns): one row
    per row of ``source``, none when it is empty."""
    shared = _SHARED[prefix]
    selected = [bindparam(shared.get(name) or f"{prefix}{n}_{name}", type_=table.c[name].type)
                for name in columns if name not in expressions]
    selected += list(expressions.values())
    names = [name for name in columns if name not in expressions] + list(expressions)
    # Labels mean nothing in INSERT … SELECT: one short one instead of anon_1, anon_2, …
    # keeps the statement under psycopg's 4 KB.
    select_ = select(*(column.label("c") for column in selected)).set_label_style(
        LABEL_STYLE_NONE)
    return insert(table).from_select(names, select_.select_from(source))


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
                offering = _bookable_offering(booking.offering_id)
                starts_at, ends_at = _take_places(db.session, offering, new_slot_id,
                                                  booking.quantity, now)
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


