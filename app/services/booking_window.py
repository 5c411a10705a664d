"""When an offering may be booked: from its minimum notice to its horizon, counted from
now. The booking guards refuse a time outside (``booking.too_soon``,
``booking.too_far_ahead``); every list of times a customer chooses from shows only the
times inside, through :func:`slot_conditions` (which also keeps to the times a needed
resource is free)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, select

from app.extensions import db
from app.models import Offering, Slot
from app.services import resource_time


def window(now: datetime, min_notice_minutes: int | None,
           booking_horizon_days: int | None) -> tuple[datetime, datetime]:
    """The earliest and the latest start a booking made at ``now`` may have."""
    return (now + timedelta(minutes=min_notice_minutes or 0),
            now + timedelta(days=booking_horizon_days or 0))


def of_offering(offering_id: int, now: datetime) -> tuple[datetime, datetime]:
    rules = db.session.execute(
        select(Offering.min_notice_minutes, Offering.booking_horizon_days)
        .where(Offering.id == offering_id)).one_or_none()
    return window(now, *(rules or (0, 0)))


def slot_conditions(offering_id: int, now: datetime, *, resource_id: int | None = None,
                    moving_booking: int | None = None, people: bool = True) -> tuple:
    """WHERE conditions: the offering's slots that start inside its booking window and,
    for an offering done by staff, rooms or equipment, have one of each kind free (the
    customer's choice, ``resource_id``, when given; a booking being moved is not in its
    own way). ``people=False`` leaves that last part out (see :func:`people_free`)."""
    earliest, latest = of_offering(offering_id, now)
    return (Slot.offering_id == offering_id, Slot.starts_at >= earliest,
            Slot.starts_at <= latest,
            *(people_free(offering_id, resource_id, moving_booking) if people else ()))


def people_free(offering_id: int, resource_id: int | None = None,
                moving_booking: int | None = None) -> list:
    """Conditions on ``Slot``: one of each kind of resource the offering needs is free
    then (none when it needs none)."""
    return resource_time.slot_conditions_for(db.session, offering_id, resource_id,
                                             moving_booking)


def slot_conditions_of(offerings, now: datetime) -> list:
    """For offerings already read: one (offering, window, resources) condition each, to
    OR."""
    conditions = []
    needs = resource_time.needs_of_offerings(db.session, [o.id for o in offerings])
    for offering in offerings:
        earliest, latest = window(now, offering.min_notice_minutes,
                                  offering.booking_horizon_days)
        free = resource_time.free_conditions(needs[offering.id]) if offering.id in needs \
            else []
        conditions.append(and_(Slot.offering_id == offering.id, Slot.starts_at >= earliest,
                               Slot.starts_at <= latest, *free))
    return conditions
