"""PostgreSQL: a booking of a service is one statement, built from the booking guards.

The conditional UPDATE of :func:`app.services.booking_places.taking_places` (every guard
in its WHERE clause), narrowed to the terms the booking was priced on (the offering still
a service at the same price, currency, payment mode and provider, the provider's tax the
same), and then every insert as a data-modifying CTE selecting from it: no places taken,
no rows written.

The statement is built once per shape (with or without attribution, one or two events,
with or without an Idempotency-Key record) and per guard list, from bind parameters, so
a request only fills in values: building it anew cost more CPU than running it. Fewer
than 50 parameters and 4 KB of SQL let psycopg cache the statement's conversion instead
of parsing it again for every booking (a test keeps it so).

A booking placed row by row (it takes resources, or is a product) writes the same rows
with :func:`rows_statement`: the same inserts without the UPDATE, in one round trip.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import (
    JSON,
    LABEL_STYLE_NONE,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from app.models import Attribution, Booking, BookingHistory
from app.models.audit import AuditLog
from app.models.catalog import SERVICE
from app.models.events import OutboxEvent
from app.services import booking_places
from app.services.booking_places import OFFERING, PROVIDER
from app.services.booking_rows import (
    ATTRIBUTION_COLUMNS,
    AUDIT_COLUMNS,
    BOOKING_INSERT_COLUMNS,
    EVENT_COLUMNS,
    HISTORY_COLUMNS,
    BookingRows,
    PlacedBooking,
)

# Columns whose value is the same in every row of a booking are bound once, as the
# UPDATE's parameters (the name given here), or not bound at all (None): the slot's times
# come from the slot's row, and the rows after the booking's take its provider and time
# from it. Prefixes: b booking, h history, a audit, t attribution, e event.
_SHARED = {
    "b": {"provider_id": "p_provider_id", "offering_id": booking_places.OFFERING_ID,
          "slot_id": booking_places.SLOT_ID, "quantity": booking_places.QUANTITY,
          "currency": "p_currency", "pay_at_venue": "p_pay_at_venue",
          "created_at": booking_places.NOW, "updated_at": booking_places.NOW,
          "starts_at": None, "ends_at": None},
    "h": {"provider_id": None, "actor_id": booking_places.CUSTOMER_ID, "created_at": None},
    "a": {"provider_id": None, "created_at": None},
    "t": {"created_at": None},
    "e": {"provider_id": None, "created_at": None, "attempts": None,
          "trace_context": "e_trace"},
}


def place_with_statement(conn, guards, terms, booking: PlacedBooking, rows: BookingRows,
                         now: datetime):
    """Run the placing statement for ``booking`` on ``terms``: its (id, starts_at,
    ends_at), or None (nothing written) when the UPDATE took no places."""
    attribution = None
    if rows.attribution is not None:
        attribution = {name: rows.attribution.get(name) for name in ATTRIBUTION_COLUMNS}
    statement = placing_statement(guards, attribution is not None, len(rows.events),
                                  "idempotency_record_id" in rows.booking,
                                  "id" in rows.booking)
    params = {
        **booking_places.place_parameters(
            offering_id=terms.id, slot_id=booking.slot_id, customer_id=booking.customer_id,
            quantity=booking.quantity, now=now),
        "p_price_minor": terms.price_minor, "p_currency": terms.currency,
        "p_pay_at_venue": bool(terms.pay_at_venue), "p_provider_id": terms.provider_id,
        "p_tax_rate_bp": terms.tax_rate_bp, "p_tax_inclusive": bool(terms.tax_inclusive),
        **_prefixed("b", rows.booking), **_prefixed("h", rows.history),
        **_prefixed("a", rows.audit),
    }
    if attribution is not None:
        params.update(_prefixed("t", attribution))
    params.update(_event_parameters(rows.events))
    return conn.execute(statement, params).first()


def _event_parameters(events: list[dict]) -> dict:
    """The events' own values, and what they share: the trace they were published in."""
    params = {"e_trace": events[0]["trace_context"]} if events else {}
    for n, row in enumerate(events):
        params.update(_prefixed("e", row, n))
    return params


