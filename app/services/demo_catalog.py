"""The demo providers and their catalogs, and how they are loaded.

Three businesses of different kinds, each in its own zone and currency:

- Harbor Yoga Studio (Berlin, EUR): classes with a capacity per class (Vinyasa Flow 12,
  Yin Yoga 10, paid online), one-to-one private sessions (capacity 1), mats and blocks.
- Northside Barbers (New York, USD): appointments done by three barbers (staff
  resources), so a time holds as many customers as barbers are free; a hot towel shave
  only Marcus does; beard oil.
- Copper Kettle Coffee (London, GBP): a shop of coffee, mugs and brewing kit with
  variants and stock (ordered online, collected and paid in the shop), and a brewing
  workshop on Wednesdays and Saturdays.

Opening hours lie within 09:00–18:00 local time; slots come from them through
``availability.generate_slots``, from ``HISTORY_DAYS`` ago (so that past weeks have their
times) to the usual days ahead. Every step finds what a run before it made (by slug or
name) and adds only what is missing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.models import AvailabilityRule, Category, Location, Offering, Provider, Resource
from app.services import availability, catalog, demo_pictures, images, resources
from app.services.cache import bump_catalog_generation
from app.services.scopes import Scope
from app.services.transactions import unit_of_work

HISTORY_DAYS = 14  # how far back the demo's bookings (and so its slots) reach
MON_FRI, TUE_SAT = (0, 1, 2, 3, 4), (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Hours:
    """One range of weekly hours on some weekdays, local wall-clock times."""

    weekdays: tuple[int, ...]
    start: str
    end: str


@dataclass(frozen=True)
class DemoService:
    name: str
    description: str
    price_minor: int
    minutes: int
    capacity: int  # per time: a class's places, or how many chairs an appointment has
    hours: tuple[Hours, ...]
    demand: tuple[int, ...]  # bookings of one time, drawn from these
    pay_at_venue: bool = True
    slot_minutes: int | None = None  # default: back to back
    location: int = 0
    category: int = 0
    staff: tuple[str, ...] = ()  # the resources who do it; none: no resource needed
    free_cancellation_hours: int = 24


@dataclass(frozen=True)
class DemoProduct:
    name: str
    description: str
    price_minor: int
    variants: tuple[tuple[str, str, int, int | None], ...]  # name, SKU, stock, own price
    pay_at_venue: bool = False
    sells: bool = False  # orders are placed in the demo's weeks


@dataclass(frozen=True)
class DemoProvider:
    fields: dict
    staff_user: tuple[str, str, str]  # e-mail, first and last name: a person, not the shop
    motif: str
    locations: tuple[tuple[str, str, float, float], ...]
    categories: tuple[str, ...]
    services: tuple[DemoService, ...] = ()
    products: tuple[DemoProduct, ...] = ()
    staff: tuple[str, ...] = ()  # staff members (resources)
    orders_per_day: tuple[int, ...] = (0,)

    @property
    def slug(self) -> str:
        return self.fields["slug"]

    @property
    def initials(self) -> str:
        return "".join(word[0] for word in self.fields["name"].split()[:2]).upper()


DEMO_PROVIDERS = (
    DemoProvider(
        fields=dict(name="Harbor Yoga Studio", slug="harbor-yoga", timezone="Europe/Berlin",
                    currency="EUR", contact_email="hello@harbor-yoga.example",
                    contact_phone="+4930901820", brand_color="#0f766e",
                    description="Yoga by the Spree since 2012: flowing classes, slow yin "
                                "afternoons and one-to-one sessions in two bright lofts in "
                                "Berlin."),
        staff_user=("staff@harbor.example", "Lena", "Hoffmann"), motif="sun",
        locations=(("Harbor Studio", "Torstraße 140, 10119 Berlin", 52.5290, 13.4010),
                   ("Spree Loft", "Holzmarktstraße 25, 10243 Berlin", 52.5116, 13.4256)),
        categories=("Classes", "Private sessions", "Shop"),
        services=(
            DemoService("Vinyasa Flow", "Dynamic flowing yoga for all levels; drop in and "
                        "pay at the front desk.", 1800, 60, 12,
                        (Hours(MON_FRI, "09:00", "10:00"), Hours(MON_FRI, "17:00", "18:00"),
                         Hours((5,), "10:00", "11:00")), demand=(0, 1, 1, 2)),
            DemoService("Yin Yoga", "Slow, deep stretches held for minutes; paid online "
                        "when you book.", 1600, 75, 10,
                        (Hours((1, 3), "16:30", "17:45"), Hours((6,), "10:00", "11:15")),
                        demand=(1, 1, 2), pay_at_venue=False, location=1),
            DemoService("Private Session", "One-to-one yoga coaching, paid at the studio.",
                        7500, 60, 1, (Hours(MON_FRI, "11:00", "15:00"),),
                        demand=(0,) * 5 + (1,), category=1),
        ),
        products=(
            DemoProduct("Cork Yoga Mat", "Natural cork, 4 mm.", 5900,
                        (("Cork", "MAT-CORK", 12, None),)),
            DemoProduct("Yoga Block", "Light EVA foam.", 1200,
                        (("Grey", "BLK-GREY", 30, None), ("Sand", "BLK-SAND", 0, None))),
        ),
    ),
    DemoProvider(
        fields=dict(name="Northside Barbers", slug="northside-barbers",
                    timezone="America/New_York", currency="USD",
                    contact_email="desk@northside.example", contact_phone="+12125550143",
                    brand_color="#1e3a8a",
                    description="Classic cuts and hot towel shaves in Midtown Manhattan, "
                                "by three barbers who know your name."),
        staff_user=("staff@northside.example", "Marcus", "Reid"), motif="pole",
        locations=(("Northside Shop", "225 W 34th St, New York, NY", 40.7506, -73.9935),),
        categories=("Cuts", "Shaves", "Grooming"),
        staff=("Marcus Reid", "Tony Alvarez", "Dre Williams"),
        services=(
            DemoService("Classic Haircut", "Scissors and clippers, wash included; pay at "
                        "the shop.", 4500, 45, 3, (Hours(TUE_SAT, "10:00", "18:00"),),
                        demand=(0,) * 6 + (1,), staff=("Marcus Reid", "Tony Alvarez",
                                                    "Dre Williams")),
            DemoService("Beard Trim", "Shape and line-up with a hot towel finish.", 2500, 30,
                        3, (Hours(TUE_SAT, "10:00", "18:00"),), demand=(0,) * 15 + (1,),
                        staff=("Tony Alvarez", "Dre Williams"), category=2),
            DemoService("Hot Towel Shave", "Straight razor with hot towels, by Marcus.", 3500,
                        30, 1, (Hours(TUE_SAT, "12:00", "16:00"),), demand=(0,) * 7 + (1,),
                        staff=("Marcus Reid",), category=1),
        ),
        products=(DemoProduct("Beard Oil", "Cedar and bergamot, 30 ml.", 2400,
                              (("30 ml", "OIL-30", 25, None),)),),
    ),
    DemoProvider(
        fields=dict(name="Copper Kettle Coffee", slug="copper-kettle", timezone="Europe/London",
                    currency="GBP", contact_email="shop@copperkettle.example",
                    contact_phone="+442079460321", brand_color="#9a3412",
                    description="Small-batch coffee roasted in Hackney: beans, mugs and "
                                "brewing kit to order online and collect in the shop, and a "
                                "brewing workshop on Wednesdays and Saturdays."),
        staff_user=("staff@copper.example", "Priya", "Shah"), motif="cup",
        locations=(("Copper Kettle Roastery", "12 Mare Street, London E8 4RP", 51.5362,
                    -0.0556),),
        categories=("Coffee", "Brewing kit", "Workshops"),
        services=(
            DemoService("Home Barista Workshop", "Ninety minutes on grind, ratio and milk "
                        "with our head roaster; pay at the shop.", 4000, 90, 6,
                        (Hours((5,), "10:00", "11:30"), Hours((2,), "16:00", "17:30")),
                        demand=(2, 3), category=2),
        ),
        products=(
            DemoProduct("House Espresso Blend", "Chocolate and hazelnut; roasted every "
                        "Tuesday.", 1100, (("250 g whole bean", "HEB-250-WB", 60, None),
                                           ("250 g ground", "HEB-250-GR", 40, None),
                                           ("1 kg whole bean", "HEB-1K-WB", 20, 3600)),
                        pay_at_venue=True, sells=True),
            DemoProduct("Ethiopia Guji", "Single origin, washed: peach and jasmine.", 1350,
                        (("250 g whole bean", "ETG-250-WB", 30, None),
                         ("250 g ground", "ETG-250-GR", 0, None)),
                        pay_at_venue=True, sells=True),
            DemoProduct("Stoneware Mug", "Hand-thrown in Bristol, 300 ml.", 1800,
                        (("Sand", "MUG-SAND", 24, None), ("Slate", "MUG-SLATE", 16, None)),
                        pay_at_venue=True, sells=True),
            DemoProduct("Pour-over Kit", "Ceramic dripper, 40 filters and a scoop.", 3200,
                        (("White", "POK-WHITE", 10, None),), pay_at_venue=True, sells=True),
        ),
        orders_per_day=(0, 1, 1, 2),
    ),
)


def ensure_provider(spec: DemoProvider) -> Provider:
    provider = db.session.scalar(select(Provider).where(Provider.slug == spec.slug))
    if provider is None:
        provider = _add_provider(spec.fields)
    return provider


@unit_of_work()
def _add_provider(fields: dict) -> Provider:
    provider = Provider(**fields)
    db.session.add(provider)
    return provider


def load_catalog(provider: Provider, spec: DemoProvider, now: datetime) -> None:
    """The provider's locations, categories, staff, services with their hours, products,
    pictures and slots: whatever of them is missing."""
    scope = Scope.of_provider(provider.id)
    locations = [_find_or_create(catalog.LOCATION, Location, scope, name, dict(
        address=address, lat=lat, lng=lng)) for name, address, lat, lng in spec.locations]
    categories = [_find_or_create(catalog.CATEGORY, Category, scope, name, {})
                  for name in spec.categories]
    staff = {name: _staff_member(scope, name) for name in spec.staff}
    first_day = _local_today(provider, now) - timedelta(days=HISTORY_DAYS + 1)
    for service in spec.services:
        _load_service(scope, service, locations, categories, staff, first_day)
    for product in spec.products:
        _load_product(scope, product, locations[0], categories[-1])
    _load_pictures(provider, spec)
    # The weeks behind today get their times too, from the same rules.
    history_start = datetime.combine(first_day, time(), ZoneInfo(provider.timezone))
    availability.generate_slots(scope=scope, now=history_start.astimezone(timezone.utc),
                                days=HISTORY_DAYS + 3)


def _local_today(provider: Provider, now: datetime) -> date:
    return now.astimezone(ZoneInfo(provider.timezone)).date()


def _find_or_create(kind, model, scope: Scope, name: str, data: dict):
    row = db.session.scalar(select(model).where(model.provider_id == scope.provider_id,
                                                model.name == name))
    return row if row is not None else catalog.create(kind, scope=scope,
                                                      data=dict(name=name, **data))


def _staff_member(scope: Scope, name: str) -> Resource:
    row = db.session.scalar(select(Resource).where(Resource.provider_id == scope.provider_id,
                                                   Resource.name == name))
    return row if row is not None else resources.create_resource(scope=scope, name=name)


def _offering(scope: Scope, name: str) -> Offering | None:
    return db.session.scalar(select(Offering).where(Offering.provider_id == scope.provider_id,
                                                    Offering.name == name))


def _load_service(scope: Scope, service: DemoService, locations, categories, staff,
                  first_day: date) -> None:
    if _offering(scope, service.name) is not None:
        return
    offering = catalog.create(catalog.OFFERING, scope=scope, data=dict(
        kind="service", name=service.name, description=service.description,
        price_minor=service.price_minor, duration_minutes=service.minutes,
        location_id=locations[service.location].id,
        category_id=categories[service.category].id, pay_at_venue=service.pay_at_venue,
        free_cancellation_hours=service.free_cancellation_hours,
        resources_shared=False))
    if service.staff:
        resources.set_offering_resources(offering.id, [staff[name].id for name in service.staff],
                                         scope=scope)
    _add_hours(scope, offering.id, service, first_day)


def _add_hours(scope: Scope, offering_id: int, service: DemoService, first_day: date) -> None:
    """The offering's weekly rules, each checked as the console's save checks it, and its
    slots generated once for all of them, in one transaction. They are valid from before
    the demo's first day, so its past weeks have times too."""
    with unit_of_work():
        for hours in service.hours:
            for weekday in hours.weekdays:
                rule = AvailabilityRule(
                    provider_id=scope.provider_id, offering_id=offering_id, weekday=weekday,
                    start_time=time.fromisoformat(hours.start),
                    end_time=time.fromisoformat(hours.end),
                    slot_minutes=service.slot_minutes or service.minutes,
                    capacity=service.capacity, valid_from=first_day)
                catalog.prepare(catalog.RULE, rule)
                db.session.add(rule)
                db.session.flush()
        catalog.reshape_slots(catalog.RULE, scope=scope, offering_id=offering_id)
    bump_catalog_generation()


