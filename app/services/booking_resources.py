"""Read-only: who a booking is with, and whom a customer may choose for an offering.

A booking of an offering done by staff holds one staff member's time (a
``ResourceBooking`` row, see :mod:`app.services.resource_time`); the storefront names them
on the review and booking pages and lets the customer choose one before picking a time.
Rooms and equipment are never chosen by customers, nor named to them.
"""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Resource, ResourceBooking
from app.models.resources import STAFF
from app.services import resources


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


__all__ = ["staff_of_booking", "staff_of_offering"]
