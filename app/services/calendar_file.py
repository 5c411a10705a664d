"""A booking as an iCalendar file (RFC 5545), for the customer's own calendar.

One event per booking, identified by its reference, so importing a newer file after a
reschedule updates the event instead of adding a second one (SEQUENCE grows with the
booking's history). Times are written in UTC; calendars show them in the reader's zone.
"""
from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event, vText

from app.models import Booking
from app.models.bookings import CONFIRMED
from app.models.types import utcnow

PRODUCT_ID = "-//Bookwell//Bookings//EN"


def booking_calendar(booking: Booking, *, manage_url: str, domain: str,
                     now: datetime | None = None) -> bytes:
    """The .ics of a booking with a time (``booking.starts_at`` must be set)."""
    if booking.starts_at is None:
        raise ValueError(f"booking {booking.reference} has no time")
    offering, provider = booking.offering, booking.offering.provider
    event = Event()
    event.add("uid", f"{booking.reference}@{domain}")
    event.add("dtstamp", now or utcnow())
    event.add("sequence", len(booking.history))
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at or booking.starts_at)
    event.add("summary", f"{offering.name} · {provider.name}")
    event.add("status", "CONFIRMED" if booking.status == CONFIRMED else "TENTATIVE")
    places = f"{booking.quantity} place{'s' if booking.quantity != 1 else ''}"
    event.add("description", f"Booking {booking.reference}, {places}.\n"
                             f"Manage it: {manage_url}")
    event.add("url", manage_url)
    location = offering.location
    if location is not None:
        event.add("location", vText(", ".join(part for part in (location.name,
                                                                  location.address) if part)))
        if location.lat is not None and location.lng is not None:
            event.add("geo", (location.lat, location.lng))
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    return calendar.to_ical()
