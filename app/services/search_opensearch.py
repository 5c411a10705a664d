"""Offering search on OpenSearch: the database backend's contract, plus typo tolerance.

Selected by ``OPENSEARCH_URL`` (see ``app.services.search.get_backend``).

Index layout. Documents live in versioned indexes named ``<OPENSEARCH_INDEX>-<UTC stamp>``
behind the alias ``OPENSEARCH_INDEX``. ``rebuild()`` fills a new index and switches the
alias to it in one atomic ``_aliases`` call, so searches never see a half-built index;
``index_offerings()`` / ``remove_offerings()`` write through the alias. Only active
offerings of active providers are indexed; the mapping is strict, so a document field
the mapping does not know is an error, not a silent new field.

Matching and order follow the database backend: every word of ``q`` must match
(``operator: and``) in ``name`` (boosted), its edge-ngram ``name.prefix`` sub-field, or
``description``, with ``fuzziness: AUTO`` and ``prefix_length: 1``. Sorts: relevance
(score, then distance when ``near`` is given, then price, then id), distance, price,
-price, name, newest (``created_at`` desc, like the database backend); every sort ends
with an ``id`` tiebreak so pages are stable. ``near`` alone keeps only
offerings with a location, as the database backend does.

Soonest free time (``sort="soonest"``): OpenSearch knows nothing of slots either. The
backend takes the first ``CANDIDATE_LIMIT`` matches in relevance order (name without
``q``), reads their next free times with one SQL query and orders them by it (the
database backend's order: soonest first, then the offerings with none, newest first), so
with more than 1000 matches the order is that of the 1000 best matches.

Availability window (``available_from`` / ``available_to``): OpenSearch knows nothing of
slots or stock. The backend asks it for the first ``CANDIDATE_LIMIT`` (1000) ranked
offerings, keeps those with a free place on a slot starting in the window (or, for a
product, an active variant in stock; the database backend's rule) with one SQL query,
and pages that list in memory. So an offering ranked below 1000 is never found by an
availability search, and ``total`` is at most 1000 there.

Deep pages: OpenSearch refuses ``from + size`` beyond ``MAX_RESULT_WINDOW`` (10,000);
such pages come back empty, with the right ``total``.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import replace
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import func, select, union

from app.errors import DomainError
from app.extensions import db
from app.gateways.opensearch import DEFAULT_TIMEOUT, OpenSearchError, OpenSearchGateway
from app.models import Location, Offering, Provider, Slot, Variant
from app.models.catalog import PRODUCT
from app.models.types import utcnow
from app.geo import haversine_km
from app.services.search import OfferingQuery, SearchHit, SearchPage

log = logging.getLogger(__name__)

CANDIDATE_LIMIT = 1000  # ranked ids fetched for the availability post-filter
MAX_RESULT_WINDOW = 10_000  # OpenSearch's default index.max_result_window
BATCH_SIZE = 1000  # offerings per database read and bulk request
MAX_QUERY_WORDS = 8  # like the database backend
# A rebuild re-indexes offerings changed since it started, minus this margin: enough for
# clock skew between machines and for transactions still open when the rebuild began.
CATCH_UP_MARGIN = timedelta(minutes=5)
SOURCE_FIELDS = ["id", "location"]

_WORD = re.compile(r"\w+", re.UNICODE)

Progress = Callable[[int, int], None]


class SearchUnavailable(DomainError):
    """OpenSearch did not answer a search; the API answers 503."""

    status = 503


def index_body() -> dict:
    """Settings and mapping of a versioned offering index."""
    return {
        "settings": {
            "analysis": {
                "filter": {
                    "prefix_edge": {"type": "edge_ngram", "min_gram": 2, "max_gram": 20},
                },
                "analyzer": {
                    "folded": {"type": "custom", "tokenizer": "standard",
                               "filter": ["lowercase", "asciifolding"]},
                    "prefix_index": {"type": "custom", "tokenizer": "standard",
                                     "filter": ["lowercase", "asciifolding", "prefix_edge"]},
                },
                "normalizer": {
                    "sort_key": {"type": "custom", "filter": ["lowercase", "asciifolding"]},
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": {"type": "integer"},
                "provider_id": {"type": "integer"},
                "category_id": {"type": "integer"},
                "kind": {"type": "keyword"},
                "name": {
                    "type": "text",
                    "analyzer": "folded",
                    "fields": {
                        # Indexed as edge-ngrams, searched as whole words: "yog" finds "yoga".
                        "prefix": {"type": "text", "analyzer": "prefix_index",
                                   "search_analyzer": "folded"},
                        "keyword": {"type": "keyword", "normalizer": "sort_key",
                                    "ignore_above": 256},
                    },
                },
                "description": {"type": "text", "analyzer": "folded"},
                "price_minor": {"type": "long"},
                "currency": {"type": "keyword"},
                "location": {"type": "geo_point"},
                "active": {"type": "boolean"},
                "created_at": {"type": "date"},
                "updated_at": {"type": "date"},
            },
        },
    }


# -- the query --------------------------------------------------------------------------

def query_words(q: str | None) -> list[str]:
    return _WORD.findall(q or "")[:MAX_QUERY_WORDS]


def resolve_sort(query: OfferingQuery) -> str:
    """The sort actually applied, with the database backend's fallbacks."""
    has_text = bool(query_words(query.q))
    sort = query.sort or ("relevance" if has_text else "name")
    if sort == "relevance" and not has_text:
        sort = "distance" if query.near is not None else "name"
    if sort == "distance" and query.near is None:
        sort = "name"
    return sort


