"""Placing a booking: one path per database. Capacity can never be oversold.

- PostgreSQL, a service: one statement (:mod:`app.services.booking_statement`) takes
  the places and writes every row, from the offering's terms as this process last read
  them (:mod:`app.services.booking_terms`). It is atomic on its own, so it runs on an
  autocommit connection: no round trips for BEGIN and COMMIT. A service done by staff or
  rooms takes the resources' time first, then runs it, in one transaction: a booking
  refused for want of staff (a common answer when they are busy) has then written
  nothing and ends with COMMIT, not ROLLBACK, which would make psycopg forget every
  statement it had prepared on the connection, and PostgreSQL plan them all again.
- SQLite, products and offerings that limit each customer anywhere, and on PostgreSQL
  a service whose terms this process does not remember yet (or that the statement did
  not place): row by row in one transaction, the places (or the stock) taken after the
  rows are written, so that the slot's row lock is held from the conditional UPDATE to
  the commit only (busy slots serialise on that lock); the resources' time is taken
  before the places, as above, so that both paths lock in one order. On PostgreSQL the
  rows are one statement
  (:func:`app.services.booking_statement.rows_statement`).

Both ask the same guards (:mod:`app.services.booking_rules`): in Python first, to say
why a booking cannot be placed, and in the conditional UPDATE, which decides. A lock
wait longer than ``lock_timeout`` becomes a 409 ``booking.busy``; a transaction
PostgreSQL aborts as a deadlock victim is run again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import events
from app.errors import Conflict, ValidationFailed
from app.extensions import AUTOCOMMIT_BIND, db
from app.models import Variant
from app.models.catalog import SERVICE
from app.models.types import utcnow
from app.services import booking_places, booking_rules, booking_terms, idempotency, resource_time
from app.services.booking_rows import (
    PlacedBooking,
    booking_rows,
    insert_rows,
    new_booking,
)
from app.services.booking_rules import CUSTOMER, OFFERING, SLOT
from app.services.booking_statement import insert_rows_at_once, place_with_statement
from app.services.transactions import (
    NestedUnitOfWork,
    after_commit,
    in_unit_of_work,
    retrying,
    transaction,
    violated_constraint,
)

MAX_QUANTITY = 100
REFERENCE_ATTEMPTS = 5
SLOT_BUSY = ("booking.busy", "That slot is busy right now; try again.")


@dataclass(frozen=True)
class BookingRequest:
    """What a customer asks for. ``idempotency_record_id``: the Idempotency-Key claim the
    request holds; the booking row carries it, so one key places one booking at most."""

    customer_id: int
    offering_id: int
    slot_id: int | None = None
    variant_id: int | None = None
    quantity: int = 1
    notes: str = ""
    attribution: dict | None = None
    now: datetime | None = None
    idempotency_record_id: int | None = None
    as_guest: bool = False  # guest checkout: see ``Booking.placed_as_guest``
    # A waiting list's offer: held this long whatever the price or way of paying, until
    # the customer takes it (``app.services.waitlist``).
    offer_minutes: int | None = None
    resource_id: int | None = None  # the customer's choice of person (or room); None: any

    def values(self, executor) -> object:
        """The guards' operands and the offering's terms, read now."""
        return booking_places.read_values(executor, **self.places_wanted())

    def places_wanted(self) -> dict:
        """The keyword arguments of ``booking_places.take_places``."""
        return dict(offering_id=self.offering_id, slot_id=self.slot_id,
                    customer_id=self.customer_id, quantity=self.quantity, now=self.now)


def place_booking(*, customer_id: int, offering_id: int, slot_id: int | None = None,
                  variant_id: int | None = None, quantity: int = 1, notes: str = "",
                  attribution: dict | None = None, now: datetime | None = None,
                  idempotency_record_id: int | None = None, as_guest: bool = False,
                  resource_id: int | None = None) -> PlacedBooking:
    """Create the booking and take its places in one transaction; commits.

    A second attempt with the same ``idempotency_record_id`` raises
    ``idempotency.AlreadyCommitted``. Refuses to run inside an open unit of work: its
    commit would commit the caller's half-done work too.
    """
    if in_unit_of_work():
        raise NestedUnitOfWork("a booking is placed in a transaction of its own")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationFailed("booking.bad_quantity", "Quantity must be 1 to 100.",
                               {"quantity": [f"Between 1 and {MAX_QUANTITY}."]})
    request = BookingRequest(customer_id, offering_id, slot_id, variant_id, quantity, notes,
                             attribution, now or utcnow(), idempotency_record_id, as_guest,
                             resource_id=resource_id)
    for attempt in range(1, REFERENCE_ATTEMPTS + 1):
        try:
            return retrying(_place, request, busy_code="booking.busy")
        except IntegrityError as exc:
            if _constraint_hit(exc, "uq_booking_idempotency_record_id",
                               "booking.idempotency_record_id"):
                raise idempotency.AlreadyCommitted() from exc
            # Six random characters are short enough to read out on the phone, so with
            # millions of bookings a new one now and then draws a taken reference: the
            # transaction rolled back whole; draw again.
            if attempt == REFERENCE_ATTEMPTS or not _constraint_hit(
                    exc, "uq_booking_reference", "booking.reference"):
                raise
    raise AssertionError("unreachable")


def place_in_transaction(conn, request: BookingRequest) -> PlacedBooking:
    """Place a booking row by row in the caller's open unit of work, on its connection
    (a waiting list's offer, made with the entry's change). Its events are dispatched
    once that commits."""
    booking, rows = _place_row_by_row(conn, request)
    after_commit(events.hand_over, events.to_dispatch(rows.events))
    return booking


def _constraint_hit(exc: IntegrityError, constraint_name: str, column: str) -> bool:
    constraint = violated_constraint(exc)
    if constraint is not None:
        return constraint == constraint_name
    return column in str(exc.orig)  # SQLite names the column, not the constraint


def _place(request: BookingRequest) -> PlacedBooking:
    # A Core connection of its own, not the ORM session: nothing here is an ORM object,
    # and the session's bookkeeping around one transaction cost more CPU per booking
    # than the statements did.
    placed = None
    if request.slot_id is not None and db.engine.dialect.name == "postgresql":
        terms = booking_terms.remembered(request.offering_id)
        if _resources_then_statement(terms):
            try:
                with transaction(lock_busy=SLOT_BUSY), db.engine.begin() as conn:
                    placed = _place_with_resources_then_statement(conn, terms, request)
            except _PlaceRowByRow:
                placed = None
            if isinstance(placed, resource_time.NobodyFree):
                raise placed
        else:
            with transaction(lock_busy=SLOT_BUSY), \
                    db.engines[AUTOCOMMIT_BIND].connect() as conn:
                placed = _place_with_statement(conn, request)
    if placed is None:
        with transaction(lock_busy=SLOT_BUSY), db.engine.begin() as conn:
            placed = _place_row_by_row(conn, request)
    booking, rows = placed
    handover = events.to_dispatch(rows.events)
    if handover:  # committed: hand them on (the sweep does, should this fail)
        events.hand_over(handover)
    return booking


def _place_with_statement(conn, request: BookingRequest):
    """PostgreSQL, a service: (booking, rows), or None for a product (a slot id given
    with one is ignored) or an offering that limits each customer (placed row by row). Tries the remembered terms first; when the statement takes
    nothing, reads afresh and either says why or tries once more on what it read."""
    # The statement's own list; every guard is still asked (in order) of what is read.
    guards, checks = booking_rules.statement_guards(), booking_rules.GUARDS
    terms = booking_terms.remembered(request.offering_id)
    if terms is not None:
        if terms.kind != SERVICE or terms.placed_row_by_row:
            return None
        placed = _try_statement(conn, guards, terms, request)
        if placed is not None:
            return placed
    values = request.values(conn)
    booking_rules.check(booking_rules.about(CUSTOMER, OFFERING, guards=checks), values)
    terms = booking_terms.remember(values)
    if terms.kind != SERVICE or terms.placed_row_by_row:
        return None
    _check_slot(checks, values)
    placed = _try_statement(conn, guards, terms, request)
    if placed is None:
        booking_places.refuse(conn, checks, **request.places_wanted())
    return placed


def _resources_then_statement(terms) -> bool:
    """A service remembered as needing resources, and limiting no customer."""
    return (terms is not None and terms.kind == SERVICE and bool(terms.needs_resources)
            and not terms.limits_customers)


class _PlaceRowByRow(Exception):
    """Roll back the resources' time taken: the placing statement took nothing."""


