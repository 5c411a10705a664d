"""The search results contract, checked on every backend that can run here.

The same seeded catalog, the same queries, the same expected offering ids, for:
- ``database``: always (SQLite or PostgreSQL, whichever the suite runs on);
- ``opensearch``: a REAL OpenSearch server, when ``OPENSEARCH_URL`` is set in the
  environment (e.g. ``OPENSEARCH_URL=http://127.0.0.1:9200``). Each test builds its own
  uniquely named index and alias there and deletes them afterwards. Without the variable
  these cases are skipped, with the reason below: relevance, analyzers (prefixes),
  fuzziness (typos) and geo math are exactly what the in-process stand-in cannot check.

Typo tolerance is an OpenSearch feature only, so that test runs on the real server only.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.models import Offering
from app.services import search_indexing
from app.geo import haversine_km
from app.services.search import OfferingQuery, SearchPage, get_backend, search_offerings
from tests.fakes.opensearch import NOT_CHECKED, search_settings

OPENSEARCH_URL = os.environ.get("OPENSEARCH_URL")
NO_SERVER = (
    "OPENSEARCH_URL is not set: the OpenSearch side of the search contract needs a real "
    "server (e.g. OPENSEARCH_URL=http://127.0.0.1:9200) because the in-process stand-in "
    "cannot check: " + "; ".join(item.split(":")[0] for item in NOT_CHECKED)
)
real_opensearch = pytest.mark.skipif(not OPENSEARCH_URL, reason=NO_SERVER)

MITTE = (52.5200, 13.4050)
KREUZBERG = (52.4986, 13.4030)  # 2.4 km from Mitte
POTSDAM = (52.3906, 13.0645)  # 27 km
HAMBURG = (53.5511, 9.9937)  # 255 km
WINDOW = datetime(2030, 6, 3, 8, 0, tzinfo=timezone.utc)


class Search:
    """One backend under contract: make it current, then query it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def ready(self) -> None:
        """After seeding: the index (if any) reflects the database."""
        if self.name == "opensearch":
            assert search_indexing.reindex_all() > 0
            self._refresh()

    def changed(self, offering_ids: list[int]) -> None:
        """After a committed change: what the indexing job does, made visible at once."""
        search_indexing.sync_offerings(offering_ids)
        if self.name == "opensearch":
            self._refresh()

    def _refresh(self) -> None:
        backend = get_backend()
        backend.gateway.refresh(backend.alias)

    def page(self, **query) -> SearchPage:
        return search_offerings(OfferingQuery(**query))

    def ids(self, **query) -> list[int]:
        return [hit.offering_id for hit in self.page(**query).hits]


@pytest.fixture(params=["database", pytest.param("opensearch", marks=real_opensearch)])
def search(request, app, app_ctx):
    if request.param == "database":
        with search_settings(app, OPENSEARCH_URL=None):
            yield Search("database")
        return
    alias = f"bookwell-contract-{uuid.uuid4().hex[:10]}"
    with search_settings(app, OPENSEARCH_URL=OPENSEARCH_URL, OPENSEARCH_INDEX=alias):
        try:
            yield Search("opensearch")
        finally:
            gateway = get_backend().gateway
            for index in gateway.alias_targets(alias):
                gateway.delete_index(index)


@dataclass
class Catalog:
    morning_yoga: int
    yoga_retreat: int
    massage: int
    massage_oil: int
    pilates: int
    inactive_yoga: int
    hidden_yoga: int
    wellness: int
    provider_b: int


@pytest.fixture
def catalog(build) -> Catalog:
    provider_a = build.provider()
    provider_b = build.provider()
    closed = build.provider(active=False)
    wellness = build.category(provider_a, name="Wellness")

    def place(provider_id, point):
        return build.location(provider_id, lat=point[0], lng=point[1])

    def offering(provider_id, day, **fields):
        created = datetime(2025, 1, day, tzinfo=timezone.utc)
        return build.offering(provider_id, created_at=created, updated_at=created, **fields)

    mitte = place(provider_a, MITTE)
    catalog = Catalog(
        morning_yoga=offering(provider_a, 1, name="Morning Yoga", price_minor=2500,
                              description="Gentle vinyasa flow for early risers",
                              location_id=mitte, category_id=wellness),
        yoga_retreat=offering(provider_a, 2, name="Yoga Retreat Weekend", price_minor=30000,
                              description="Two days by the lakes",
                              location_id=place(provider_a, POTSDAM)),
        massage=offering(provider_a, 3, name="Deep Tissue Massage", price_minor=6000,
                         description="A firm, relaxing oil massage",
                         location_id=place(provider_a, KREUZBERG), category_id=wellness),
        massage_oil=offering(provider_a, 4, name="Massage Oil", kind="product",
                             price_minor=1500, description="Lavender scented"),
        pilates=offering(provider_b, 5, name="Pilates Class", price_minor=2000,
                         description="Core strength", location_id=place(provider_b, HAMBURG)),
        inactive_yoga=offering(provider_a, 6, name="Sunset Yoga", price_minor=1000,
                               active=False, location_id=mitte),
        hidden_yoga=offering(closed, 7, name="Hidden Yoga", price_minor=1000,
                             location_id=place(closed, MITTE)),
        wellness=wellness,
        provider_b=provider_b,
    )
    build.variant(catalog.massage_oil, stock=3)
    return catalog