def _prefixed(table: str, values: dict, n: int | str = "") -> dict:
    shared = _SHARED[table]
    return {f"{table}{n}_{name}": value for name, value in values.items()
            if name not in shared}


@lru_cache(maxsize=64)
def placing_statement(guards, with_attribution: bool, event_count: int,
                      with_key: bool = False, with_id: bool = False):
    """``with_key``: the booking carries an Idempotency-Key's record id. A booking without
    one runs a statement without that column, as fast as before keys were recorded.
    ``with_id``: the booking's id was drawn before
    (:func:`app.services.resource_time.start_taking`)."""
    taken = booking_places.taking_places(guards, "postgresql").where(
        *_terms_unchanged()).cte("taken")
    booking = Booking.__table__
    # The events' payloads carry the slot's start in ISO 8601, UTC, as
    # ``event_payloads.booking`` does.
    starts_at = func.jsonb_build_object(literal_column("'starts_at'"), func.concat(
        func.to_jsonb(func.timezone(literal_column("'UTC'"), booking.c.starts_at))
        .op("#>>")(literal_column("'{}'")), literal_column("'+00:00'"))).label("s")
    columns = (BOOKING_INSERT_COLUMNS + (("idempotency_record_id",) if with_key else ())
               + (("id",) if with_id else ()))
    new = _insert_from(booking, "b", columns, taken,
                       starts_at=taken.c.starts_at, ends_at=taken.c.ends_at).returning(
        booking.c.id, booking.c.provider_id, booking.c.created_at, booking.c.starts_at,
        booking.c.ends_at, starts_at).cte("placed")
    return select(new.c.id, new.c.starts_at, new.c.ends_at).add_cte(
        *_dependent_rows(new, with_attribution, event_count, payload_starts_at=True))


@lru_cache(maxsize=16)
def rows_statement(with_attribution: bool, event_count: int, with_key: bool = False):
    """PostgreSQL, a booking placed row by row (it takes resources, or a product): its
    rows in one statement, the booking's and those that follow it, without taking places
    (the caller does); selects the booking's id. Its parameters: :func:`rows_parameters`."""
    booking = Booking.__table__
    columns = BOOKING_INSERT_COLUMNS + (("idempotency_record_id",) if with_key else ())
    new = _insert_from(booking, "b", columns, None,
                       starts_at=bindparam("b_starts_at", type_=booking.c.starts_at.type),
                       ends_at=bindparam("b_ends_at", type_=booking.c.ends_at.type)
                       ).returning(booking.c.id, booking.c.provider_id,
                                   booking.c.created_at).cte("placed")
    return select(new.c.id).add_cte(*_dependent_rows(new, with_attribution, event_count))


def rows_parameters(rows: BookingRows) -> dict:
    """The parameters of :func:`rows_statement` for ``rows``."""
    values = rows.booking
    params = {
        booking_places.OFFERING_ID: values["offering_id"],
        booking_places.SLOT_ID: values["slot_id"], booking_places.QUANTITY: values["quantity"],
        booking_places.NOW: values["created_at"], "p_provider_id": values["provider_id"],
        "p_currency": values["currency"], "p_pay_at_venue": bool(values["pay_at_venue"]),
        "b_starts_at": values["starts_at"], "b_ends_at": values["ends_at"],
        **_prefixed("b", values), **_prefixed("h", rows.history),
        **_prefixed("a", rows.audit),
    }
    if rows.attribution is not None:
        params.update(_prefixed("t", {name: rows.attribution.get(name)
                                      for name in ATTRIBUTION_COLUMNS}))
    params.update(_event_parameters(rows.events))
    return params


def insert_rows_at_once(conn, rows: BookingRows) -> int:
    """PostgreSQL: the booking's rows in one round trip; the booking's id."""
    statement = rows_statement(rows.attribution is not None, len(rows.events),
                               "idempotency_record_id" in rows.booking)
    return conn.execute(statement, rows_parameters(rows)).scalar_one()


