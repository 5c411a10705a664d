"""Platform-wide figures per UTC day from the daily totals the database keeps.

The triggers of migration ``20261205_daily_figures`` append a delta row for every change to
a booking or slot; :func:`fold_deltas` (a periodic job) adds them into the totals. Readers
add totals and pending deltas in one statement, so what they see is exact whether or not
the deltas were folded — folding only keeps the reads short.

Used for every provider at once (the admin dashboard), whose days are UTC days: reading a
period is reading about a hundred rows a day instead of every booking and slot in it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, delete, func, or_, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import BookingDayDelta, BookingDayTotal, SlotDayDelta, SlotDayTotal
from app.services.transactions import unit_of_work

BOOKING_KEYS = ("day", "provider_id", "status", "currency")
BOOKING_AMOUNTS = ("bookings", "total_minor")
SLOT_KEYS = ("day", "provider_id")
SLOT_AMOUNTS = ("booked", "capacity")


@dataclass(frozen=True)
class _Kept:
    total: type
    delta: type
    keys: tuple[str, ...]
    amounts: tuple[str, ...]

    def rows(self, first_day: date, last_day: date, provider_ids=None):
        """Totals and pending deltas of the period, as one subquery."""
        def part(model):
            query = select(*(getattr(model, name) for name in self.keys + self.amounts)).where(
                model.day >= first_day, model.day <= last_day)
            if provider_ids is not None:
                query = query.where(model.provider_id.in_(provider_ids))
            return query
        return union_all(part(self.total), part(self.delta)).subquery()


BOOKINGS = _Kept(BookingDayTotal, BookingDayDelta, BOOKING_KEYS, BOOKING_AMOUNTS)
SLOTS = _Kept(SlotDayTotal, SlotDayDelta, SLOT_KEYS, SLOT_AMOUNTS)


def bookings_by(group: tuple[str, ...], first_day: date, last_day: date, *,
                statuses, provider_ids=None):
    """Bookings starting from ``first_day`` to ``last_day`` (UTC days, both included) with
    one of ``statuses``: count and total per ``group`` of booking keys."""
    rows = BOOKINGS.rows(first_day, last_day, provider_ids)
    keys = [rows.c[name] for name in group]
    return db.session.execute(
        select(*keys, func.sum(rows.c.bookings).label("bookings"),
               func.sum(rows.c.total_minor).label("total"))
        .where(rows.c.status.in_(statuses))
        .group_by(*keys)
        .having(or_(func.sum(rows.c.bookings) != 0, func.sum(rows.c.total_minor) != 0))).all()


def places_by(group: tuple[str, ...], first_day: date, last_day: date, *,
              provider_ids=None):
    """Places booked and offered on the period's slots per ``group`` (``()`` for one row)."""
    rows = SLOTS.rows(first_day, last_day, provider_ids)
    keys = [rows.c[name] for name in group]
    query = select(*keys, func.coalesce(func.sum(rows.c.booked), 0).label("booked"),
                   func.coalesce(func.sum(rows.c.capacity), 0).label("capacity"))
    if keys:
        query = query.group_by(*keys).having(func.sum(rows.c.capacity) > 0)
    return db.session.execute(query).all()


def fold_deltas() -> int:
    """Add the pending deltas into the totals; returns how many delta rows were folded.

    Each table is folded in its own transaction that deletes the deltas it adds (DELETE …
    RETURNING), so two folds at once never add a delta twice, and a crash folds nothing.
    """
    return _fold(BOOKINGS) + _fold(SLOTS)


@unit_of_work()
def _fold(kept: _Kept) -> int:
    table = kept.delta.__table__
    moved = db.session.execute(delete(table).returning(
        *(table.c[name] for name in kept.keys + kept.amounts))).all()
    if not moved:
        return 0
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(kept.amounts))
    width = len(kept.keys)
    for row in moved:
        amounts = sums[tuple(row[:width])]
        for index, value in enumerate(row[width:]):
            amounts[index] += int(value)
    _add_to_totals(kept, sums)
    return len(moved)


def _add_to_totals(kept: _Kept, sums: dict[tuple, list[int]]) -> None:
    table = kept.total.__table__
    insert = postgres_insert if db.session.get_bind().dialect.name == "postgresql" \
        else sqlite_insert
    values = [dict(zip(kept.keys + kept.amounts, key + tuple(amounts)))
              for key, amounts in sorted(sums.items())]
    for start in range(0, len(values), 1000):
        statement = insert(table).values(values[start:start + 1000])
        db.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in kept.keys],
            set_={name: table.c[name] + statement.excluded[name] for name in kept.amounts}))
    # A key whose amounts came back to zero (a provider deleted, a booking moved away)
    # is not worth a row.
    emptied = [key for key, amounts in sums.items() if any(amounts)]
    key_columns = tuple_(*(table.c[name] for name in kept.keys))
    for start in range(0, len(emptied), 500):
        db.session.execute(delete(table).where(
            key_columns.in_(emptied[start:start + 500]),
            and_(*(table.c[name] == 0 for name in kept.amounts))))


__all__ = ["bookings_by", "fold_deltas", "places_by"]