def candidate_sort(query: OfferingQuery) -> OfferingQuery:
    """The query whose order ranks candidates for an order OpenSearch cannot give."""
    return replace(query, sort=None)


def _geo_sort(near: tuple[float, float]) -> dict:
    lat, lng = near
    return {"_geo_distance": {"location": {"lat": lat, "lon": lng}, "order": "asc",
                              "unit": "km", "distance_type": "arc"}}


def sort_clauses(query: OfferingQuery) -> list[dict]:
    sort = resolve_sort(query)
    if sort == "relevance":
        clauses = [{"_score": {"order": "desc"}}]
        if query.near is not None:
            clauses.append(_geo_sort(query.near))
        return clauses + [{"price_minor": {"order": "asc"}}, {"id": {"order": "asc"}}]
    if sort == "distance":
        return [_geo_sort(query.near), {"id": {"order": "asc"}}]
    # Money is never compared across currencies: by currency first.
    if sort == "price":
        return [{"currency": {"order": "asc"}}, {"price_minor": {"order": "asc"}},
                {"id": {"order": "asc"}}]
    if sort == "-price":
        return [{"currency": {"order": "asc"}}, {"price_minor": {"order": "desc"}},
                {"id": {"order": "asc"}}]
    if sort == "newest":
        return [{"created_at": {"order": "desc"}}, {"id": {"order": "desc"}}]
    return [{"name.keyword": {"order": "asc"}}, {"id": {"order": "asc"}}]


def _filters(query: OfferingQuery) -> list[dict]:
    filters: list[dict] = [{"term": {"active": True}}]
    if query.provider_id is not None:
        filters.append({"term": {"provider_id": query.provider_id}})
    if query.category_id is not None:
        filters.append({"term": {"category_id": query.category_id}})
    if query.category_ids is not None:
        filters.append({"terms": {"category_id": list(query.category_ids)}})
    if query.kind is not None:
        filters.append({"term": {"kind": query.kind}})
    if query.currency is not None:
        filters.append({"term": {"currency": query.currency}})
    price = {}
    if query.min_price is not None:
        price["gte"] = query.min_price
    if query.max_price is not None:
        price["lte"] = query.max_price
    if price:
        filters.append({"range": {"price_minor": price}})
    if query.near is not None:
        filters.append({"exists": {"field": "location"}})
        if query.radius_km is not None:
            lat, lng = query.near
            filters.append({"geo_distance": {"distance": f"{query.radius_km}km",
                                             "location": {"lat": lat, "lon": lng}}})
    return filters