def test_text_matches_whole_words_prefixes_and_descriptions(search, catalog):
    search.ready()
    yoga = {catalog.morning_yoga, catalog.yoga_retreat}  # never inactive or hidden ones
    for q in ("yoga", "YOGA", "yog"):
        page = search.page(q=q)
        assert set(h.offering_id for h in page.hits) == yoga and page.total == 2, q
        assert all(h.score is not None for h in page.hits)
    assert set(search.ids(q="massage")) == {catalog.massage, catalog.massage_oil}
    assert search.ids(q="vinyasa") == [catalog.morning_yoga]
    assert search.ids(q="yoga weekend") == [catalog.yoga_retreat]  # every word must match
    assert search.page(q="snorkelling").total == 0


@real_opensearch
def test_typos_still_match_on_opensearch(app, app_ctx, build):
    alias = f"bookwell-contract-{uuid.uuid4().hex[:10]}"
    with search_settings(app, OPENSEARCH_URL=OPENSEARCH_URL, OPENSEARCH_INDEX=alias):
        search = Search("opensearch")
        try:
            provider_id = build.provider()
            yoga = build.offering(provider_id, name="Morning Yoga")
            retreat = build.offering(provider_id, name="Yoga Retreat Weekend")
            massage = build.offering(provider_id, name="Deep Tissue Massage")
            search.ready()
            assert set(search.ids(q="yoag")) == {yoga, retreat}
            assert search.ids(q="masage") == [massage]
            assert search.ids(q="retreet") == [retreat]
        finally:
            gateway = get_backend().gateway
            for index in gateway.alias_targets(alias):
                gateway.delete_index(index)


def test_near_with_radius_filters_and_reports_distances(search, catalog):
    search.ready()
    page = search.page(near=MITTE, radius_km=10, sort="distance")
    assert [h.offering_id for h in page.hits] == [catalog.morning_yoga, catalog.massage]
    assert page.total == 2
    expected = [0.0, haversine_km(*MITTE, *KREUZBERG)]
    assert [h.distance_km for h in page.hits] == pytest.approx(expected, abs=0.05)
    assert search.ids(near=MITTE, radius_km=30, sort="distance") == [
        catalog.morning_yoga, catalog.massage, catalog.yoga_retreat]


def test_near_without_radius_orders_every_located_offering(search, catalog):
    search.ready()
    page = search.page(near=MITTE, sort="distance")
    assert [h.offering_id for h in page.hits] == [
        catalog.morning_yoga, catalog.massage, catalog.yoga_retreat, catalog.pilates]
    assert page.total == 4  # the oil has no location
    assert page.hits[-1].distance_km == pytest.approx(haversine_km(*MITTE, *HAMBURG), abs=0.1)
    relevance = search.page(q="yoga", near=MITTE)
    assert {h.offering_id: round(h.distance_km) for h in relevance.hits} == {
        catalog.morning_yoga: 0, catalog.yoga_retreat: 27}


def test_price_range_is_inclusive(search, catalog):
    search.ready()
    assert search.ids(min_price=2000, max_price=6000, sort="price") == [
        catalog.pilates, catalog.morning_yoga, catalog.massage]
    assert search.ids(max_price=1500) == [catalog.massage_oil]


def test_sorts(search, catalog):
    search.ready()
    assert search.ids(sort="-price") == [catalog.yoga_retreat, catalog.massage,
                                         catalog.morning_yoga, catalog.pilates,
                                         catalog.massage_oil]
    by_name = [catalog.massage, catalog.massage_oil, catalog.morning_yoga, catalog.pilates,
               catalog.yoga_retreat]
    assert search.ids(sort="name") == by_name
    assert search.ids() == by_name  # the default without q
    assert search.ids(sort="newest") == [catalog.pilates, catalog.massage_oil,
                                         catalog.massage, catalog.yoga_retreat,
                                         catalog.morning_yoga]


def test_pages_are_stable_and_complete(search, catalog):
    search.ready()
    pages = [search.page(sort="price", page=n, page_size=2) for n in (1, 2, 3, 4)]
    assert [[h.offering_id for h in p.hits] for p in pages] == [
        [catalog.massage_oil, catalog.pilates], [catalog.morning_yoga, catalog.massage],
        [catalog.yoga_retreat], []]
    assert {p.total for p in pages} == {5}


