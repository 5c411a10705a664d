"""Reading a provider's bookings for its own systems (the provider API): filtered,
paginated lists and one booking by reference, each in the public shape of a booking
(:func:`app.services.public_facts.booking_facts`, the webhooks' ``data``) with its
``updated_at`` and a summary of its payment.

A page is read in a fixed number of statements whatever its size: the count, the rows,
then the page's offerings, variants, customers, provider and payments (one ``IN`` each).
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Account, Booking, Payment, Provider
from app.services.public_facts import booking_facts, iso, payment_summary
from app.services.scopes import Scope, require_scope
from app.services.tenancy import scoped
from app.services.wall_clock import NoSuchLocalTime, utc_from_wall_clock

# Orders a list may be read in; the first is the default (newest first).
SORTS = ("-created_at", "created_at", "starts_at", "-starts_at")

REFERENCE_LENGTH = Booking.reference.type.length

# A date, a wall-clock time without an offset (both in the provider's zone), or an
# aware moment.
When = date | datetime


def list_provider_bookings(*, scope: Scope, page: int, page_size: int,
                           statuses: list[str] | None = None,
                           starts_from: When | None = None,
                           starts_before: When | None = None,
                           offering_id: int | None = None,
                           created_since: When | None = None,
                           customer_email: str | None = None,
                           sort: str = SORTS[0]) -> tuple[list[dict], int]:
    """The scope's provider's bookings matching every filter given, as public facts, and
    how many match. ``statuses``: any of them; ``starts_from`` inclusive,
    ``starts_before`` exclusive; ``created_since`` inclusive; ``customer_email`` whole
    and case-insensitive."""
    require_scope(scope)
    zone = _zone_of(scope)
    query = scoped(select(Booking), Booking, scope=scope)
    if statuses:
        query = query.where(Booking.status.in_(statuses))
    if starts_from is not None:
        query = query.where(Booking.starts_at >= _moment(starts_from, zone, "starts_from"))
    if starts_before is not None:
        query = query.where(Booking.starts_at < _moment(starts_before, zone, "starts_before"))
    if offering_id is not None:
        query = query.where(Booking.offering_id == offering_id)
    if created_since is not None:
        query = query.where(Booking.created_at >= _moment(created_since, zone,
                                                          "created_since"))
    if customer_email:
        query = query.where(Booking.customer_id.in_(select(Account.id).where(
            func.lower(Account.email) == customer_email.strip().lower())))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        _with_related(query).order_by(*_order(sort))
        .limit(page_size).offset((page - 1) * page_size)).all()
    return _facts(rows), total


def get_provider_booking(reference: str, *, scope: Scope) -> dict:
    """One of the scope's provider's bookings; another provider's is as missing."""
    require_scope(scope)
    # A value no reference can be (too long, a NUL the database refuses) is as missing.
    storable = len(reference) <= REFERENCE_LENGTH and "\x00" not in reference
    booking = db.session.scalar(_with_related(
        scoped(select(Booking), Booking, scope=scope).where(Booking.reference == reference))
    ) if storable else None
    if booking is None:
        raise NotFound("booking.not_found", f"No booking {reference}.")
    return _facts([booking])[0]


def _with_related(query):
    return query.options(selectinload(Booking.offering), selectinload(Booking.variant),
                         selectinload(Booking.customer), selectinload(Booking.provider))


def _order(sort: str) -> tuple:
    if sort not in SORTS:
        raise ValidationFailed("validation_error", f"Unknown order {sort!r}.",
                               {"sort": [f"Must be one of: {', '.join(SORTS)}."]})
    column = Booking.starts_at if sort.endswith("starts_at") else Booking.created_at
    if sort.startswith("-"):
        return column.desc().nulls_last(), Booking.id.desc()
    return column.asc().nulls_last(), Booking.id.asc()


def _facts(bookings: list[Booking]) -> list[dict]:
    payments = {payment.booking_id: payment for payment in db.session.scalars(
        select(Payment).where(Payment.booking_id.in_([b.id for b in bookings])))} \
        if bookings else {}
    return [{**booking_facts(booking), "updated_at": iso(booking.updated_at),
             "payment": payment_summary(payments.get(booking.id))} for booking in bookings]


def _zone_of(scope: Scope) -> str:
    return db.session.get(Provider, scope.provider_id).timezone \
        if scope.provider_id is not None else "UTC"


def _moment(value: When, zone: str, field: str) -> datetime:
    """A filter's bound as a UTC moment: a date is its midnight, a time without an offset
    a wall-clock time, both in the provider's zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    local = value if isinstance(value, datetime) else datetime.combine(value, time())
    try:
        return utc_from_wall_clock(local, zone)
    except NoSuchLocalTime as exc:
        raise ValidationFailed("validation_error", str(exc), {field: [str(exc)]}) from exc