def build_search_body(query: OfferingQuery, *, offset: int, size: int) -> dict:
    """The ``_search`` body for ``query``, returning ``size`` hits from ``offset``."""
    words = query_words(query.q)
    boolean: dict = {"filter": _filters(query)}
    if words:
        boolean["must"] = [{"multi_match": {
            "query": " ".join(words),
            "fields": ["name^3", "name.prefix", "description"],
            "operator": "and",
            "fuzziness": "AUTO",
            "prefix_length": 1,
        }}]
    body = {
        "query": {"bool": boolean},
        "sort": sort_clauses(query),
        "from": offset,
        "size": size,
        "track_total_hits": True,
        "_source": SOURCE_FIELDS,
    }
    if words:
        body["track_scores"] = True  # a score on every hit, whatever the sort
    return body


def _geo_sort_position(query: OfferingQuery) -> int | None:
    for position, clause in enumerate(sort_clauses(query)):
        if "_geo_distance" in clause:
            return position
    return None


def _to_hit(raw: dict, query: OfferingQuery, geo_position: int | None) -> SearchHit:
    source = raw.get("_source") or {}
    offering_id = int(source.get("id", raw.get("_id")))
    distance = None
    if geo_position is not None:
        value = (raw.get("sort") or [])[geo_position]
        if isinstance(value, (int, float)) and math.isfinite(value):
            distance = float(value)
    elif query.near is not None and source.get("location"):
        location = source["location"]
        distance = haversine_km(query.near[0], query.near[1], location["lat"], location["lon"])
    score = raw.get("_score")
    return SearchHit(offering_id=offering_id,
                     distance_km=None if distance is None else round(distance, 3),
                     score=None if score is None else float(score))


def _total(answer: dict) -> int:
    total = answer["hits"]["total"]
    return int(total["value"] if isinstance(total, dict) else total)


# -- the database side ------------------------------------------------------------------

def _indexable():
    """Active offerings of active providers, with what a document needs."""
    return (
        select(Offering.id, Offering.provider_id, Offering.category_id, Offering.kind,
               Offering.name, Offering.description, Offering.price_minor, Offering.currency,
               Offering.active, Offering.created_at, Offering.updated_at,
               Location.lat, Location.lng)
        .join(Provider, Provider.id == Offering.provider_id)
        .outerjoin(Location, Location.id == Offering.location_id)
        .where(Offering.active.is_(True), Provider.active.is_(True))
    )


def _read(stmt) -> list:
    """Rows from a short connection of its own: no transaction stays open across the
    slow calls to OpenSearch, and the caller's session is left alone."""
    with db.engine.connect() as connection:
        return connection.execute(stmt).all()