def test_term_filters(search, catalog):
    search.ready()
    assert search.ids(kind="product") == [catalog.massage_oil]
    assert search.ids(provider_id=catalog.provider_b) == [catalog.pilates]
    assert search.ids(category_id=catalog.wellness, sort="price") == [
        catalog.morning_yoga, catalog.massage]


def test_availability_window(search, catalog, build):
    build.slot(catalog.morning_yoga, WINDOW + timedelta(hours=2), capacity=4, booked=3)
    build.slot(catalog.massage, WINDOW + timedelta(hours=3), capacity=1, booked=1)  # full
    build.slot(catalog.yoga_retreat, WINDOW + timedelta(days=3))  # outside the window
    search.ready()
    page = search.page(available_from=WINDOW, available_to=WINDOW + timedelta(days=1),
                       sort="price")
    assert [h.offering_id for h in page.hits] == [catalog.massage_oil, catalog.morning_yoga]
    assert page.total == 2


def test_changes_reach_the_results(search, catalog):
    search.ready()
    db.session.get(Offering, catalog.morning_yoga).price_minor = 99_999
    db.session.get(Offering, catalog.massage).active = False
    db.session.commit()
    search.changed([catalog.morning_yoga, catalog.massage])
    assert search.ids(sort="-price") == [catalog.morning_yoga, catalog.yoga_retreat,
                                         catalog.pilates, catalog.massage_oil]


def test_prices_are_compared_within_a_currency_only(search, catalog, build):
    dollars = build.offering(catalog.provider_b, name="Brooklyn Pilates", price_minor=100,
                             currency="USD")
    pricey_dollars = build.offering(catalog.provider_b, name="Manhattan Retreat",
                                    price_minor=900_000, currency="USD")
    search.ready()
    euros = [catalog.massage_oil, catalog.pilates, catalog.morning_yoga, catalog.massage,
             catalog.yoga_retreat]
    # Currency first (alphabetically), then the price within it: never 1.00 USD between
    # 15.00 EUR and 20.00 EUR.
    assert search.ids(sort="price") == euros + [dollars, pricey_dollars]
    assert search.ids(sort="-price") == euros[::-1] + [pricey_dollars, dollars]
    assert search.ids(currency="USD", sort="price") == [dollars, pricey_dollars]


def test_soonest_free_time_first_then_the_rest_newest_first(search, catalog, build):
    soon = datetime.now(timezone.utc).replace(microsecond=0)
    build.slot(catalog.massage, soon + timedelta(hours=5))
    build.slot(catalog.massage, soon + timedelta(hours=1), capacity=2, booked=2)  # full
    build.slot(catalog.pilates, soon + timedelta(hours=3))
    build.slot(catalog.pilates, soon - timedelta(hours=3))  # over
    build.slot(catalog.morning_yoga, soon + timedelta(days=2))
    search.ready()
    timed = [catalog.pilates, catalog.massage, catalog.morning_yoga]
    untimed_newest_first = [catalog.massage_oil, catalog.yoga_retreat]
    assert search.ids(sort="soonest") == timed + untimed_newest_first
    pages = [search.page(sort="soonest", page=n, page_size=2) for n in (1, 2, 3)]
    assert [[h.offering_id for h in p.hits] for p in pages] == [
        timed[:2], timed[2:] + untimed_newest_first[:1], untimed_newest_first[1:]]
    assert {p.total for p in pages} == {5}
    near = search.page(sort="soonest", near=MITTE, radius_km=10)
    assert [(h.offering_id, round(h.distance_km, 1)) for h in near.hits] == [
        (catalog.massage, 2.4), (catalog.morning_yoga, 0.0)]
    assert search.ids(sort="soonest", q="yoga") == [catalog.morning_yoga,
                                                    catalog.yoga_retreat]


def test_soonest_reads_past_a_long_first_stretch_of_one_offerings_slots(search, catalog,
                                                                         build):
    from app.services import search_db

    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)
    for n in range(6):  # more free slots of one offering than the first read takes
        build.slot(catalog.massage, start + timedelta(minutes=n))
    build.slot(catalog.pilates, start + timedelta(days=1))
    search.ready()
    saved = search_db.SOONEST_SCAN
    search_db.SOONEST_SCAN = 3
    try:
        assert search.ids(sort="soonest", page_size=1) == [catalog.massage]
        assert search.ids(sort="soonest", page_size=3) == [
            catalog.massage, catalog.pilates, catalog.massage_oil]
    finally:
        search_db.SOONEST_SCAN = saved


def test_any_of_several_categories(search, catalog, build):
    provider_a = db.session.get(Offering, catalog.morning_yoga).provider_id
    relax = build.category(provider_a, name="Relax")
    db.session.get(Offering, catalog.yoga_retreat).category_id = relax
    db.session.commit()
    search.ready()
    assert search.ids(category_ids=(catalog.wellness, relax), sort="price") == [
        catalog.morning_yoga, catalog.massage, catalog.yoga_retreat]
    assert search.ids(category_ids=()) == []