def _place_with_resources_then_statement(conn, terms, request: BookingRequest):
    """PostgreSQL, a service done by staff or rooms, in one transaction: the resources'
    time for a booking id drawn first (in the provider's turn), then the placing
    statement on the remembered terms with that id. Returns the refusal (:class:`resource_time.NobodyFree`) when nobody was
    free and nothing was written: the transaction commits its nothing and the caller
    raises it. Raises :class:`_PlaceRowByRow` (rolling back) when the statement took
    nothing: the booking is then placed row by row, which reads afresh and says why.
    Refused both ways (say a full time with nobody free), the answer is "nobody free"."""
    booking_id = resource_time.start_taking(conn, terms.provider_id)
    try:
        resource_time.assign(conn, booking_id=booking_id, provider_id=terms.provider_id,
                             offering_id=terms.id, slot_id=request.slot_id,
                             chosen=request.resource_id, zone_name=terms.provider_timezone,
                             turn_taken=True)
    except resource_time.NobodyFree as refusal:
        if refusal.took_any:
            raise
        return refusal
    guards = booking_rules.statement_guards(resources_after=True)
    placed = _try_statement(conn, guards, terms, request, booking_id=booking_id)
    if placed is None:
        raise _PlaceRowByRow()
    return placed


def _try_statement(conn, guards, terms, request: BookingRequest, *,
                   booking_id: int | None = None):
    booking = new_booking(request, terms, unit_price=terms.price_minor)
    rows = booking_rows(booking, request.attribution)
    if booking_id is not None:
        rows.booking["id"] = booking_id
    placed = place_with_statement(conn, guards, terms, booking, rows, request.now)
    if placed is None:
        return None
    booking.id, booking.starts_at, booking.ends_at = placed
    return booking, rows