def offering_document(row) -> dict:
    """The indexed document for one row of ``_indexable()``."""
    location = None
    if row.lat is not None and row.lng is not None:
        location = {"lat": row.lat, "lon": row.lng}
    return {
        "id": row.id,
        "provider_id": row.provider_id,
        "category_id": row.category_id,
        "kind": row.kind,
        "name": row.name,
        "description": row.description or "",
        "price_minor": row.price_minor,
        "currency": row.currency,
        "location": location,
        "active": bool(row.active),
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def available_offering_ids(offering_ids: list[int], available_from: datetime | None,
                           available_to: datetime | None) -> set[int]:
    """Which of ``offering_ids`` can be booked in the window: a slot starting in it with a
    free place, or a product with an active variant in stock. One SQL query."""
    if not offering_ids:
        return set()
    slots = select(Slot.offering_id).where(Slot.offering_id.in_(offering_ids),
                                           Slot.retired_at.is_(None),
                                           Slot.booked < Slot.capacity)
    if available_from is not None:
        slots = slots.where(Slot.starts_at >= available_from)
    if available_to is not None:
        slots = slots.where(Slot.starts_at < available_to)
    in_stock = (
        select(Variant.offering_id)
        .join(Offering, Offering.id == Variant.offering_id)
        .where(Variant.offering_id.in_(offering_ids), Offering.kind == PRODUCT,
               Variant.active.is_(True), Variant.stock.is_(None) | (Variant.stock > 0))
    )
    return set(db.session.scalars(union(slots, in_stock)))


def soonest_order(hits: list[SearchHit]) -> list[SearchHit]:
    """``hits`` by next free time; those with none after them, newest first."""
    ids = [hit.offering_id for hit in hits]
    if not ids:
        return []
    now = utcnow()
    first_free = dict(db.session.execute(
        select(Slot.offering_id, func.min(Slot.starts_at))
        .where(Slot.offering_id.in_(ids), Slot.starts_at >= now, Slot.retired_at.is_(None),
               Slot.booked < Slot.capacity)
        .group_by(Slot.offering_id)).all())
    created = dict(db.session.execute(
        select(Offering.id, Offering.created_at).where(Offering.id.in_(ids))).all())
    timed = sorted((hit for hit in hits if hit.offering_id in first_free),
                   key=lambda hit: (first_free[hit.offering_id], hit.offering_id))
    untimed = sorted((hit for hit in hits if hit.offering_id not in first_free),
                     key=lambda hit: (created.get(hit.offering_id) or now, hit.offering_id),
                     reverse=True)
    return timed + untimed


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


# -- the backend ------------------------------------------------------------------------

class OpenSearchBackend:
    name = "opensearch"

    def __init__(self, gateway: OpenSearchGateway, *, alias: str,
                 batch_size: int = BATCH_SIZE) -> None:
        self.gateway = gateway
        self.alias = alias
        self.batch_size = batch_size

    @classmethod
    def from_config(cls, config) -> OpenSearchBackend:
        timeout = float(config.get("OPENSEARCH_TIMEOUT") or DEFAULT_TIMEOUT)
        gateway = OpenSearchGateway.from_url(config["OPENSEARCH_URL"], timeout=timeout)
        return cls(gateway, alias=config.get("OPENSEARCH_INDEX") or "bookwell-offerings")

    # -- search -------------------------------------------------------------------------

    def search(self, query: OfferingQuery) -> SearchPage:
        if resolve_sort(query) == "soonest":
            return self._search_soonest(query)
        geo_position = _geo_sort_position(query)
        if query.available_from is None and query.available_to is None:
            if query.offset + query.page_size > MAX_RESULT_WINDOW:
                answer = self._search(build_search_body(query, offset=0, size=0))
                return SearchPage(hits=[], total=_total(answer))
            answer = self._search(build_search_body(query, offset=query.offset,
                                                    size=query.page_size))
            hits = [_to_hit(raw, query, geo_position) for raw in answer["hits"]["hits"]]
            return SearchPage(hits=hits, total=_total(answer))

        answer = self._search(build_search_body(query, offset=0, size=CANDIDATE_LIMIT))
        ranked = [_to_hit(raw, query, geo_position) for raw in answer["hits"]["hits"]]
        free = available_offering_ids([hit.offering_id for hit in ranked],
                                      query.available_from, query.available_to)
        kept = [hit for hit in ranked if hit.offering_id in free]
        return SearchPage(hits=kept[query.offset:query.offset + query.page_size],
                          total=len(kept))

    def _search_soonest(self, query: OfferingQuery) -> SearchPage:
        ranking = candidate_sort(query)
        answer = self._search(build_search_body(ranking, offset=0, size=CANDIDATE_LIMIT))
        geo_position = _geo_sort_position(ranking)
        ranked = [_to_hit(raw, ranking, geo_position) for raw in answer["hits"]["hits"]]
        if query.available_from is not None or query.available_to is not None:
            free = available_offering_ids([hit.offering_id for hit in ranked],
                                          query.available_from, query.available_to)
            ranked = [hit for hit in ranked if hit.offering_id in free]
            total = len(ranked)
        else:
            total = _total(answer)
        ordered = soonest_order(ranked)
        return SearchPage(hits=ordered[query.offset:query.offset + query.page_size],
                          total=total)

    def _search(self, body: dict) -> dict:
        try:
            return self.gateway.search(self.alias, body)
        except OpenSearchError as exc:
            log.error("offering search failed: %s", exc)
            if exc.error_type == "index_not_found_exception":
                raise SearchUnavailable(
                    "search.unavailable",
                    "Search is not ready yet: the index has not been built.") from exc
            raise SearchUnavailable("search.unavailable",
                                    "Search is unavailable right now; try again.") from exc

    # -- incremental updates ------------------------------------------------------------

    def index_offerings(self, offering_ids: Iterable[int]) -> None:
        """Upsert the indexable ones among ``offering_ids``; remove the others (inactive,
        of an inactive provider, or deleted)."""
        ids = sorted({int(i) for i in offering_ids})
        if not ids:
            return
        self._ensure_alias()
        for chunk in _chunks(ids, self.batch_size):
            rows = _read(_indexable().where(Offering.id.in_(chunk)).order_by(Offering.id))
            found = {row.id for row in rows}
            actions = [self._index_action(self.alias, row) for row in rows]
            actions += [self._delete_action(i) for i in chunk if i not in found]
            self.gateway.bulk(actions)

    def remove_offerings(self, offering_ids: Iterable[int]) -> None:
        ids = sorted({int(i) for i in offering_ids})
        if not ids or not self.gateway.alias_targets(self.alias):
            return  # nothing indexed yet, nothing to remove
        for chunk in _chunks(ids, self.batch_size):
            self.gateway.bulk([self._delete_action(i) for i in chunk])

    @staticmethod
    def _index_action(index: str, row) -> dict:
        return {"_op_type": "index", "_index": index, "_id": str(row.id),
                "_source": offering_document(row)}

    def _delete_action(self, offering_id: int) -> dict:
        return {"_op_type": "delete", "_index": self.alias, "_id": str(offering_id)}

    def _ensure_alias(self) -> None:
        """Incremental writes go through the alias; never let them auto-create an index
        with a guessed mapping. Without an alias, put an empty, properly mapped index
        behind it (a fixed name, so concurrent workers agree) and ask for a rebuild."""
        if self.gateway.alias_targets(self.alias):
            return
        index = f"{self.alias}-initial"
        self.gateway.ensure_index(index, index_body())
        stray = self.gateway.index_exists(self.alias)
        self.gateway.switch_alias(self.alias, index, drop_index_named_like_alias=stray)
        log.warning("search alias %s was missing: created the empty index %s; run "
                    "`flask bookwell reindex` to index the existing offerings",
                    self.alias, index)

    # -- full rebuild -------------------------------------------------------------------

    def rebuild(self, progress: Progress | None = None) -> int:
        """Index every indexable offering into a new index, switch the alias to it, delete
        the old index. Returns how many offerings were indexed."""
        report = progress or (lambda done, total: None)
        started = utcnow()
        index = f"{self.alias}-{started:%Y%m%d%H%M%S%f}"
        self.gateway.ensure_index(index, index_body())
        indexed: list[int] = []
        try:
            total = _read(select(func.count()).select_from(_indexable().subquery()))[0][0]
            report(0, total)
            for rows in self._batches():
                self.gateway.bulk([self._index_action(index, row) for row in rows])
                indexed.extend(row.id for row in rows)
                report(len(indexed), max(total, len(indexed)))
            self.gateway.refresh(index)
            old = self.gateway.alias_targets(self.alias)
            stray = not old and self.gateway.index_exists(self.alias)
            self.gateway.switch_alias(self.alias, index, remove_from=old,
                                      drop_index_named_like_alias=stray)
        except BaseException:
            self._discard(index)
            raise
        for name in old:
            if name != index:
                self.gateway.delete_index(name)
        self._catch_up(started - CATCH_UP_MARGIN, indexed)
        log.info("search index %s built with %d offerings; alias %s switched from %s",
                 index, len(indexed), self.alias, ", ".join(old) or "nothing")
        return len(indexed)

    def _batches(self) -> Iterator[list]:
        """Keyset pages in id order, each read on a short connection of its own."""
        last_id = 0
        while True:
            rows = _read(_indexable().where(Offering.id > last_id)
                         .order_by(Offering.id).limit(self.batch_size))
            if not rows:
                return
            yield rows
            last_id = rows[-1].id

    def _catch_up(self, since: datetime, indexed: list[int]) -> None:
        """Apply what changed while the rebuild ran, now through the switched alias:
        offerings written since ``since``, and indexed ones that stopped being indexable
        (deleted, deactivated, provider deactivated)."""
        stale = {row.id for row in _read(select(Offering.id)
                                         .where(Offering.updated_at >= since))}
        for chunk in _chunks(indexed, self.batch_size):
            still = {row.id for row in _read(_indexable().where(Offering.id.in_(chunk))
                                             .with_only_columns(Offering.id))}
            stale.update(i for i in chunk if i not in still)
        if stale:
            self.index_offerings(sorted(stale))

    def _discard(self, index: str) -> None:
        try:
            self.gateway.delete_index(index)
        except OpenSearchError:
            log.exception("could not delete the unfinished search index %s", index)
