"""Bookings and slot places added up per UTC day and provider, for platform-wide figures.

Derived data, kept by database triggers (migration ``20261205_daily_figures``): every
insert, update or delete of a booking or slot appends a *delta* row in the same
transaction, whichever code path made the change (ORM, bulk UPDATE, a migration). A
periodic job folds the deltas into the *totals* (``app/services/daily_figures.py``);
readers add totals and the deltas not folded yet, so the figures are exact at any moment.
Appending instead of updating a counter keeps concurrent bookings of one provider from
waiting on one row. No foreign keys: a deleted provider's rows net to zero and are
removed when folded.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

# SQLite only numbers an INTEGER PRIMARY KEY by itself.
DELTA_ID = BigInteger().with_variant(Integer, "sqlite")


class _BookingAmounts:
    bookings: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)


class BookingDayTotal(_BookingAmounts, db.Model):
    """Bookings starting on ``day`` (UTC) per provider, status and currency."""

    __tablename__ = "booking_day_total"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    provider_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)


class BookingDayDelta(_BookingAmounts, db.Model):
    """A change to :class:`BookingDayTotal` not folded in yet."""

    __tablename__ = "booking_day_delta"

    id: Mapped[int] = mapped_column(DELTA_ID, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    provider_id: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)


class _SlotAmounts:
    booked: Mapped[int] = mapped_column(BigInteger, nullable=False)
    capacity: Mapped[int] = mapped_column(BigInteger, nullable=False)


class SlotDayTotal(_SlotAmounts, db.Model):
    """Places booked and offered on slots starting on ``day`` (UTC) per provider. Offered
    capacity leaves out retired slots without bookings, as the dashboards do."""

    __tablename__ = "slot_day_total"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    provider_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class SlotDayDelta(_SlotAmounts, db.Model):
    """A change to :class:`SlotDayTotal` not folded in yet."""

    __tablename__ = "slot_day_delta"

    id: Mapped[int] = mapped_column(DELTA_ID, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    provider_id: Mapped[int] = mapped_column(Integer, nullable=False)
