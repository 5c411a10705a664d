"""Taking places on a slot, under the booking guards; and reading why a booking cannot.

The guards of :mod:`app.services.booking_rules` meet the database here. Their SQL
operands are the columns of the slot, its offering and provider, the customer's account,
and bind parameters for the request; :func:`read_values` reads the same columns (one
row, always: a missing offering or slot reads as NULLs) so the guards can be asked in
Python. :func:`taking_places` is the conditional UPDATE whose WHERE clause is every
guard: ``booked = booked + n`` only where the booking may be placed. Concurrent updates
of the row are serialised by the database, so the check and the change are one step.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import Interval, bindparam, exists, func, literal_column, or_, select, update

from app.errors import Conflict
from app.models import Account, Booking, Offering, Provider, Slot
from app.models.bookings import CONFIRMED, PENDING
from app.models.resources import offering_resource
from app.services import booking_rules
from app.services.booking_window import window

SLOT, OFFERING = Slot.__table__, Offering.__table__
PROVIDER, ACCOUNT, BOOKING = Provider.__table__, Account.__table__, Booking.__table__

# Bind names never equal a column name: an UPDATE takes such a parameter as a SET value.
# The customer's is the booking row's own parameter in the placing statement.
SLOT_ID, OFFERING_ID, CUSTOMER_ID = "p_slot_id", "p_offering_id", "b_customer_id"
QUANTITY, NOW = "p_quantity", "p_now"
# The offering's booking window (minimum notice, horizon) as moments, bound outside
# PostgreSQL (adding minutes to a time is not portable SQL); see ``sql_operands``.
EARLIEST, LATEST = "p_earliest_start", "p_latest_start"
# The booking being placed, once its row is written (SQLite writes it before the places
# are taken): the per-customer counts leave it out. The booking insert's own parameter.
REFERENCE = "b_reference"


def _customers_bookings(*statuses: str):
    """The customer's other bookings of the offering in ``statuses``, still to come."""
    reference = bindparam(REFERENCE, type_=BOOKING.c.reference.type)
    return (BOOKING.c.customer_id == bindparam(CUSTOMER_ID),
            BOOKING.c.offering_id == bindparam(OFFERING_ID),
            BOOKING.c.status.in_(statuses),
            or_(BOOKING.c.starts_at.is_(None), BOOKING.c.starts_at >= bindparam(NOW)),
            or_(reference.is_(None), BOOKING.c.reference != reference))


_NEEDED = offering_resource.alias("n")
# The operands that are columns: read for the Python check, compared in SQL.
COLUMN_OPERANDS = {
    "customer_active": select(ACCOUNT.c.active).where(
        ACCOUNT.c.id == bindparam(CUSTOMER_ID)).scalar_subquery(),
    "offering_active": OFFERING.c.active,
    "provider_active": PROVIDER.c.active,
    "slot_offering_id": SLOT.c.offering_id,
    "retired_at": SLOT.c.retired_at,
    "starts_at": SLOT.c.starts_at,
    "booked": SLOT.c.booked,
    "capacity": SLOT.c.capacity,
    "max_active_bookings": OFFERING.c.max_active_bookings_per_customer,
    "max_held_places": OFFERING.c.max_held_places_per_customer,
    "customer_active_bookings": select(func.count()).select_from(BOOKING).where(
        *_customers_bookings(PENDING, CONFIRMED)).scalar_subquery(),
    "customer_held_places": select(func.coalesce(func.sum(BOOKING.c.quantity), 0))
    .where(*_customers_bookings(PENDING)).scalar_subquery(),
    # Whether a booking of it takes time of resources (then it is placed row by row).
    # A short alias: the placing statement must stay under psycopg's cache limit.
    "needs_resources": exists().where(_NEEDED.c.offering_id == OFFERING.c.id),
}
# The operands the request brings: bind parameters in SQL.
_REQUEST_OPERANDS = dict(
    offering_id=bindparam(OFFERING_ID, type_=OFFERING.c.id.type),
    quantity=bindparam(QUANTITY, type_=SLOT.c.booked.type),
    now=bindparam(NOW, type_=SLOT.c.starts_at.type),
)


@lru_cache(maxsize=4)
def sql_operands(dialect_name: str) -> SimpleNamespace:
    """The guards' operands in SQL. PostgreSQL adds the offering's notice and horizon to
    ``now`` itself (so a remembered offering needs no check that they are unchanged);
    elsewhere they come bound, computed from the offering as read."""
    window_operands = dict(
        earliest_start=bindparam(EARLIEST, type_=SLOT.c.starts_at.type),
        latest_start=bindparam(LATEST, type_=SLOT.c.starts_at.type))
    if dialect_name == "postgresql":
        # Untyped: psycopg sends the moment as timestamptz anyway, and the cast's text
        # would push the placing statement out of psycopg's statement cache.
        now = bindparam(NOW)
        window_operands = dict(
            earliest_start=now + OFFERING.c.min_notice_minutes * literal_column(
                "interval '1 min'", Interval()),
            latest_start=now + OFFERING.c.booking_horizon_days * literal_column(
                "interval '1 day'", Interval()))
    return SimpleNamespace(**COLUMN_OPERANDS, **_REQUEST_OPERANDS, **window_operands)
