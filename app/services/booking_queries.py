"""Reading bookings: a customer's own, and one by reference.

The lists are what the account's holder sees through the account
(``account_bookings.shown_to``: bookings placed as a guest wait for a verified address)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import NotFound
from app.extensions import db
from app.models import Booking
from app.models.bookings import CONFIRMED, PENDING
from app.services.account_bookings import shown_to


def list_customer_bookings(*, customer_id: int, status: str | None = None,
                           start: datetime | None = None, end: datetime | None = None,
                           page: int = 1, page_size: int = 20) -> tuple[list[Booking], int]:
    query = select(Booking).where(Booking.customer_id == customer_id, shown_to(customer_id))
    if status:
        query = query.where(Booking.status == status)
    if start:
        query = query.where(Booking.starts_at >= start)
    if end:
        query = query.where(Booking.starts_at < end)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.options(selectinload(Booking.attribution_row))
        .order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(page_size).offset((page - 1) * page_size))
    return list(rows), total


# Bookings still ahead of the customer: pending or confirmed, and not yet over.
UPCOMING_STATUSES = (PENDING, CONFIRMED)


def list_customer_bookings_by_time(*, customer_id: int, upcoming: bool, now: datetime,
                                   page: int = 1, page_size: int = 20
                                   ) -> tuple[list[Booking], int]:
    """The customer's upcoming bookings, soonest first, or the others (past, cancelled,
    expired), latest first. A product bought without a time is upcoming while pending."""
    ahead = Booking.status.in_(UPCOMING_STATUSES) & (
        func.coalesce(Booking.ends_at, Booking.starts_at).is_(None)
        | (func.coalesce(Booking.ends_at, Booking.starts_at) > now))
    query = select(Booking).where(Booking.customer_id == customer_id, shown_to(customer_id),
                                  ahead if upcoming else ~ahead)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    when = func.coalesce(Booking.starts_at, Booking.created_at)
    order = (when.asc(), Booking.id.asc()) if upcoming else (when.desc(), Booking.id.desc())
    rows = db.session.scalars(
        query.options(selectinload(Booking.offering), selectinload(Booking.variant))
        .order_by(*order).limit(page_size).offset((page - 1) * page_size))
    return list(rows), total


def booking_placed_under(idempotency_record_id: int) -> Booking | None:
    """The booking placed by the request holding this Idempotency-Key record, if any."""
    return db.session.scalar(select(Booking).where(
        Booking.idempotency_record_id == idempotency_record_id)
        .options(selectinload(Booking.attribution_row)))


def get_customer_booking(reference: str, *, customer_id: int) -> Booking:
    booking = db.session.scalar(select(Booking).where(
        Booking.reference == reference, Booking.customer_id == customer_id)
        .options(selectinload(Booking.history), selectinload(Booking.attribution_row)))
    if booking is None:
        raise NotFound("booking.not_found", f"No booking {reference}.")
    return booking
