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

from sqlalchemy import bindparam, literal_column, select, update

from app.errors import Conflict
from app.models import Account, Offering, Provider, Slot
from app.services import booking_rules

SLOT, OFFERING = Slot.__table__, Offering.__table__
PROVIDER, ACCOUNT = Provider.__table__, Account.__table__

# Bind names never equal a column name: an UPDATE takes such a parameter as a SET value.
# The customer's is the booking row's own parameter in the placing statement.
SLOT_ID, OFFERING_ID, CUSTOMER_ID = "p_slot_id", "p_offering_id", "b_customer_id"
QUANTITY, NOW = "p_quantity", "p_now"

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
}
# The operands the request brings: bind parameters in SQL.
SQL_OPERANDS = SimpleNamespace(
    **COLUMN_OPERANDS,
    offering_id=bindparam(OFFERING_ID, type_=OFFERING.c.id.type),
    quantity=bindparam(QUANTITY, type_=SLOT.c.booked.type),
    now=bindparam(NOW, type_=SLOT.c.starts_at.type),
)
# What a booking takes from its offering and provider besides the operands.
TERM_COLUMNS = (OFFERING.c.id, OFFERING.c.kind, OFFERING.c.price_minor, OFFERING.c.currency,
                OFFERING.c.provider_id, OFFERING.c.pay_at_venue, PROVIDER.c.tax_rate_bp,
                PROVIDER.c.tax_inclusive)

_ONE_ROW = select(literal_column("1").label("one")).subquery("one")
# Built once: every booking read runs it.
_READ_VALUES = select(
    *TERM_COLUMNS, SLOT.c.ends_at,
    *(column.label(name) for name, column in COLUMN_OPERANDS.items()),
).select_from(
    _ONE_ROW.outerjoin(OFFERING, OFFERING.c.id == bindparam(OFFERING_ID))
    .outerjoin(PROVIDER, PROVIDER.c.id == OFFERING.c.provider_id)
    .outerjoin(SLOT, SLOT.c.id == bindparam(SLOT_ID)))


def read_values(executor, *, offering_id: int, slot_id: int | None,
                customer_id: int | None, quantity: int, now: datetime) -> SimpleNamespace:
    """The operands of the guards (and the offering's terms) as they are now, unlocked.
    ``executor``: the session or connection of the booking's transaction."""
    row = executor.execute(_READ_VALUES, {OFFERING_ID: offering_id, SLOT_ID: slot_id,
                                          CUSTOMER_ID: customer_id}).one()
    return SimpleNamespace(**row._mapping, offering_id=offering_id, slot_id=slot_id,
                           quantity=quantity, now=now)


@lru_cache(maxsize=16)
def taking_places(guards):
    """``UPDATE slot SET booked = booked + :n … WHERE <every guard> RETURNING`` the
    slot's start and end; the slot's offering and provider are joined for their guards."""
    return (update(SLOT)
            .where(SLOT.c.id == bindparam(SLOT_ID),
                   OFFERING.c.id == SLOT.c.offering_id,
                   PROVIDER.c.id == OFFERING.c.provider_id,
                   *booking_rules.conditions(guards, SQL_OPERANDS))
            .values(booked=SLOT.c.booked + SQL_OPERANDS.quantity)
            .returning(SLOT.c.starts_at, SLOT.c.ends_at))


def place_parameters(*, offering_id: int, slot_id: int, customer_id: int | None,
                     quantity: int, now: datetime) -> dict:
    return {SLOT_ID: slot_id, OFFERING_ID: offering_id, CUSTOMER_ID: customer_id,
            QUANTITY: quantity, NOW: now}


def take_places(executor, guards, **request) -> tuple[datetime, datetime]:
    """Take places on a slot where ``guards`` allow it: the slot's (starts_at, ends_at);
    raises the first guard's refusal (or ``booking.busy``) when nothing was taken.
    ``request``: the keyword arguments of :func:`place_parameters`."""
    taken = executor.execute(taking_places(guards), place_parameters(**request)).first()
    if taken is None:
        refuse(executor, guards, **request)
    return taken.starts_at, taken.ends_at


def refuse(executor, guards, **request):
    """The conditional UPDATE took nothing: read afresh and raise why. When every guard
    holds now, the slot changed in between: ``booking.busy``, try again."""
    booking_rules.check(guards, read_values(executor, **request))
    raise Conflict("booking.busy", "That slot changed meanwhile; try again.")
