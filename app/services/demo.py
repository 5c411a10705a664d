"""Demo data for `make run`: idempotent, so running it again changes nothing new."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Offering, Provider
from app.services import audit, availability, catalog
from app.services.roles import ADMIN, CUSTOMER, PROVIDER
from app.services.scopes import SYSTEM, Scope
from app.services.transactions import unit_of_work
from app.services.users import ensure_user

# Per provider (by slug): locations, categories, services with weekly hours, products.
DEMO_CATALOG = {
    "harbor-yoga": {
        "locations": [("Harbor Studio", "Torstraße 140, 10119 Berlin", 52.5290, 13.4010),
                      ("Spree Loft", "Holzmarktstraße 25, 10243 Berlin", 52.5116, 13.4256)],
        "categories": ["Classes", "Private sessions", "Shop"],
        "services": [
            ("Vinyasa Flow", "Dynamic flowing yoga for all levels.", 1800, 60, 0, 0, 12),
            ("Yin Yoga", "Slow, deep stretches held for minutes.", 1600, 75, 1, 0, 10),
            ("Private Session", "One-to-one yoga coaching, paid at the studio.", 7500, 60, 0, 1,
             1),
        ],
        "products": [("Cork Yoga Mat", "Natural cork, 4 mm.", 5900, [("Cork", "MAT-CORK", 12)]),
                     ("Yoga Block", "Light EVA foam.", 1200,
                      [("Grey", "BLK-GREY", 30), ("Sand", "BLK-SAND", 0)])],
    },
    "northside-barbers": {
        "locations": [("Northside Shop", "225 W 34th St, New York, NY", 40.7506, -73.9935)],
        "categories": ["Cuts", "Shaves", "Grooming"],
        "services": [
            ("Classic Haircut", "Scissors and clippers, wash included.", 4500, 45, 0, 0, 2),
            ("Hot Towel Shave", "Straight razor with hot towels.", 3500, 30, 0, 1, 1),
        ],
        "products": [("Beard Oil", "Cedar and bergamot, 30 ml.", 2400,
                      [("30 ml", "OIL-30", 25)])],
    },
}

DEMO_PROVIDERS = [
    dict(name="Harbor Yoga Studio", slug="harbor-yoga", timezone="Europe/Berlin",
         currency="EUR", contact_email="hello@harbor-yoga.example", contact_phone="+4930901820",
         brand_color="#0f766e",
         description="Yoga by the Spree since 2012: flowing classes, slow yin evenings and "
                     "one-to-one sessions in two bright lofts in Berlin."),
    dict(name="Northside Barbers", slug="northside-barbers", timezone="America/New_York",
         currency="USD", contact_email="desk@northside.example", contact_phone="+12125550143",
         brand_color="#1e3a8a",
         description="Classic cuts and hot towel shaves in Midtown Manhattan."),
]


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str
    provider: str | None = None


def load_demo_data(password: str) -> list[DemoLogin]:
    logins = []
    with audit.acting_as(SYSTEM):
        user, _ = ensure_user(email="admin@bookwell.example", password=password, role=ADMIN,
                              first_name="Ada", last_name="Admin", reset_password=False)
        logins.append(DemoLogin(ADMIN, user.email, password))
        for spec in DEMO_PROVIDERS:
            provider = db.session.scalar(select(Provider).where(Provider.slug == spec["slug"]))
            if provider is None:
                provider = _add_provider(spec)
            _load_catalog(provider)
            local = spec["slug"].split("-")[0]
            user, _ = ensure_user(email=f"staff@{local}.example", password=password,
                                  role=PROVIDER, first_name="Sam", last_name=provider.name,
                                  provider_id=provider.id, reset_password=False)
            logins.append(DemoLogin(PROVIDER, user.email, password, provider.name))
        user, _ = ensure_user(email="customer@bookwell.example", password=password,
                              role=CUSTOMER, first_name="Cleo", last_name="Customer",
                              reset_password=False)
        logins.append(DemoLogin(CUSTOMER, user.email, password))
        _load_bookings(user.id)
    return logins


@unit_of_work()
def _add_provider(spec: dict) -> Provider:
    provider = Provider(**spec)
    db.session.add(provider)
    return provider


def _load_catalog(provider: Provider) -> None:
    """Once per provider: skipped when it already has offerings."""
    spec = DEMO_CATALOG.get(provider.slug)
    has_offerings = db.session.scalar(
        select(Offering.id).where(Offering.provider_id == provider.id).limit(1))
    if spec is None or has_offerings is not None:
        return
    pid, scope = provider.id, Scope.of_provider(provider.id)
    locations = [catalog.create(catalog.LOCATION, scope=scope, data=dict(
        name=name, address=address, lat=lat, lng=lng)).id
        for name, address, lat, lng in spec["locations"]]
    categories = [catalog.create(catalog.CATEGORY, scope=scope,
                                 data=dict(name=name)).id for name in spec["categories"]]
    for name, description, price, minutes, loc, cat, capacity in spec["services"]:
        offering = catalog.create(catalog.OFFERING, scope=scope, data=dict(
            kind="service", name=name, description=description, price_minor=price,
            duration_minutes=minutes, location_id=locations[loc],
            category_id=categories[cat], pay_at_venue="paid at" in description))
        _weekly_hours(pid, offering.id, minutes, capacity)
    for name, description, price, variants in spec["products"]:
        offering = catalog.create(catalog.OFFERING, scope=scope, data=dict(
            kind="product", name=name, description=description, price_minor=price,
            location_id=locations[0], category_id=categories[-1]))
        for variant_name, sku, stock in variants:
            catalog.create(catalog.VARIANT, scope=scope, data=dict(
                offering_id=offering.id, name=variant_name, sku=sku, stock=stock))
    availability.generate_slots(scope=scope, days=14)


@unit_of_work()
def _weekly_hours(provider_id: int, offering_id: int, minutes: int, capacity: int) -> None:
    from datetime import date, time

    from app.models import AvailabilityRule

    for weekday in range(6):  # Monday to Saturday, 09:00 to 18:00
        rule = AvailabilityRule(
            provider_id=provider_id, offering_id=offering_id, weekday=weekday,
            start_time=time(9), end_time=time(18), slot_minutes=max(minutes, 30),
            capacity=capacity, valid_from=date(2020, 1, 1))
        db.session.add(rule)


@unit_of_work()
def demo_slot(offering: Offering, start) -> int:
    """The offering's slot starting at ``start``: the one its weekly hours generated when
    the hour falls on their grid (at such minutes of the day a new one would clash with
    it), otherwise a new one."""
    from datetime import timedelta

    from app.models import Slot

    existing = db.session.scalar(select(Slot.id).where(Slot.offering_id == offering.id,
                                                       Slot.starts_at == start))
    if existing is not None:
        return existing
    slot = Slot(provider_id=offering.provider_id, offering_id=offering.id, starts_at=start,
                ends_at=start + timedelta(minutes=offering.duration_minutes), capacity=8)
    db.session.add(slot)
    db.session.flush()
    return slot.id


def _load_bookings(customer_id: int) -> None:
    """Once: a booking in each state, on the first demo provider's first service."""
    from datetime import timedelta

    from app.models import Booking
    from app.models.types import utcnow
    from app.models.payments import Payment
    from app.services import bookings, payments, refunds

    if db.session.scalar(select(Booking.id).where(Booking.customer_id == customer_id)):
        return
    provider = db.session.scalar(select(Provider).where(Provider.slug == "harbor-yoga"))
    online, venue = (db.session.scalar(select(Offering).where(
        Offering.provider_id == provider.id, Offering.name == name)) for name in (
        "Vinyasa Flow", "Private Session"))
    now = utcnow().replace(second=0, microsecond=0)
    system = bookings.Actor(None, "demo data")
    scope = Scope.of_provider(provider.id)  # every demo booking is this provider's

    def slot_at(offering, hours_from_now: float) -> int:
        return demo_slot(offering, now + timedelta(hours=hours_from_now))

    def place(offering, hours_from_now: float, placed_hours_ago: float = 0):
        return bookings.place_booking(customer_id=customer_id, offering_id=offering.id,
                                      slot_id=slot_at(offering, hours_from_now),
                                      now=now - timedelta(hours=placed_hours_ago))

    place(online, 72)  # pending: waiting for the online payment
    confirmed = place(venue, 96)  # paid at the venue: staff confirm it
    bookings.confirm_booking(confirmed.reference, actor=system, scope=scope)
    cancelled = place(venue, 120)
    bookings.cancel_booking(cancelled.reference, actor=system, scope=scope)
    paid_at_venue = place(venue, 100)  # taken at the counter: a manual payment, and
    payments.mark_paid(paid_at_venue.reference, actor_id=None, scope=scope,
                       method="card terminal")
    refunds.request_refund(  # part of it handed back
        db.session.scalar(select(Payment.id).join(Booking).where(
            Booking.reference == paid_at_venue.reference)),
        amount_minor=500, reason="demo: late start", actor_id=None, scope=scope)
    for target, hours in (("completed", -24), ("no_show", -30)):
        past = place(venue, hours, placed_hours_ago=72)
        payments.mark_paid(past.reference, actor_id=None, scope=scope)
        finish = bookings.complete_booking if target == "completed" else bookings.mark_no_show
        finish(past.reference, actor=system, scope=scope)
    place(online, -48, placed_hours_ago=96)  # its hold ran out long ago:
    bookings.expire_holds(scope=scope, now=now)
