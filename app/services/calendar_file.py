"""A booking as an iCalendar file (RFC 5545): the customer's "add to calendar" download,
and the invitation (RFC 5546, iTIP) attached to the booking's emails.

One event per booking with one UID (its reference at this site's domain), so a calendar
updates the same event whichever file it reads last: ``SEQUENCE`` grows with the booking's
history (every move and status change is a row of it). Times are in the provider's zone,
its ``VTIMEZONE`` included, so the event stays right across daylight-saving changes.
Invitations are ``METHOD:REQUEST`` while the booking holds its place and ``METHOD:CANCEL``
once it does not; the download is ``METHOD:PUBLISH``.
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from app.models import Booking
from app.models.bookings import CANCELLED, CONFIRMED, EXPIRED, REFUNDED
from app.models.types import utcnow
from app.services.agenda import zone_of

PRODUCT_ID = "-//Bookwell//Bookings//EN"
PUBLISH, REQUEST, CANCEL = "PUBLISH", "REQUEST", "CANCEL"
GONE = (CANCELLED, EXPIRED, REFUNDED)  # the booking no longer holds its place
INVITE_TYPE = "text/calendar; method={method}; charset=UTF-8"


def calendar_domain() -> str:
    """The domain of every booking's UID: the public site's host (one per installation,
    so the download and the emailed invitations name the same event)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    return urlsplit(base).hostname or "bookwell.invalid"


def booking_calendar(booking: Booking, *, manage_url: str,
                     now: datetime | None = None) -> bytes:
    """The .ics download of a booking with a time (``booking.starts_at`` must be set)."""
    return _calendar(booking, PUBLISH, manage_url=manage_url, now=now)


def invite_method(booking: Booking) -> str:
    return CANCEL if booking.status in GONE else REQUEST


def booking_invite(booking: Booking, *, manage_url: str,
                   now: datetime | None = None) -> tuple[str, str, bytes]:
    """The invitation to attach to a message about the booking: (file name, content
    type, data); ``REQUEST`` or ``CANCEL`` by the booking's state when it is sent."""
    method = invite_method(booking)
    data = _calendar(booking, method, manage_url=manage_url, now=now)
    name = "cancel.ics" if method == CANCEL else "invite.ics"
    return name, INVITE_TYPE.format(method=method), data


PROVIDER_AUDIENCE, CUSTOMER_AUDIENCE = "provider", "customer"


def feed_calendar(bookings: list[Booking], *, audience: str) -> bytes:
    """A subscription feed (``METHOD:PUBLISH``) of ``bookings``. The provider's feed names
    each booking's customer; the customer's names the provider."""
    calendar = _new_calendar(PUBLISH)
    calendar.add("x-wr-calname", "Bookwell bookings")
    for booking in bookings:
        if booking.starts_at is None:
            continue
        # The booking's last change as its stamp: an unchanged feed is the same bytes
        # (its ETag holds); no SEQUENCE, which would read each booking's history.
        event = _event(booking, now=booking.updated_at, with_sequence=False)
        if audience == PROVIDER_AUDIENCE:
            customer = booking.customer
            who = (customer.get_full_name().strip() or customer.email) if customer else ""
            event["summary"] = vText(f"{booking.offering.name} · {who} "
                                     f"(x{booking.quantity})")
        event.add("last-modified", booking.updated_at)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _new_calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar


def _event(booking: Booking, *, now: datetime | None, manage_url: str | None = None,
           with_sequence: bool = True) -> Event:
    offering, provider = booking.offering, booking.offering.provider
    zone = zone_of(provider.timezone)
    event = Event()
    event.add("uid", f"{booking.reference}@{calendar_domain()}")
    event.add("dtstamp", now or utcnow())
    if with_sequence:
        event.add("sequence", len(booking.history))
    event.add("dtstart", booking.starts_at.astimezone(zone))
    event.add("dtend", (booking.ends_at or booking.starts_at).astimezone(zone))
    event.add("summary", f"{offering.name} · {provider.name}")
    event.add("status", "CANCELLED" if booking.status in GONE else
              "CONFIRMED" if booking.status == CONFIRMED else "TENTATIVE")
    places = f"{booking.quantity} place{'s' if booking.quantity != 1 else ''}"
    event.add("description", f"Booking {booking.reference}, {places}." + (
        f"\nManage it: {manage_url}" if manage_url else ""))
    if manage_url:
        event.add("url", manage_url)
    location = offering.location
    if location is not None:
        event.add("location", vText(", ".join(part for part in (location.name,
                                                                  location.address) if part)))
        if location.lat is not None and location.lng is not None:
            event.add("geo", (location.lat, location.lng))
    return event


def _calendar(booking: Booking, method: str, *, manage_url: str,
              now: datetime | None) -> bytes:
    if booking.starts_at is None:
        raise ValueError(f"booking {booking.reference} has no time")
    provider = booking.offering.provider
    event = _event(booking, now=now, manage_url=manage_url)
    if method != PUBLISH:
        # iTIP wants the organiser and the attendee; nobody is asked to reply.
        organizer = vCalAddress(f"mailto:{provider.contact_email or _sender()}")
        organizer.params["cn"] = vText(provider.name)
        event.add("organizer", organizer)
        attendee = vCalAddress(f"mailto:{booking.customer.email}")
        attendee.params.update({"cn": vText(booking.customer.get_full_name().strip()
                                            or booking.customer.email),
                                "role": "REQ-PARTICIPANT", "partstat": "ACCEPTED",
                                "rsvp": "FALSE"})
        event.add("attendee", attendee)
    calendar = _new_calendar(method)
    calendar.add_component(event)
    calendar.add_missing_timezones()  # the provider's VTIMEZONE
    return calendar.to_ical()


def _sender() -> str:
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or "bookings@bookwell.invalid"
    return sender.rpartition("<")[2].rstrip(">").strip()