def _place_row_by_row(conn, request: BookingRequest):
    """Products, and SQLite: read the offering, check, insert each row, take the
    resources' time, then the stock or the places (last: see the module's docstring)."""
    guards = booking_rules.GUARDS
    values = request.values(conn)
    if values.max_active_bookings is not None or values.max_held_places is not None:
        # One customer's bookings of a limited offering, one at a time: each counts the
        # others' committed rows (SQLite has one writer at a time already).
        booking_places.lock_customer(conn, request.customer_id)
        values = request.values(conn)
    booking_rules.check(booking_rules.about(CUSTOMER, OFFERING, guards=guards), values)
    # Fresh terms for the next booking: an offering whose limits were lifted since goes
    # back to the single statement on PostgreSQL.
    booking_terms.remember(values)
    if values.kind == SERVICE:
        if request.slot_id is None:
            raise ValidationFailed("booking.slot_required", "Choose a slot for this service.",
                                   {"slot_id": ["Required for services."]})
        _check_slot(guards, values)
        booking = new_booking(request, values, unit_price=values.price_minor,
                              starts_at=values.starts_at, ends_at=values.ends_at)
    else:  # a product (a slot id given with one is ignored)
        unit_price = _take_stock(conn, values, request.variant_id, request.quantity)
        booking = new_booking(request, values, unit_price=unit_price,
                              variant_id=request.variant_id)
    rows = booking_rows(booking, request.attribution)
    if conn.dialect.name == "postgresql":
        booking.id = insert_rows_at_once(conn, rows)
    else:
        booking.id = insert_rows(conn, rows)
    if values.kind == SERVICE:
        if values.needs_resources:  # before the places: one lock order with the above
            resource_time.assign(conn, booking_id=booking.id, provider_id=values.provider_id,
                                 offering_id=values.id, slot_id=request.slot_id,
                                 starts_at=values.starts_at, chosen=request.resource_id,
                                 zone_name=values.provider_timezone)
        booking_places.take_places(conn, guards, **request.places_wanted(),
                                   min_notice_minutes=values.min_notice_minutes,
                                   booking_horizon_days=values.booking_horizon_days,
                                   reference=booking.reference)
    elif request.resource_id is not None:
        raise ValidationFailed("resource.not_of_offering", "Products need nobody.",
                               {"resource_id": ["Only for services."]})
    return booking, rows


def _check_slot(guards, values) -> None:
    """Refuse early what the conditional UPDATE would refuse later (it still decides)."""
    booking_rules.check(booking_rules.about(SLOT, guards=guards), values)


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