def _load_product(scope: Scope, product: DemoProduct, location, category) -> None:
    if _offering(scope, product.name) is not None:
        return
    offering = catalog.create(catalog.OFFERING, scope=scope, data=dict(
        kind="product", name=product.name, description=product.description,
        price_minor=product.price_minor, location_id=location.id, category_id=category.id,
        pay_at_venue=product.pay_at_venue))
    for name, sku, stock, price in product.variants:
        catalog.create(catalog.VARIANT, scope=scope, data=dict(
            offering_id=offering.id, name=name, sku=sku, stock=stock, price_minor=price))


def _load_pictures(provider: Provider, spec: DemoProvider) -> None:
    """A logo, and a picture of every offering that has none."""
    color = provider.brand_color or "#334155"
    offerings = list(db.session.scalars(select(Offering).where(
        Offering.provider_id == provider.id).order_by(Offering.id)))
    pictured = images.pictures_of([offering.id for offering in offerings])
    added = False
    for offering in offerings:
        if offering.id not in pictured:
            _add_picture(offering.id, demo_pictures.offering_picture(
                offering.name, color, spec.motif), f"{offering.name} at {provider.name}")
            added = True
    if images.logo_of(provider.id) is None:
        _add_logo(provider.id, demo_pictures.logo(spec.initials, color))
        added = True
    if added:
        bump_catalog_generation()


@unit_of_work()
def _add_picture(offering_id: int, data: bytes, alt_text: str) -> None:
    images.replace_offering_picture(db.session.get(Offering, offering_id), data, alt_text)


@unit_of_work()
def _add_logo(provider_id: int, data: bytes) -> None:
    images.replace_logo(db.session.get(Provider, provider_id), data)


__all__ = ["DEMO_PROVIDERS", "HISTORY_DAYS", "DemoProduct", "DemoProvider", "DemoService",
           "Hours", "ensure_provider", "load_catalog"]
