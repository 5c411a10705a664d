"""The database search backend: every filter and sort in one SQL query.

PostgreSQL matches and ranks (``ts_rank``) on ``offering.search_document``, a stored
``to_tsvector('simple', name || ' ' || description)`` with the GIN index
``ix_offering_search`` (migration 0005); SQLite uses the FTS5 table
``offering_fts`` and ``bm25``. Each word of ``q`` matches as a prefix (``yog`` finds
"yoga"); typo tolerance needs the OpenSearch backend. Distances are great-circle
kilometres, pre-filtered by a bounding box that the (lat, lng) index can use.
"""
from __future__ import annotations

import re

from sqlalchemy import and_, exists, func, literal_column, select, text

from app.extensions import db
from app.models import Location, Offering, Provider, Slot, Variant
from app.models.catalog import PRODUCT
from app.models.types import utcnow
from app.geo import EARTH_RADIUS_KM, bounding_box
from app.services.search import OfferingQuery, SearchHit, SearchPage

_WORD = re.compile(r"\w+", re.UNICODE)
# A PostgreSQL-only generated column, so not mapped on the model (SQLite has FTS5 instead).
PG_DOCUMENT = literal_column("offering.search_document")


def query_words(q: str | None, limit: int = 8) -> list[str]:
    return _WORD.findall(q or "")[:limit]


class DatabaseSearchBackend:
    name = "database"

    def search(self, query: OfferingQuery) -> SearchPage:
        dialect = db.engine.dialect.name
        words = query_words(query.q)
        stmt = (
            select(Offering.id)
            .join(Provider, Provider.id == Offering.provider_id)
            .outerjoin(Location, Location.id == Offering.location_id)
            .where(Offering.active.is_(True), Provider.active.is_(True))
        )
        stmt = _filters(stmt, query)
        rank = None
        if words:
            stmt, rank = _text_match(stmt, words, dialect)
        distance = None
        if query.near is not None:
            stmt, distance = _near(stmt, query, dialect)
        if _resolved_sort(query, rank, distance) == "soonest":
            return _soonest_page(stmt, query, distance)

        # The total rides along with the page (a window count over every match), so the
        # matches are found, and ranked, once per request instead of twice.
        columns = [Offering.id, distance if distance is not None else literal_column("NULL"),
                   rank if rank is not None else literal_column("NULL"),
                   func.count().over().label("total")]
        page = stmt.with_only_columns(*columns).order_by(
            *_ordering(query, rank, distance)).limit(query.page_size).offset(query.offset)
        rows = db.session.execute(page).all()
        if rows:
            total = rows[0][3]
        elif query.offset == 0:
            total = 0
        else:  # a page past the end: no row carries the total
            total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
        hits = [
            SearchHit(offering_id=row[0],
                      distance_km=None if row[1] is None else round(float(row[1]), 3),
                      score=None if row[2] is None else float(row[2]))
            for row in rows
        ]
        return SearchPage(hits=hits, total=total)

    def index_offerings(self, offering_ids: list[int]) -> None:
        """Nothing to do: the indexes are kept by the database itself."""

    def remove_offerings(self, offering_ids: list[int]) -> None:
        """Nothing to do: the indexes are kept by the database itself."""


def _filters(stmt, query: OfferingQuery):
    if query.provider_id is not None:
        stmt = stmt.where(Offering.provider_id == query.provider_id)
    if query.category_id is not None:
        stmt = stmt.where(Offering.category_id == query.category_id)
    if query.category_ids is not None:
        stmt = stmt.where(Offering.category_id.in_(query.category_ids))
    if query.kind is not None:
        stmt = stmt.where(Offering.kind == query.kind)
    if query.currency is not None:
        stmt = stmt.where(Offering.currency == query.currency)
    if query.min_price is not None:
        stmt = stmt.where(Offering.price_minor >= query.min_price)
    if query.max_price is not None:
        stmt = stmt.where(Offering.price_minor <= query.max_price)
    if query.available_from is not None or query.available_to is not None:
        stmt = stmt.where(_available(query))
    return stmt


