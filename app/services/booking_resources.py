"""Read-only: who a booking is with, and whom a customer may choose for an offering.

A booking of an offering done by staff holds one staff member's time (a
``ResourceBooking`` row, see :mod:`app.services.resource_time`); the storefront names them
on the review and booking pages and lets the customer choose one before picking a time.
Rooms and equipment are never chosen by customers, nor named to them; the console names
every resource a booking holds (staff first, then rooms and equipment).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Resource, ResourceBooking
from app.models.resources import RESOURCE_KINDS, STAFF
from app.services import resources


@dataclass(frozen=True)
class Doer:
    """A resource a booking holds time of, for staff: "Ada", a staff member."""

    resource_id: int
    name: str
    kind: str
    kind_label: str  # "Staff member", "Room", "Equipment"


def staff_of_booking(booking_id: int) -> list[str]:
    """The names of the staff the booking holds time of, by name (none when the offering
    needs no staff, or once the booking gave its time back)."""
    return list(db.session.scalars(
        select(Resource.name).join(ResourceBooking, ResourceBooking.resource_id == Resource.id)
        .where(ResourceBooking.booking_id == booking_id, Resource.kind == STAFF)
        .distinct().order_by(Resource.name)))


def staff_of_offering(offering_id: int) -> list[tuple[int, str]]:
    """The active staff an offering can be done by, (id, name) by name: the customer's
    choice of person."""
    return sorted(((r.id, r.name) for r in resources.resources_of_offering(offering_id)
                   if r.kind == STAFF), key=lambda person: (person[1].casefold(), person[0]))


def resources_of_booking(booking_id: int) -> list[Doer]:
    """Every resource the booking holds time of, staff first, then rooms and equipment,
    each kind by name (none once the booking gave its time back). For staff screens: the
    caller has checked that the booking is theirs."""
    rows = db.session.execute(
        select(Resource.id, Resource.name, Resource.kind)
        .join(ResourceBooking, ResourceBooking.resource_id == Resource.id)
        .where(ResourceBooking.booking_id == booking_id).distinct()).all()
    return [Doer(row.id, row.name, row.kind, resources.kind_label(row.kind))
            for row in sorted(rows, key=lambda row: _order(row.kind, row.name, row.id))]


def resources_of_bookings(booking_ids) -> dict[int, tuple[str, ...]]:
    """The names of the resources each booking holds time of (one query for a page of
    bookings), in the order of :func:`resources_of_booking`; bookings holding none are
    left out."""
    ids = list(booking_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ResourceBooking.booking_id, Resource.id, Resource.name, Resource.kind)
        .join(Resource, Resource.id == ResourceBooking.resource_id)
        .where(ResourceBooking.booking_id.in_(ids)).distinct()).all()
    found: dict[int, list] = defaultdict(list)
    for row in sorted(rows, key=lambda row: _order(row.kind, row.name, row.id)):
        found[row.booking_id].append(row.name)
    return {booking_id: tuple(names) for booking_id, names in found.items()}


def _order(kind: str, name: str, resource_id: int) -> tuple:
    rank = RESOURCE_KINDS.index(kind) if kind in RESOURCE_KINDS else len(RESOURCE_KINDS)
    return rank, name.casefold(), resource_id


__all__ = ["Doer", "resources_of_booking", "resources_of_bookings", "staff_of_booking",
           "staff_of_offering"]
