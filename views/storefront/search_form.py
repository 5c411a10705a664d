"""The storefront's search form, read from the query string: what to look for, where,
how far, in which category, in which order. Nonsense is ignored, never an error.

A typed place is looked up once: the results page is then redirected to the same search
with the place's point (``lat``, ``lng``) and ``placed``, the text that point belongs to,
so paging and sorting do not look it up again. With no place typed, a point counts only
with ``here=1``: the browser's location, filled in by ``near_me.js`` with the customer's
permission (clearing the place field searches everywhere again).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from flask import request, url_for

from app.services.search import OfferingQuery
from views.storefront.blueprint import PAGE_SIZE

RADII_KM = (2, 5, 10, 25, 50, 100)
DEFAULT_RADIUS_KM = 25
SORTS = ("relevance", "distance", "soonest", "price", "-price")
KINDS = ("service", "product")


def _float(value: str | None, low: float, high: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


@dataclass(frozen=True)
class SearchForm:
    q: str = ""
    kind: str = ""
    category: str = ""
    place: str = ""
    placed: str = ""
    lat: float | None = None
    lng: float | None = None
    here: bool = False  # the point is the browser's location
    radius_km: int | None = DEFAULT_RADIUS_KM  # None: any distance
    sort: str = ""
    page: int = 1

    @classmethod
    def from_request(cls) -> SearchForm:
        args = request.args
        radius = args.get("radius_km", "")
        lat = _float(args.get("lat"), -90, 90)
        lng = _float(args.get("lng"), -180, 180)
        return cls(
            q=(args.get("q") or "").strip()[:200],
            kind=args.get("kind") if args.get("kind") in KINDS else "",
            category=(args.get("category") or "").strip()[:120],
            place=" ".join((args.get("place") or "").split())[:200],
            placed=" ".join((args.get("placed") or "").split())[:200],
            lat=lat if lng is not None else None,
            lng=lng if lat is not None else None,
            here=args.get("here") == "1",
            radius_km=None if radius == "any" else (
                int(radius) if radius.isdigit() and int(radius) in RADII_KM
                else DEFAULT_RADIUS_KM),
            sort=args.get("sort") if args.get("sort") in SORTS else "",
            page=max(1, min(args.get("page", 1, type=int) or 1, 1000)),
        )

    @property
    def needs_place_lookup(self) -> bool:
        """A place was typed that the point (if any) does not belong to."""
        return bool(self.place) and (self.lat is None or self.placed != self.place)

    @property
    def near(self) -> tuple[float, float] | None:
        if self.lat is None or self.needs_place_lookup or not (self.place or self.here):
            return None
        return self.lat, self.lng

    @property
    def near_device(self) -> bool:
        """Searching near the browser's location (no place typed)."""
        return self.near is not None and not self.place

    @property
    def effective_sort(self) -> str:
        """The order used: the one chosen if it applies, else best match for words,
        nearest for a place, soonest free time otherwise."""
        sort = self.sort
        if sort == "relevance" and not self.q or sort == "distance" and not self.near:
            sort = ""
        return sort or ("relevance" if self.q else "distance" if self.near else "soonest")

    def query(self, category_ids: tuple[int, ...] | None = None, *,
              provider_id: int | None = None) -> OfferingQuery:
        near = self.near
        return OfferingQuery(q=self.q or None, kind=self.kind or None,
                             category_ids=category_ids, provider_id=provider_id,
                             near=near, radius_km=self.radius_km if near else None,
                             sort=self.effective_sort, page=self.page, page_size=PAGE_SIZE)

    def args(self, **changes) -> dict:
        """The query string of this search with ``changes``, without empty values."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        if values.get("radius_km") is None:
            values["radius_km"] = "any"
        values["here"] = "1" if values.get("here") else ""
        return {name: value for name, value in values.items()
                if value not in (None, "") and not (name == "page" and value == 1)}

    def everywhere_url(self) -> str:
        """This search without its place."""
        return self.url(place="", placed="", lat=None, lng=None, here=False, page=1,
                        sort="" if self.sort == "distance" else self.sort)

    def url(self, **changes) -> str:
        """This page (the search, or a provider's page) with ``changes``."""
        return url_for(request.endpoint, **(request.view_args or {}), **self.args(**changes))

    def with_place(self, lat: float, lng: float) -> SearchForm:
        return replace(self, lat=lat, lng=lng, placed=self.place, page=1)
