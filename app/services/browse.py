"""What customers browse without signing in: active providers and their active offerings."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Category, Image, Location, Offering, Provider, Slot, Variant
from app.models.catalog import PRODUCT
from app.models.types import utcnow
from app.services import booking_window, images
from app.services.booking_placing import MAX_QUANTITY
from app.services.search import OfferingQuery, SearchPage, search_offerings
from app.services.stock import StockLevel, product_stock, stock_level

MAX_SLOT_WINDOW = timedelta(days=62)
NEXT_FREE_SLOTS = 5


def list_providers(*, page: int, page_size: int) -> tuple[list[Provider], int]:
    base = select(Provider).where(Provider.active.is_(True))
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    rows = db.session.scalars(base.order_by(Provider.name, Provider.id)
                              .limit(page_size).offset((page - 1) * page_size))
    return list(rows), total


def get_provider(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None or not provider.active:
        raise NotFound("provider.not_found", f"No provider with id {provider_id}.")
    return provider


def get_provider_by_slug(slug: str) -> Provider:
    """An active provider by its address on the storefront (``/shop/providers/<slug>``)."""
    provider = db.session.scalar(select(Provider).where(Provider.slug == slug[:80],
                                                        Provider.active.is_(True)))
    if provider is None:
        raise NotFound("provider.not_found", f"No provider called {slug!r}.")
    return provider


def provider_locations(provider_id: int) -> list[Location]:
    """Where a provider's active offerings happen, by name."""
    return list(db.session.scalars(
        select(Location).where(Location.provider_id == provider_id,
                               select(Offering.id).where(
                                   Offering.location_id == Location.id,
                                   Offering.active.is_(True)).exists())
        .order_by(Location.name, Location.id)))


def find_offerings(query: OfferingQuery) -> tuple[list[tuple[Offering, float | None]], int]:
    """Offerings in result order, each with its distance when ``near`` was given."""
    page: SearchPage = search_offerings(query)
    ids = [hit.offering_id for hit in page.hits]
    # One query: provider and location are many-to-one, joined in the same SELECT.
    rows = {
        row.id: row for row in db.session.scalars(
            select(Offering).where(Offering.id.in_(ids))
            .options(joinedload(Offering.location), joinedload(Offering.provider)))
    } if ids else {}
    return [(rows[hit.offering_id], hit.distance_km) for hit in page.hits
            if hit.offering_id in rows], page.total


def get_offering(offering_id: int) -> Offering:
    """The offering with its provider (from the join that checks it is active), location
    and variants loaded, so that showing it (and its slots' zone) needs no more queries."""
    offering = db.session.scalar(
        select(Offering).join(Provider, Provider.id == Offering.provider_id)
        .where(Offering.id == offering_id, Offering.active.is_(True),
               Provider.active.is_(True))
        .options(contains_eager(Offering.provider), joinedload(Offering.location),
                 selectinload(Offering.variants)))
    if offering is None:
        raise NotFound("offering.not_found", f"No offering with id {offering_id}.")
    return offering


@dataclass(frozen=True)
class ProductOption:
    """One variant of a product as a customer buys it: its price and its stock."""

    variant_id: int
    name: str
    price_minor: int
    currency: str
    stock: StockLevel
    max_quantity: int


def product_options(offering: Offering) -> list[ProductOption]:
    """The active variants of a product (as loaded by ``get_offering``), in order."""
    if offering.kind != PRODUCT:
        return []
    options = []
    for variant in offering.variants:
        if not variant.active:
            continue
        price = variant.price_minor if variant.price_minor is not None else offering.price_minor
        level = stock_level(variant.stock)
        options.append(ProductOption(
            variant_id=variant.id, name=variant.name, price_minor=price,
            currency=offering.currency, stock=level,
            max_quantity=min(variant.stock if variant.stock is not None else MAX_QUANTITY,
                             MAX_QUANTITY)))
    return options


