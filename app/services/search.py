"""Offering search: one contract, two backends.

The database backend (default) answers everything in SQL: PostgreSQL full-text search
with a GIN index, SQLite FTS5 in embedded mode. The OpenSearch backend (``OPENSEARCH_URL``)
adds typo tolerance and prefix matching at scale. Both return the same ``SearchPage``:
offering ids in result order, with the distance when a ``near`` point was given.

Relevance ordering (``sort="relevance"``, the default with ``q``): text rank first, then
distance when ``near`` is given, then price, then id, so pages are stable. Without ``q``
the default order is name, then id.

Money is never compared across currencies: ``price`` and ``-price`` order by currency
first (alphabetically), then by price within it. ``soonest`` orders services by their
next free time (a slot from now on with a free place); offerings with none (products,
fully booked services) follow, newest first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from flask import current_app

SORTS = ("relevance", "price", "-price", "distance", "name", "newest", "soonest")


@dataclass(frozen=True)
class OfferingQuery:
    q: str | None = None
    category_id: int | None = None
    category_ids: tuple[int, ...] | None = None  # any of these (a category and its children)
    kind: str | None = None
    currency: str | None = None  # ISO 4217
    provider_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    near: tuple[float, float] | None = None  # (lat, lng)
    radius_km: float | None = None
    available_from: datetime | None = None
    available_to: datetime | None = None
    sort: str | None = None  # None: relevance with q, name without
    page: int = 1
    page_size: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class SearchHit:
    offering_id: int
    distance_km: float | None = None
    score: float | None = None


@dataclass
class SearchPage:
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0


class SearchBackend(Protocol):
    name: str

    def search(self, query: OfferingQuery) -> SearchPage: ...

    def index_offerings(self, offering_ids: list[int]) -> None: ...

    def remove_offerings(self, offering_ids: list[int]) -> None: ...


def get_backend() -> SearchBackend:
    """The configured backend, built once per app."""
    backend = current_app.extensions.get("bookwell.search")
    if backend is None:
        if current_app.config.get("OPENSEARCH_URL"):
            from app.services.search_opensearch import OpenSearchBackend

            backend = OpenSearchBackend.from_config(current_app.config)
        else:
            from app.services.search_db import DatabaseSearchBackend

            backend = DatabaseSearchBackend()
        current_app.extensions["bookwell.search"] = backend
    return backend


def search_offerings(query: OfferingQuery) -> SearchPage:
    return get_backend().search(query)