def _available(query: OfferingQuery):
    """A free place on a slot in the window; products: a variant in stock."""
    conditions = [Slot.offering_id == Offering.id, Slot.retired_at.is_(None),
                  Slot.booked < Slot.capacity]
    if query.available_from is not None:
        conditions.append(Slot.starts_at >= query.available_from)
    if query.available_to is not None:
        conditions.append(Slot.starts_at < query.available_to)
    in_stock = exists().where(
        Variant.offering_id == Offering.id, Variant.active.is_(True),
        (Variant.stock.is_(None)) | (Variant.stock > 0),
    )
    return exists().where(and_(*conditions)) | ((Offering.kind == PRODUCT) & in_stock)


def _text_match(stmt, words: list[str], dialect: str):
    if dialect == "postgresql":
        tsquery = func.to_tsquery("simple", " & ".join(f"{w}:*" for w in words))
        return stmt.where(PG_DOCUMENT.op("@@")(tsquery)), func.ts_rank(PG_DOCUMENT, tsquery)
    match = " AND ".join('"' + w.replace('"', "") + '"*' for w in words)
    fts = (
        select(literal_column("rowid").label("rowid"),
               literal_column("bm25(offering_fts)").label("bm25"))
        .select_from(text("offering_fts"))
        .where(text("offering_fts MATCH :match").bindparams(match=match))
        .subquery("fts")
    )
    # bm25 is lower-is-better; negate so that a higher score ranks first on both databases.
    return stmt.join(fts, fts.c.rowid == Offering.id), -fts.c.bm25


def _near(stmt, query: OfferingQuery, dialect: str):
    """Distances are computed once per location (in a CTE), not once per offering: a
    location has hundreds of offerings. PostgreSQL must not inline the CTE, or the
    distance would be computed per joined row again."""
    lat, lng = query.near
    if dialect == "postgresql":
        a = (func.power(func.sin(func.radians(Location.lat - lat) / 2), 2)
             + func.cos(func.radians(lat)) * func.cos(func.radians(Location.lat))
             * func.power(func.sin(func.radians(Location.lng - lng) / 2), 2))
        distance = 2 * EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(a)))
    else:
        distance = func.bw_haversine_km(lat, lng, Location.lat, Location.lng)
    places = select(Location.id.label("location_id"), distance.label("distance_km")).where(
        Location.lat.is_not(None), Location.lng.is_not(None))
    if query.radius_km is not None:
        min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, query.radius_km)
        places = places.where(Location.lat.between(min_lat, max_lat),
                              Location.lng.between(min_lng, max_lng),
                              distance <= query.radius_km)
    near = places.cte("near_location").prefix_with("MATERIALIZED", dialect="postgresql")
    stmt = stmt.join(near, near.c.location_id == Offering.location_id)
    return stmt, near.c.distance_km


def _resolved_sort(query: OfferingQuery, rank, distance) -> str:
    sort = query.sort or ("relevance" if rank is not None else "name")
    if sort == "relevance" and rank is None:
        sort = "distance" if distance is not None else "name"
    return sort


def _ordering(query: OfferingQuery, rank, distance) -> list:
    sort = _resolved_sort(query, rank, distance)
    if sort == "relevance":
        order = [rank.desc()]
        if distance is not None:
            order.append(distance.asc())
        return order + [Offering.price_minor.asc(), Offering.id.asc()]
    if sort == "distance" and distance is not None:
        return [distance.asc(), Offering.id.asc()]
    if sort == "price":
        return [Offering.currency.asc(), Offering.price_minor.asc(), Offering.id.asc()]
    if sort == "-price":
        return [Offering.currency.asc(), Offering.price_minor.desc(), Offering.id.asc()]
    if sort == "newest":
        return [Offering.created_at.desc(), Offering.id.desc()]
    return [Offering.name.asc(), Offering.id.asc()]


# -- soonest free time ------------------------------------------------------------------
# Ordering every match by its next free time would look up each match's slots (100,000
# index probes for a plain browse). Instead the free slots from now on are read in time
# order, joined to the matches, and the first ones give the first offerings: a page
# needs a few hundred slots. Only when that prefix holds too few offerings is the exact
# (heavier) grouping used.
SOONEST_SCAN = 500  # slots read in time order before grouping instead
# Up to this many matches (most searches with words), each match's first free slot is
# looked up by its own index probe instead, and the matches are ordered in memory.
SOONEST_PROBES = 5000