def visible_offering_provider(offering_id: int) -> Provider:
    """The provider of an active offering of an active provider, else ``NotFound``.

    Cheaper than ``get_offering`` where only visibility matters; loading the provider
    lets every slot find its zone in the session instead of querying for it."""
    provider = db.session.scalar(
        select(Provider).join(Offering, Offering.provider_id == Provider.id)
        .where(Offering.id == offering_id, Offering.active.is_(True),
               Provider.active.is_(True)))
    if provider is None:
        raise NotFound("offering.not_found", f"No offering with id {offering_id}.")
    return provider


def next_free_slots(offering_id: int, *, limit: int = NEXT_FREE_SLOTS,
                    now: datetime | None = None) -> list[Slot]:
    """The next bookable slots with a free place, read now (never cached: any booking
    changes them), each with its provider (for its zone) from the same query."""
    return list(db.session.scalars(
        select(Slot).where(*booking_window.slot_conditions(offering_id, now or utcnow()),
                           Slot.retired_at.is_(None), Slot.booked < Slot.capacity)
        .options(joinedload(Slot.provider)).order_by(Slot.starts_at).limit(limit)))


def with_live_places(slots: list[dict], *, only_free: bool = False,
                     read: bool = True) -> list[dict]:
    """Listed slots (``id``, ``capacity``, ``remaining``; perhaps from the cache) with
    their places as they are now, read by primary key in one query: bookings,
    cancellations, expiries and reschedules show at once without invalidating the
    cached listing. A slot retired or deleted since is left out; so is a full one with
    ``only_free``. ``read=False``: the listing was just read from the database, only
    filter it."""
    if not read:
        return [slot for slot in slots if not only_free or slot["remaining"] > 0]
    if not slots:
        return slots
    places = {row.id: row for row in db.session.execute(
        select(Slot.id, Slot.capacity, Slot.booked)
        .where(Slot.id.in_([slot["id"] for slot in slots]), Slot.retired_at.is_(None)))}
    fresh = []
    for slot in slots:
        row = places.get(slot["id"])
        if row is None or (only_free and row.booked >= row.capacity):
            continue
        fresh.append({**slot, "capacity": row.capacity, "remaining": row.capacity - row.booked})
    return fresh


def places_left(slot_id: int) -> int:
    """How many places a time has left now (none once it is retired or gone)."""
    row = db.session.execute(select(Slot.capacity, Slot.booked).where(
        Slot.id == slot_id, Slot.retired_at.is_(None))).first()
    return max(0, row.capacity - row.booked) if row is not None else 0


def list_slots(offering_id: int, *, start: datetime | None, end: datetime | None,
               only_free: bool = False) -> list[Slot]:
    """Bookable slots of a visible offering in a window; with ``only_free``, those with a
    free place as read now (cached listings filter with ``with_live_places`` instead)."""
    provider = visible_offering_provider(offering_id)
    start = start or utcnow()
    end = end or start + timedelta(days=14)
    if end <= start:
        raise ValidationFailed("slots.bad_window", "'to' must be after 'from'.",
                               {"to": ["Must be after 'from'."]})
    if end - start > MAX_SLOT_WINDOW:
        raise ValidationFailed("slots.window_too_long", "Ask for at most 62 days at a time.",
                               {"to": ["At most 62 days after 'from'."]})
    query = select(Slot).where(*booking_window.slot_conditions(offering_id, utcnow()),
                               Slot.starts_at >= start, Slot.starts_at < end,
                               Slot.retired_at.is_(None))
    if only_free:
        query = query.where(Slot.booked < Slot.capacity)
    slots = list(db.session.scalars(query.order_by(Slot.starts_at)))
    # Each slot is shown in its provider's zone: hand them the provider we already hold
    # rather than a lazy load per slot (a tenth of the time of a long list).
    for slot in slots:
        if slot.provider_id == provider.id:
            set_committed_value(slot, "provider", provider)
    return slots


