"""The message of a waiting list's offer, read from the local SMTP server and the local
Twilio stand-in: in the customer's language, with the time and the held-until time in
the provider's zone, and the link that opens the offered booking."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, WaitlistEntry
from app.services import bookings, waitlist
from app.services.scopes import Actor, Scope
from tests.notifications.conftest import MOBILE, customer, run_jobs


@pytest.mark.parametrize("locale, subject, held", [
    ("en", "A place came free: Deep tissue massage on", "The place is yours if you take it by"),
    ("de", "Ein Platz ist frei geworden: Deep tissue massage am",
     "Der Platz gehört Ihnen, wenn Sie ihn bis"),
])
def test_the_next_in_line_hears_of_the_place_held_for_them(app, build, smtp, twilio, locale,
                                                          subject, held):
    provider = build.provider(name="Alpha Spa", timezone="Europe/Berlin")
    offering = build.offering(provider, price_minor=4200, currency="EUR",
                              name="Deep tissue massage")
    start = (datetime.now(timezone.utc) + timedelta(days=6)).replace(
        hour=9, minute=0, second=0, microsecond=0)
    slot = build.slot(offering, start, capacity=1)
    taken = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                   slot_id=slot)
    waiting = customer(build, email="grace@example.com", locale=locale)
    waitlist.join(customer_id=waiting, slot_id=slot)
    bookings.cancel_booking(taken.reference, actor=Actor(None, "test"),
                            scope=Scope.all_providers())
    run_jobs(app)

    offer = db.session.scalar(select(Booking).join(
        WaitlistEntry, WaitlistEntry.booking_id == Booking.id))
    (message,) = smtp.to("grace@example.com")
    assert message["Subject"].startswith(subject)
    text = message.get_body(("plain",)).get_content()
    local = ZoneInfo("Europe/Berlin")
    assert start.astimezone(local).strftime("%H:%M") in text  # the provider's wall clock
    held_until = offer.hold_expires_at.astimezone(local).strftime("%H:%M")
    assert f"{held} " in text and held_until in text
    assert "/shop/b/" in text  # the manage link opens the offered booking
    (sms,) = twilio.sent_to(MOBILE)
    assert "/shop/b/" in sms["Body"]