# What a booking takes from its offering and provider besides the operands.
TERM_COLUMNS = (OFFERING.c.id, OFFERING.c.kind, OFFERING.c.price_minor, OFFERING.c.currency,
                OFFERING.c.provider_id, OFFERING.c.pay_at_venue, PROVIDER.c.tax_rate_bp,
                PROVIDER.c.tax_inclusive, OFFERING.c.min_notice_minutes,
                OFFERING.c.booking_horizon_days)

_ONE_ROW = select(literal_column("1").label("one")).subquery("one")
# Built once: every booking read runs it.
_READ_VALUES = select(
    *TERM_COLUMNS, SLOT.c.ends_at, SLOT.c.resource_from, SLOT.c.resource_until,
    PROVIDER.c.timezone.label("provider_timezone"),  # the day "any available" counts in
    *(column.label(name) for name, column in COLUMN_OPERANDS.items()),
).select_from(
    _ONE_ROW.outerjoin(OFFERING, OFFERING.c.id == bindparam(OFFERING_ID))
    .outerjoin(PROVIDER, PROVIDER.c.id == OFFERING.c.provider_id)
    .outerjoin(SLOT, SLOT.c.id == bindparam(SLOT_ID)))


def read_values(executor, *, offering_id: int, slot_id: int | None,
                customer_id: int | None, quantity: int, now: datetime,
                reference: str | None = None, **_window) -> SimpleNamespace:
    """The operands of the guards (and the offering's terms) as they are now, unlocked.
    ``executor``: the session or connection of the booking's transaction. The booking
    window comes from the offering read here (a caller's ``_window`` is not needed)."""
    row = executor.execute(_READ_VALUES, {OFFERING_ID: offering_id, SLOT_ID: slot_id,
                                          CUSTOMER_ID: customer_id, NOW: now,
                                          REFERENCE: reference}).one()
    earliest, latest = window(now, row.min_notice_minutes, row.booking_horizon_days)
    return SimpleNamespace(**row._mapping, offering_id=offering_id, slot_id=slot_id,
                           quantity=quantity, now=now, earliest_start=earliest,
                           latest_start=latest)


@lru_cache(maxsize=16)
def taking_places(guards, dialect_name: str):
    """``UPDATE slot SET booked = booked + :n … WHERE <every guard> RETURNING`` the
    slot's start and end; the slot's offering and provider are joined for their guards."""
    operands = sql_operands(dialect_name)
    return (update(SLOT)
            .where(SLOT.c.id == bindparam(SLOT_ID),
                   OFFERING.c.id == SLOT.c.offering_id,
                   PROVIDER.c.id == OFFERING.c.provider_id,
                   *booking_rules.conditions(guards, operands))
            .values(booked=SLOT.c.booked + operands.quantity)
            .returning(SLOT.c.starts_at, SLOT.c.ends_at))


def lock_customer(executor, customer_id: int) -> None:
    """Hold the customer's account row until the booking's transaction ends (PostgreSQL;
    elsewhere one writer at a time holds already)."""
    if dialect_of(executor) == "postgresql":
        executor.execute(select(ACCOUNT.c.id).where(ACCOUNT.c.id == customer_id)
                         .with_for_update())


def dialect_of(executor) -> str:
    """The dialect name of a connection or a session."""
    bind = executor.get_bind() if hasattr(executor, "get_bind") else executor
    return bind.dialect.name


def place_parameters(*, offering_id: int, slot_id: int, customer_id: int | None,
                     quantity: int, now: datetime, min_notice_minutes: int | None = None,
                     booking_horizon_days: int | None = None,
                     reference: str | None = None) -> dict:
    """The UPDATE's parameters. Outside PostgreSQL, the offering's notice and horizon as
    read for this booking; ``reference``: the booking's, when its row is written already."""
    parameters = {SLOT_ID: slot_id, OFFERING_ID: offering_id, CUSTOMER_ID: customer_id,
                  QUANTITY: quantity, NOW: now, REFERENCE: reference}
    if min_notice_minutes is not None:
        parameters[EARLIEST], parameters[LATEST] = window(now, min_notice_minutes,
                                                          booking_horizon_days)
    return parameters


def take_places(executor, guards, **request) -> tuple[datetime, datetime]:
    """Take places on a slot where ``guards`` allow it: the slot's (starts_at, ends_at);
    raises the first guard's refusal (or ``booking.busy``) when nothing was taken.
    ``request``: the keyword arguments of :func:`place_parameters`."""
    taken = executor.execute(taking_places(guards, dialect_of(executor)),
                             place_parameters(**request)).first()
    if taken is None:
        refuse(executor, guards, **request)
    return taken.starts_at, taken.ends_at


def refuse(executor, guards, **request):
    """The conditional UPDATE took nothing: read afresh and raise why. When every guard
    holds now, the slot changed in between: ``booking.busy``, try again."""
    booking_rules.check(guards, read_values(executor, **request))
    raise Conflict("booking.busy", "That slot changed meanwhile; try again.")