# --- the storefront's results: what a customer needs to choose --------------------------

@dataclass(frozen=True)
class ResultRow:
    """One found offering with what its card shows beside the offering itself."""

    offering: Offering
    distance_km: float | None
    next_free_at: datetime | None  # services: the next slot with a free place
    stock: StockLevel | None  # products
    picture: Image | None = None


def storefront_results(query: OfferingQuery, *, now: datetime | None = None
                       ) -> tuple[list[ResultRow], int]:
    """``find_offerings`` plus each service's next free time and each product's stock,
    read now (never cached) with one query each for the whole page."""
    rows, total = find_offerings(query)
    ids = [offering.id for offering, _ in rows]
    services = [offering for offering, _ in rows if offering.kind != PRODUCT]
    next_free = dict(db.session.execute(
        select(Slot.offering_id, func.min(Slot.starts_at))
        .where(or_(*booking_window.slot_conditions_of(services, now or utcnow())),
               Slot.retired_at.is_(None), Slot.booked < Slot.capacity)
        .group_by(Slot.offering_id)).all()) if services else {}
    product_ids = [offering.id for offering, _ in rows if offering.kind == PRODUCT]
    stocks: dict[int, list[int | None]] = {offering_id: [] for offering_id in product_ids}
    if product_ids:
        for offering_id, stock in db.session.execute(
                select(Variant.offering_id, Variant.stock)
                .where(Variant.offering_id.in_(product_ids), Variant.active.is_(True))):
            stocks[offering_id].append(stock)
    pictures = images.pictures_of(ids)
    return [ResultRow(offering, distance, next_free.get(offering.id),
                      product_stock(stocks[offering.id]) if offering.id in stocks else None,
                      pictures.get(offering.id))
            for offering, distance in rows], total


# --- categories ----------------------------------------------------------------------
# Every provider has its own category tree; customers browse them by name across
# providers ("Yoga" of every studio), a category including its subcategories.

def _visible_categories(provider_id: int | None) -> list[Category]:
    query = (select(Category).join(Provider, Provider.id == Category.provider_id)
             .where(Provider.active.is_(True)))
    if provider_id is not None:
        query = query.where(Category.provider_id == provider_id)
    return list(db.session.scalars(query))


def _children(categories: list[Category]) -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for category in categories:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(category.id)
    return children


def _with_descendants(children: dict[int, list[int]], roots: set[int]) -> set[int]:
    found, todo = set(), list(roots)
    while todo:
        category_id = todo.pop()
        if category_id not in found:
            found.add(category_id)
            todo.extend(children.get(category_id, []))
    return found


def list_categories(*, provider_id: int | None = None) -> list[str]:
    """Names of the categories with an active offering in them (or in a subcategory),
    of active providers (or of one), each name once, alphabetically."""
    categories = _visible_categories(provider_id)
    if not categories:
        return []
    used = set(db.session.scalars(
        select(Offering.category_id).distinct()
        .where(Offering.category_id.in_([c.id for c in categories]),
               Offering.active.is_(True))))
    parents = {c.id: c.parent_id for c in categories}
    in_use: set[int] = set()
    for category_id in used:  # a used category makes its ancestors worth listing too
        while category_id is not None and category_id not in in_use:
            in_use.add(category_id)
            category_id = parents.get(category_id)
    names: dict[str, str] = {}
    for category in categories:
        if category.id in in_use:
            names.setdefault(category.name.casefold(), category.name)
    return sorted(names.values(), key=str.casefold)


def category_ids_named(name: str, *, provider_id: int | None = None) -> tuple[int, ...]:
    """The categories called ``name`` (any case) of active providers (or of one), and
    their subcategories; empty when there is none."""
    categories = _visible_categories(provider_id)
    wanted = name.strip().casefold()
    roots = {c.id for c in categories if c.name.casefold() == wanted}
    return tuple(sorted(_with_descendants(_children(categories), roots)))