def free_slot_conditions(now):
    """A slot from ``now`` on with a free place, of the offering in the row."""
    return and_(Slot.offering_id == Offering.id, Slot.starts_at >= now,
                Slot.retired_at.is_(None), Slot.booked < Slot.capacity)


def _soonest_page(stmt, query: OfferingQuery, distance) -> SearchPage:
    now = utcnow()
    needed = query.offset + query.page_size
    distance_column = distance if distance is not None else literal_column("NULL")
    total = db.session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Offering.id).subquery()))
    if total <= SOONEST_PROBES:
        return SearchPage(hits=_probed(stmt, distance_column, now)[query.offset:needed],
                          total=total)
    timed, timed_total = _first_free(stmt, distance_column, now, needed)
    hits = [SearchHit(offering_id=offering_id,
                      distance_km=None if dist is None else round(float(dist), 3))
            for offering_id, dist in timed[query.offset:needed]]
    if len(hits) < query.page_size and timed_total is not None and total > timed_total:
        untimed = (stmt.with_only_columns(Offering.id, distance_column)
                   .where(~exists().where(free_slot_conditions(now)))
                   .order_by(Offering.created_at.desc(), Offering.id.desc())
                   .offset(max(0, query.offset - timed_total))
                   .limit(query.page_size - len(hits)))
        hits += [SearchHit(offering_id=row[0],
                           distance_km=None if row[1] is None else round(float(row[1]), 3))
                 for row in db.session.execute(untimed)]
    return SearchPage(hits=hits, total=total)


def _probed(stmt, distance_column, now) -> list[SearchHit]:
    """Every match in soonest order, each one's first free slot read by an index probe."""
    first_free = (select(func.min(Slot.starts_at)).where(free_slot_conditions(now))
                  .correlate(Offering).scalar_subquery())
    rows = db.session.execute(stmt.with_only_columns(
        Offering.id, distance_column, first_free, Offering.created_at)).all()
    timed = sorted((row for row in rows if row[2] is not None),
                   key=lambda row: (row[2], row[0]))
    untimed = sorted((row for row in rows if row[2] is None),
                     key=lambda row: (row[3], row[0]), reverse=True)
    return [SearchHit(offering_id=row[0],
                      distance_km=None if row[1] is None else round(float(row[1]), 3))
            for row in timed + untimed]


def _first_free(stmt, distance_column, now, needed: int):
    """The first ``needed`` matches with a free time, soonest first (ties by id), as
    (id, distance), and how many matches have a free time at all when that is known
    (fewer than ``needed``), else None.

    The slots are read in start order straight from the index (no sort); where the read
    stops, the slots starting at that same moment are read whole, so every offering
    with a free slot up to then is known with its first one, in a stable order."""
    scan_limit = max(SOONEST_SCAN, needed * 5)
    scan = (stmt.with_only_columns(Offering.id, distance_column, Slot.starts_at)
            .join(Slot, free_slot_conditions(now)))
    rows = db.session.execute(scan.order_by(Slot.starts_at).limit(scan_limit)).all()
    complete = len(rows) < scan_limit  # every free slot of the matches was read
    if not complete:
        edge = rows[-1][2]
        rows = [row for row in rows if row[2] < edge] + db.session.execute(
            scan.where(Slot.starts_at == edge)).all()
    first: dict[int, object] = {}
    for offering_id, dist, _ in sorted(rows, key=lambda row: (row[2], row[0])):
        first.setdefault(offering_id, dist)
    if len(first) >= needed:
        return list(first.items())[:needed], None
    if complete:
        return list(first.items()), len(first)
    grouped = (stmt.with_only_columns(Offering.id, func.min(distance_column))
               .join(Slot, free_slot_conditions(now))
               .group_by(Offering.id)
               .order_by(func.min(Slot.starts_at), Offering.id).limit(needed))
    found = [(row[0], row[1]) for row in db.session.execute(grouped)]
    return found, len(found) if len(found) < needed else None
