"""A provider's week for the dashboard tests: bookings in several states, days and
currencies on slots of known capacity, so every figure on the dashboard is known exactly.

Times are relative to the real clock (the console reads it), in a zone where it is early
afternoon now, so "today", "earlier today" and "later today" are the same local day
whenever the tests run.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from app.extensions import db
from app.models import Booking, Slot
from tests import builders

# Named zones whose abbreviations read well on screen, about one per hour of offset.
ZONES = ("Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
         "America/Chicago", "America/New_York", "America/Halifax", "America/Sao_Paulo",
         "Atlantic/Azores", "Europe/London", "Europe/Berlin", "Europe/Athens",
         "Europe/Moscow", "Asia/Dubai", "Asia/Karachi", "Asia/Dhaka", "Asia/Bangkok",
         "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane", "Pacific/Noumea",
         "Pacific/Auckland")
_references = itertools.count(1)


def afternoon_zone(now: datetime | None = None) -> str:
    """The zone from :data:`ZONES` whose local time is nearest 14:00 now."""
    now = now or datetime.now(timezone.utc)

    def distance(name: str) -> float:
        local = now.astimezone(ZoneInfo(name))
        return abs(local.hour + local.minute / 60 - 14)

    return min(ZONES, key=distance)


def hours_from_now(hours: float) -> datetime:
    moment = datetime.now(timezone.utc) + timedelta(hours=hours)
    return moment.replace(second=0, microsecond=0)


def booking(slot_id: int, *, status: str, quantity: int = 1, customer_id: int | None = None,
            pay_at_venue: bool = False) -> tuple[int, str]:
    """A booking of the slot in ``status``, its places taken if that status holds them;
    (id, reference)."""
    slot = db.session.get(Slot, slot_id)
    offering = slot.offering
    reference = f"DB{next(_references):06d}"
    row = Booking(
        provider_id=slot.provider_id, reference=reference,
        customer_id=customer_id or builders.customer(), offering_id=offering.id,
        slot_id=slot.id, quantity=quantity, status=status,
        unit_price_minor=offering.price_minor, total_minor=offering.price_minor * quantity,
        currency=offering.currency, pay_at_venue=pay_at_venue, starts_at=slot.starts_at,
        ends_at=slot.ends_at)
    if status in ("pending", "confirmed", "completed", "no_show"):
        slot.booked += quantity
    db.session.add(row)
    db.session.commit()
    return row.id, reference


@dataclass(frozen=True)
class StudioWeek:
    provider_id: int
    staff_email: str
    zone: str
    done_today: str  # confirmed, ended earlier today: ready to check in
    later_today: str  # confirmed, starts later today
    waiting: str  # pending, pays at the venue, tomorrow
    completed: str


def studio_week(*, name: str = "Lotus Yoga Studio", eur_offering: str = "Morning flow",
                usd_offering: str = "Private session") -> StudioWeek:
    """The seeded week; its figures (7 days / 30 days):

    bookings 5 / 6; revenue 125.00 EUR + 80.00 USD / 150.00 EUR + 80.00 USD; occupancy
    7 of 24 places / 8 of 29; no-shows 1 of 3 checked in / 2 of 4.
    """
    zone = afternoon_zone()
    provider_id = builders.provider(name=name, timezone=zone, currency="EUR")
    staff_email = builders.email_of(builders.staff(provider_id))
    flow = builders.offering(provider_id, name=eur_offering, price_minor=2500, currency="EUR")
    private = builders.offering(provider_id, name=usd_offering, price_minor=4000,
                                currency="USD")
    customer = builders.customer()
    earlier = builders.slot(flow, hours_from_now(-3), capacity=4)
    _, done_today = booking(earlier, status="confirmed", quantity=2, customer_id=customer)
    later = builders.slot(flow, hours_from_now(2), capacity=5)
    _, later_today = booking(later, status="confirmed")
    two_days_ago = builders.slot(flow, hours_from_now(-48), capacity=5)
    _, completed = booking(two_days_ago, status="completed")
    booking(two_days_ago, status="no_show")
    booking(two_days_ago, status="cancelled")
    yesterday = builders.slot(private, hours_from_now(-24), capacity=10)
    booking(yesterday, status="completed", quantity=2)
    ten_days_ago = builders.slot(flow, hours_from_now(-240), capacity=5)
    booking(ten_days_ago, status="no_show")
    tomorrow = builders.slot(flow, hours_from_now(24), capacity=5)
    _, waiting = booking(tomorrow, status="pending", pay_at_venue=True)
    return StudioWeek(provider_id, staff_email, zone, done_today, later_today, waiting,
                      completed)
