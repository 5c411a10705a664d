"""Calendar invitations on the customer's emails, read back with the icalendar library
from mail received by a local SMTP server: the confirmation carries METHOD:REQUEST in the
provider's zone with its VTIMEZONE; a move sends the same UID with a higher SEQUENCE and
the new time; a cancellation sends METHOD:CANCEL; the shop's download names the same
event."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from icalendar import Calendar
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, Offering
from app.services import bookings
from tests.notifications.conftest import confirmed_booking, customer, run_jobs


def _invites(smtp, address):
    """(subject, content type, parsed calendar) of every calendar attachment sent."""
    found = []
    for message in smtp.to(address):
        for part in message.iter_attachments():
            if part.get_content_type() == "text/calendar":
                found.append((message["Subject"], part["Content-Type"],
                              Calendar.from_ical(part.get_payload(decode=True))))
    return found


def _event(calendar):
    (event,) = calendar.walk("VEVENT")
    return event


def test_confirmation_move_and_cancellation_update_one_calendar_event(app, build, smtp):
    customer_id = customer(build, email="ada@example.com", sms=False)
    start = (datetime.now(timezone.utc) + timedelta(days=5)).replace(
        hour=8, minute=0, second=0, microsecond=0)
    reference = confirmed_booking(app, build, customer_id, starts_at=start)

    ((subject, content_type, request),) = _invites(smtp, "ada@example.com")
    assert subject.startswith("Booking confirmed")
    assert content_type.params["method"] == "REQUEST"
    assert request["method"] == "REQUEST"
    event = _event(request)
    uid, first_sequence = str(event["uid"]), int(event["sequence"])
    assert uid.startswith(reference + "@")
    assert event["dtstart"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("dtstart") == start
    assert [str(tz["tzid"]) for tz in request.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert "ada@example.com" in str(event["attendee"])
    assert str(event["status"]) == "CONFIRMED"

    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    later = build.slot(booking.offering_id, start + timedelta(days=1, hours=2), capacity=5)
    bookings.reschedule_booking(reference, new_slot_id=later,
                                actor=bookings.Actor(None, "test"),
                                scope=bookings.Scope.all_providers())
    run_jobs(app)
    moved = [entry for entry in _invites(smtp, "ada@example.com")
             if entry[0].startswith("Booking moved")]
    ((_, _, update),) = moved
    event = _event(update)
    assert update["method"] == "REQUEST" and str(event["uid"]) == uid
    assert int(event["sequence"]) > first_sequence
    assert event.decoded("dtstart") == start + timedelta(days=1, hours=2)
    moved_sequence = int(event["sequence"])

    bookings.cancel_booking(reference, actor=bookings.Actor(None, "test"),
                            scope=bookings.Scope.all_providers())
    run_jobs(app)
    cancelled = [entry for entry in _invites(smtp, "ada@example.com")
                 if "cancelled" in entry[0].lower()]
    ((_, content_type, cancel),) = cancelled
    event = _event(cancel)
    assert content_type.params["method"] == "CANCEL" and cancel["method"] == "CANCEL"
    assert str(event["uid"]) == uid and str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) > moved_sequence


def test_the_shops_download_is_the_same_event(app, build, smtp, client):
    customer_id = customer(build, email="bo@example.com", sms=False)
    reference = confirmed_booking(app, build, customer_id)
    ((_, _, request),) = _invites(smtp, "bo@example.com")
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    offering = db.session.get(Offering, booking.offering_id)
    from app.services import calendar_file

    with app.test_request_context():
        download = Calendar.from_ical(calendar_file.booking_calendar(
            booking, manage_url="https://shop.example/b/x"))
    assert offering.name in str(_event(download)["summary"])
    assert str(_event(download)["uid"]) == str(_event(request)["uid"])
    assert download["method"] == "PUBLISH"