def _dependent_rows(new, with_attribution: bool, event_count: int, *,
                    payload_starts_at: bool = False) -> list:
    """The inserts of the rows that follow the booking (``new``: its insert's CTE), one
    CTE each. ``payload_starts_at``: the events' payloads get the slot's start from the
    booking's row (the placing statement, which learns it there)."""
    booking_id = new.c.id
    # The rows that follow the booking take its provider and time from it.
    shared = {"provider_id": new.c.provider_id, "created_at": new.c.created_at}
    dependent = [
        _insert_from(BookingHistory.__table__, "h", HISTORY_COLUMNS, new,
                     booking_id=booking_id, **shared).cte("history"),
        _insert_from(AuditLog.__table__, "a", AUDIT_COLUMNS, new,
                     entity_id=cast(booking_id, String), **shared).cte("audit"),
    ]
    if with_attribution:
        dependent.append(_insert_from(Attribution.__table__, "t",
                                      ATTRIBUTION_COLUMNS, new, booking_id=booking_id,
                                      created_at=new.c.created_at).cte("attribution"))
    for n in range(event_count):
        payload = bindparam(f"e{n}_payload", type_=JSON)
        if payload_starts_at:
            payload = cast(cast(payload, JSONB).op("||")(new.c.s), JSON)
        dependent.append(_insert_from(OutboxEvent.__table__, "e", EVENT_COLUMNS, new, n=n,
                                      attempts=literal_column("0"), payload=payload,
                                      **shared).cte(f"event_{n}"))
    return dependent


def _terms_unchanged():
    """The booking was priced on terms read before (perhaps by an earlier booking): the
    UPDATE takes places only while they still hold, so stale terms cost a retry, never a
    wrong booking."""
    def same(column, name):
        return column == bindparam(name, type_=column.type)

    return (OFFERING.c.kind == literal_column(f"'{SERVICE}'"),
            same(OFFERING.c.price_minor, "p_price_minor"),
            same(OFFERING.c.currency, "p_currency"),
            same(OFFERING.c.pay_at_venue, "p_pay_at_venue"),
            OFFERING.c.provider_id == bindparam("p_provider_id"),
            PROVIDER.c.tax_rate_bp == bindparam("p_tax_rate_bp"),
            PROVIDER.c.tax_inclusive == bindparam("p_tax_inclusive"),
            # Offerings that limit each customer are placed row by row (their counts
            # would not fit this statement in psycopg's cache).
            OFFERING.c.max_active_bookings_per_customer.is_(None),
            OFFERING.c.max_held_places_per_customer.is_(None))


def _bind_type(column):
    """The type a value is bound with: none for text (psycopg sends a string untyped and
    PostgreSQL casts it to the column's type, NULL included), so that no ``::VARCHAR``
    casts push the statement over psycopg's 4 KB cache limit."""
    return None if isinstance(column.type, String) else column.type


def _insert_from(table, prefix: str, columns, source, n: int | str = "", **expressions):
    """``INSERT INTO table (…) SELECT :<prefix><n>_<column>…, <expressions> FROM source``
    (shared columns bound by their shared name; ``expressions`` replace columns): one row
    per row of ``source``, none when it is empty; one row without a ``source``."""
    shared = _SHARED[prefix]
    selected = [bindparam(shared.get(name) or f"{prefix}{n}_{name}", type_=_bind_type(table.c[name]))
                for name in columns if name not in expressions]
    selected += list(expressions.values())
    names = [name for name in columns if name not in expressions] + list(expressions)
    # Labels mean nothing in INSERT … SELECT: one short one instead of anon_1, anon_2, …
    # keeps the statement under psycopg's 4 KB.
    select_ = select(*(column.label("c") for column in selected)).set_label_style(
        LABEL_STYLE_NONE)
    if source is not None:
        select_ = select_.select_from(source)
    return insert(table).from_select(names, select_)
