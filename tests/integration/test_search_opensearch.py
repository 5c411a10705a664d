"""The OpenSearch backend against the in-process stand-in (``tests/fakes/opensearch.py``).

The real ``opensearch-py`` client talks HTTP to the stand-in, so these tests pin the exact
request bodies (query, sort, pagination, bulk documents, alias switches) and what the
backend does with the answers. What the stand-in cannot judge (``NOT_CHECKED``: relevance,
analyzers, fuzziness, geo math) is covered by ``test_search_contract.py`` against a real
server.
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app import jobqueue
from app.errors import DomainError
from app.extensions import db
from app.models import Offering, OutboxEvent, Provider
from app.models.events import DONE, FAILED
from app.models.types import utcnow
from app.redis import redis_client
from app.progress import ProgressReporter
from app.services import search_indexing
from app.geo import haversine_km
from app.services.transactions import unit_of_work
from app.services.search import OfferingQuery, SearchHit, get_backend, search_offerings
from app.services.scopes import Scope
from app.services.search_opensearch import (
    CANDIDATE_LIMIT,
    OpenSearchBackend,
    SearchUnavailable,
    build_search_body,
    index_body,
)
from tests.fakes.opensearch import NOT_CHECKED, FakeIndex, FakeOpenSearch, search_settings

ALIAS = "test-offerings"
LONG_AGO = utcnow() - timedelta(days=2)  # before any rebuild's catch-up window
BERLIN = (52.52, 13.405)
ACTIVE = {"term": {"active": True}}
BY_ID = {"id": {"order": "asc"}}


@pytest.fixture
def fake():
    with FakeOpenSearch() as server:
        yield server


@pytest.fixture
def opensearch(app, app_ctx, fake):
    """The app configured for OpenSearch at the stand-in; the backend built from config."""
    with search_settings(app, OPENSEARCH_URL=fake.url, OPENSEARCH_INDEX=ALIAS):
        yield fake


@pytest.fixture
def database_search(app, app_ctx):
    """The database backend, even when the environment sets OPENSEARCH_URL."""
    with search_settings(app, OPENSEARCH_URL=None):
        yield


@pytest.fixture
def backend(opensearch) -> OpenSearchBackend:
    backend = get_backend()
    assert isinstance(backend, OpenSearchBackend) and backend.alias == ALIAS
    return backend


@pytest.fixture
def redis_jobs(app):
    """Jobs go to RQ: the real Redis when TEST_REDIS_URL is set, fakeredis otherwise."""
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = saved or "redis://fakeredis"
    yield jobqueue.get_queue("default")
    app.config["REDIS_URL"] = saved


@pytest.fixture
def inline_jobs(app):
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    yield
    app.config["REDIS_URL"] = saved


def offering(build, provider_id: int, **fields) -> int:
    """An offering last changed long ago, so a rebuild's catch-up leaves it alone."""
    fields.setdefault("created_at", LONG_AGO)
    fields.setdefault("updated_at", LONG_AGO)
    return build.offering(provider_id, **fields)


def hit(offering_id: int, *, location=None, sort=None, score=None) -> dict:
    raw = {"_index": f"{ALIAS}-x", "_id": str(offering_id), "_score": score,
           "_source": {"id": offering_id, "location": location}}
    if sort is not None:
        raw["sort"] = sort
    return raw


def answer(*hits: dict, total: int | None = None) -> dict:
    return {"took": 1, "timed_out": False,
            "hits": {"total": {"value": len(hits) if total is None else total,
                               "relation": "eq"},
                     "max_score": None, "hits": list(hits)}}


def _only(items):
    (item,) = items
    return item


# -- the stand-in says what it cannot check ---------------------------------------------

def test_the_stand_in_lists_what_it_cannot_check(fake, backend):
    text = " ".join(NOT_CHECKED).lower()
    for limit in ("relevance", "analyzers", "fuzziness", "geo math"):
        assert limit in text
    assert backend.rebuild() == 0  # an empty, searchable index
    for query in (OfferingQuery(near=BERLIN, radius_km=5),
                  OfferingQuery(near=BERLIN, sort="distance")):
        with pytest.raises(SearchUnavailable) as caught:  # refused, never ignored
            backend.search(query)
        reason = str(caught.value.__cause__)
        assert "does not implement" in reason and "see NOT_CHECKED" in reason


# -- the query body ---------------------------------------------------------------------

def test_text_query_matches_name_prefix_and_description_with_typo_tolerance():
    body = build_search_body(OfferingQuery(q="  Yoga, class! "), offset=0, size=20)
    assert body == {
        "query": {"bool": {
            "filter": [ACTIVE],
            "must": [{"multi_match": {
                "query": "Yoga class",
                "fields": ["name^3", "name.prefix", "description"],
                "operator": "and",
                "fuzziness": "AUTO",
                "prefix_length": 1,
            }}],
        }},
        "sort": [{"_score": {"order": "desc"}}, {"price_minor": {"order": "asc"}}, BY_ID],
        "from": 0,
        "size": 20,
        "track_total_hits": True,
        "track_scores": True,
        "_source": ["id", "location"],
    }


def test_punctuation_only_q_is_no_text_query():
    body = build_search_body(OfferingQuery(q=" !? "), offset=0, size=5)
    assert body["query"] == {"bool": {"filter": [ACTIVE]}}
    assert "track_scores" not in body
    assert body["sort"] == [{"name.keyword": {"order": "asc"}}, BY_ID]


def test_every_filter_is_a_filter_clause():
    query = OfferingQuery(provider_id=7, category_id=3, kind="service", min_price=1000,
                          max_price=5000, near=BERLIN, radius_km=12.5, sort="price")
    body = build_search_body(query, offset=0, size=20)
    assert body["query"] == {"bool": {"filter": [
        ACTIVE,
        {"term": {"provider_id": 7}},
        {"term": {"category_id": 3}},
        {"term": {"kind": "service"}},
        {"range": {"price_minor": {"gte": 1000, "lte": 5000}}},
        {"exists": {"field": "location"}},
        {"geo_distance": {"distance": "12.5km", "location": {"lat": 52.52, "lon": 13.405}}},
    ]}}


@pytest.mark.parametrize(("fields", "expected"), [
    ({"min_price": 0}, {"range": {"price_minor": {"gte": 0}}}),
    ({"max_price": 900}, {"range": {"price_minor": {"lte": 900}}}),
    ({"near": BERLIN}, {"exists": {"field": "location"}}),  # no radius: no distance filter
])
def test_open_ranges_and_near_without_radius(fields, expected):
    body = build_search_body(OfferingQuery(**fields), offset=0, size=20)
    assert body["query"] == {"bool": {"filter": [ACTIVE, expected]}}


def test_radius_without_near_is_ignored():
    body = build_search_body(OfferingQuery(radius_km=3), offset=0, size=20)
    assert body["query"] == {"bool": {"filter": [ACTIVE]}}


GEO = {"_geo_distance": {"location": {"lat": 52.52, "lon": 13.405}, "order": "asc",
                         "unit": "km", "distance_type": "arc"}}


@pytest.mark.parametrize(("fields", "expected"), [
    ({"q": "yoga"}, [{"_score": {"order": "desc"}}, {"price_minor": {"order": "asc"}}, BY_ID]),
    ({"q": "yoga", "near": BERLIN},
     [{"_score": {"order": "desc"}}, GEO, {"price_minor": {"order": "asc"}}, BY_ID]),
    ({}, [{"name.keyword": {"order": "asc"}}, BY_ID]),
    ({"sort": "relevance"}, [{"name.keyword": {"order": "asc"}}, BY_ID]),
    ({"sort": "relevance", "near": BERLIN}, [GEO, BY_ID]),
    ({"sort": "distance", "near": BERLIN}, [GEO, BY_ID]),
    ({"sort": "distance"}, [{"name.keyword": {"order": "asc"}}, BY_ID]),
    # Money is compared within a currency only.
    ({"q": "yoga", "sort": "price"},
     [{"currency": {"order": "asc"}}, {"price_minor": {"order": "asc"}}, BY_ID]),
    ({"sort": "-price"},
     [{"currency": {"order": "asc"}}, {"price_minor": {"order": "desc"}}, BY_ID]),
    ({"sort": "name"}, [{"name.keyword": {"order": "asc"}}, BY_ID]),
    ({"sort": "newest"}, [{"created_at": {"order": "desc"}}, {"id": {"order": "desc"}}]),
])
def test_sort_clauses_end_with_an_id_tiebreak(fields, expected):
    assert build_search_body(OfferingQuery(**fields), offset=0, size=20)["sort"] == expected


def test_pages_become_from_and_size(backend, fake):
    fake.script_search(answer(total=0))
    backend.search(OfferingQuery(page=3, page_size=7))
    body = _only(fake.search_bodies())
    assert (body["from"], body["size"], body["track_total_hits"]) == (14, 7, True)


def test_a_page_beyond_the_result_window_only_counts(backend, fake):
    fake.script_search(answer(total=12_345))
    page = backend.search(OfferingQuery(page=501, page_size=20))
    assert (page.hits, page.total) == ([], 12_345)
    body = _only(fake.search_bodies())
    assert (body["from"], body["size"]) == (0, 0)


# -- answers become SearchHits ----------------------------------------------------------

def test_distance_comes_from_the_geo_sort_value(backend, fake):
    fake.script_search(answer(hit(4, location={"lat": 1, "lon": 1}, sort=[0.43219, 4]),
                              hit(9, location={"lat": 2, "lon": 2}, sort=[12.0, 9])))
    page = backend.search(OfferingQuery(near=BERLIN, sort="distance"))
    assert page.hits == [SearchHit(4, distance_km=0.432), SearchHit(9, distance_km=12.0)]
    assert page.total == 2


def test_relevance_near_reads_the_second_sort_value_and_keeps_scores(backend, fake):
    fake.script_search(answer(hit(5, sort=[3.5, 2.25, 2500, 5], score=3.5)))
    page = backend.search(OfferingQuery(q="yoga", near=BERLIN))
    assert page.hits == [SearchHit(5, distance_km=2.25, score=3.5)]


def test_distance_is_computed_from_the_location_under_other_sorts(backend, fake):
    potsdam = {"lat": 52.3906, "lon": 13.0645}
    fake.script_search(answer(hit(1, location=potsdam, sort=[900, 1]),
                              hit(2, location=None, sort=[1000, 2])))
    page = backend.search(OfferingQuery(near=BERLIN, sort="price"))
    expected = round(haversine_km(*BERLIN, potsdam["lat"], potsdam["lon"]), 3)
    assert page.hits == [SearchHit(1, distance_km=expected), SearchHit(2)]
    assert 26 < expected < 28


def test_without_near_there_is_no_distance(backend, fake):
    fake.script_search(answer(hit(3, location={"lat": 1.0, "lon": 2.0}, sort=["a", 3])))
    assert backend.search(OfferingQuery()).hits == [SearchHit(3)]


# -- indexing ---------------------------------------------------------------------------

def test_index_offerings_upserts_documents_through_the_alias(backend, fake, build):
    provider_id = build.provider()
    category_id = build.category(provider_id)
    location_id = build.location(provider_id, lat=52.5, lng=13.4)
    service = offering(build, provider_id, name="Morning Yoga", description="Flow",
                       price_minor=2500, location_id=location_id, category_id=category_id)
    product = offering(build, provider_id, kind="product", name="Mat", price_minor=3999,
                       currency="USD")

    backend.index_offerings([product, service, service])

    assert fake.aliases == {ALIAS: {f"{ALIAS}-initial"}}  # mapped index made on first use
    assert _only(fake.calls("PUT")).body == index_body()
    lines = _only(fake.bulk_requests())
    assert lines == [
        {"index": {"_id": str(service), "_index": ALIAS}},
        {"id": service, "provider_id": provider_id, "category_id": category_id,
         "kind": "service", "name": "Morning Yoga", "description": "Flow",
         "price_minor": 2500, "currency": "EUR", "location": {"lat": 52.5, "lon": 13.4},
         "active": True, "created_at": LONG_AGO.isoformat(),
         "updated_at": LONG_AGO.isoformat()},
        {"index": {"_id": str(product), "_index": ALIAS}},
        {"id": product, "provider_id": provider_id, "category_id": None, "kind": "product",
         "name": "Mat", "description": "", "price_minor": 3999, "currency": "USD",
         "location": None, "active": True, "created_at": LONG_AGO.isoformat(),
         "updated_at": LONG_AGO.isoformat()},
    ]
    assert set(fake.documents(ALIAS)) == {str(service), str(product)}


def test_inactive_hidden_and_deleted_offerings_are_removed(backend, fake, build):
    provider_id = build.provider()
    closed_provider = build.provider(active=False)
    kept = offering(build, provider_id)
    inactive = offering(build, provider_id, active=False)
    hidden = offering(build, closed_provider)
    deleted = offering(build, provider_id)
    backend.index_offerings([kept])
    db.session.delete(db.session.get(Offering, deleted))
    db.session.commit()
    fake.clear_log()

    backend.index_offerings([kept, inactive, hidden, deleted])

    lines = _only(fake.bulk_requests())
    assert lines[0] == {"index": {"_id": str(kept), "_index": ALIAS}}
    assert lines[2:] == [{"delete": {"_id": str(i), "_index": ALIAS}}
                         for i in sorted([inactive, hidden, deleted])]
    assert set(fake.documents(ALIAS)) == {str(kept)}


def test_remove_offerings_deletes_and_tolerates_missing_documents(backend, fake, build):
    provider_id = build.provider()
    first, second = offering(build, provider_id), offering(build, provider_id)
    backend.remove_offerings([first])  # no index yet: nothing to do, nothing created
    assert fake.indices == {} and fake.bulk_requests() == []

    backend.index_offerings([first, second])
    backend.remove_offerings([second, 10_000])
    assert fake.bulk_requests()[-1] == [{"delete": {"_id": str(second), "_index": ALIAS}},
                                        {"delete": {"_id": "10000", "_index": ALIAS}}]
    assert set(fake.documents(ALIAS)) == {str(first)}


def test_a_rejected_document_raises(backend, fake, build, monkeypatch):
    from app.gateways.opensearch import BulkError
    from app.services import search_opensearch

    original = search_opensearch.offering_document
    monkeypatch.setattr(search_opensearch, "offering_document",
                        lambda row: {**original(row), "surprise": 1})
    with pytest.raises(BulkError) as caught:
        backend.index_offerings([offering(build, build.provider())])
    assert "strict_dynamic_mapping_exception" in str(caught.value)


# -- full rebuild -----------------------------------------------------------------------

def _seed(build, count: int, provider_id: int | None = None) -> list[int]:
    provider_id = provider_id or build.provider()
    return [offering(build, provider_id, name=f"Offering {i}", price_minor=100 * i)
            for i in range(count)]


def test_rebuild_fills_a_new_index_in_batches_and_switches_the_alias(backend, fake, build):
    ids = _seed(build, 5)
    offering(build, ids and db.session.get(Offering, ids[0]).provider_id, active=False)
    backend.batch_size = 2
    first = backend.rebuild()
    old_index = _only(fake.aliases[ALIAS])
    fake.clear_log()
    progress = []

    assert backend.rebuild(progress=lambda done, total: progress.append((done, total))) == 5

    new_index = _only(fake.aliases[ALIAS])
    assert first == 5 and new_index != old_index and new_index.startswith(f"{ALIAS}-")
    assert set(fake.indices) == {new_index}  # the old one is deleted
    create = _only(fake.calls("PUT"))
    assert (create.path, create.body) == (f"/{new_index}", index_body())
    batches = fake.bulk_requests()
    assert [len(lines) // 2 for lines in batches] == [2, 2, 1]
    assert {line["index"]["_index"] for lines in batches for line in lines[::2]} == {new_index}
    assert [int(line["index"]["_id"]) for lines in batches for line in lines[::2]] == ids
    assert _only(fake.calls("POST", r"/_aliases")).body == {"actions": [
        {"remove": {"index": old_index, "alias": ALIAS}},
        {"add": {"index": new_index, "alias": ALIAS}},
    ]}
    order = [(r.method, r.path) for r in fake.requests if r.method != "GET"]
    assert order.index(("POST", f"/{new_index}/_refresh")) < order.index(("POST", "/_aliases"))
    assert order[-1] == ("DELETE", f"/{old_index}")
    assert progress == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert set(fake.documents(ALIAS)) == {str(i) for i in ids}


def test_rebuild_catches_up_with_changes_made_while_it_ran(backend, fake, build):
    other_provider = build.provider()
    elsewhere = offering(build, other_provider)
    ids = _seed(build, 4)
    backend.batch_size = 3

    def meanwhile(done, total):
        if done == 3:  # elsewhere, ids[0] and ids[1] are already in the new index
            db.session.get(Offering, ids[0]).name = "Renamed"
            db.session.delete(db.session.get(Offering, ids[1]))
            db.session.get(Provider, other_provider).active = False
            db.session.commit()

    assert backend.rebuild(progress=meanwhile) == 5
    documents = fake.documents(ALIAS)
    assert set(documents) == {str(ids[0]), str(ids[2]), str(ids[3])}
    assert documents[str(ids[0])]["name"] == "Renamed"
    assert str(elsewhere) not in documents


def test_a_failed_rebuild_leaves_the_live_index_alone(backend, fake, build, monkeypatch):
    from app.gateways.opensearch import BulkError
    from app.services import search_opensearch

    ids = _seed(build, 3)
    backend.rebuild()
    live = _only(fake.aliases[ALIAS])
    monkeypatch.setattr(search_opensearch, "offering_document",
                        lambda row: {"id": row.id, "unmapped": True})
    with pytest.raises(BulkError):
        backend.rebuild()
    assert fake.aliases == {ALIAS: {live}} and set(fake.indices) == {live}
    assert set(fake.documents(ALIAS)) == {str(i) for i in ids}


def test_rebuild_replaces_a_stray_index_named_like_the_alias(backend, fake, build):
    ids = _seed(build, 2)
    fake.indices[ALIAS] = FakeIndex(body={}, docs={"999": {"name": "auto-created"}})
    backend.rebuild()
    assert set(fake.documents(ALIAS)) == {str(i) for i in ids}
    assert ALIAS not in fake.indices
    assert {"remove_index": {"index": ALIAS}} in _only(
        fake.calls("POST", r"/_aliases")).body["actions"]


def test_search_reads_through_the_alias_after_a_rebuild(backend, fake, build):
    provider_id = build.provider()
    other = build.provider()
    cheap = offering(build, provider_id, name="Yoga basics", price_minor=900)
    offering(build, provider_id, name="Yoga mat", kind="product", price_minor=1900)
    dear = offering(build, provider_id, name="Private yoga", price_minor=9000)
    offering(build, other, name="Yoga elsewhere", price_minor=1000)
    backend.rebuild()

    page = search_offerings(OfferingQuery(provider_id=provider_id, kind="service",
                                          min_price=500, sort="-price"))
    assert page.hits == [SearchHit(dear), SearchHit(cheap)] and page.total == 2
    page = search_offerings(OfferingQuery(q="yoga", sort="price", page=2, page_size=3))
    assert [h.offering_id for h in page.hits] == [dear] and page.total == 4
    assert page.hits[0].score == 1.0  # the stand-in scores every match 1.0


# -- soonest free time, ordered over the candidates -----------------------------------

def test_soonest_orders_the_candidates_by_next_free_time(backend, fake, build):
    provider_id = build.provider()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    later, sooner, full, product = (
        offering(build, provider_id, name=name, kind=kind, created_at=now - timedelta(days=d))
        for name, kind, d in (("Later", "service", 4), ("Sooner", "service", 3),
                              ("Full", "service", 2), ("Mat", "product", 1)))
    build.slot(later, now + timedelta(days=2))
    build.slot(sooner, now + timedelta(hours=2))
    build.slot(full, now + timedelta(hours=1), capacity=1, booked=1)
    backend.rebuild()
    fake.clear_log()

    page = backend.search(OfferingQuery(sort="soonest", page_size=3))

    assert [h.offering_id for h in page.hits] == [sooner, later, product]
    assert page.total == 4
    body = _only(fake.search_bodies())
    assert (body["from"], body["size"]) == (0, CANDIDATE_LIMIT)
    assert body["sort"] == [{"name.keyword": {"order": "asc"}}, BY_ID]  # the candidates
    assert backend.search(OfferingQuery(sort="soonest", page=2, page_size=3)).hits == [
        SearchHit(full)]


def test_currency_and_categories_are_filters(backend, fake):
    fake.script_search(answer(total=0))
    backend.search(OfferingQuery(currency="USD", category_ids=(3, 4)))
    filters = _only(fake.search_bodies())["query"]["bool"]["filter"]
    assert {"term": {"currency": "USD"}} in filters
    assert {"terms": {"category_id": [3, 4]}} in filters


# -- availability post-filter -----------------------------------------------------------

def test_availability_keeps_rank_order_and_pages_in_memory(backend, fake, build):
    provider_id = build.provider()
    window_start = datetime(2030, 1, 7, 8, 0, tzinfo=timezone.utc)
    ids = [offering(build, provider_id, price_minor=100 * (i + 1)) for i in range(7)]
    free_a, full, free_b, outside, _no_slots, free_c, boundary = ids
    build.slot(free_a, window_start + timedelta(hours=1), capacity=2, booked=1)
    build.slot(full, window_start + timedelta(hours=2), capacity=2, booked=2)
    build.slot(free_b, window_start, capacity=1)
    build.slot(outside, window_start - timedelta(hours=1), capacity=3)
    build.slot(free_c, window_start + timedelta(hours=3), capacity=3, booked=2)
    build.slot(boundary, window_start + timedelta(hours=4), capacity=3)  # starts at the end
    product_in_stock = offering(build, provider_id, kind="product", price_minor=5000)
    build.variant(product_in_stock, stock=2)
    product_sold_out = offering(build, provider_id, kind="product", price_minor=6000)
    build.variant(product_sold_out, stock=0)
    backend.rebuild()
    fake.clear_log()

    window = dict(available_from=window_start,
                  available_to=window_start + timedelta(hours=4), sort="price", page_size=2)
    pages = [backend.search(OfferingQuery(page=n, **window)) for n in (1, 2, 3)]

    assert [[h.offering_id for h in p.hits] for p in pages] == [
        [free_a, free_b], [free_c, product_in_stock], []]
    assert {p.total for p in pages} == {4}
    body = fake.search_bodies()[0]
    assert (body["from"], body["size"]) == (0, CANDIDATE_LIMIT)


def test_availability_follows_the_ranking_it_is_given(backend, fake, build):
    provider_id = build.provider()
    start = datetime(2030, 3, 1, 9, 0, tzinfo=timezone.utc)
    ids = [offering(build, provider_id) for _ in range(3)]
    for offering_id in ids:
        build.slot(offering_id, start)
    ranked = [ids[2], ids[0], ids[1]]
    fake.script_search(answer(*[hit(i, sort=[1.0, 0, i], score=9.0 - n)
                                for n, i in enumerate(ranked)]))
    page = backend.search(OfferingQuery(q="anything", available_from=start))
    assert [h.offering_id for h in page.hits] == ranked
    assert [h.score for h in page.hits] == [9.0, 8.0, 7.0]


# -- failures surface as 503 ------------------------------------------------------------

def test_search_before_any_index_is_a_clear_503(backend):
    with pytest.raises(SearchUnavailable) as caught:
        backend.search(OfferingQuery(q="yoga"))
    assert (caught.value.status, caught.value.code) == (503, "search.unavailable")
    assert "not been built" in caught.value.message


def test_an_unreachable_server_is_a_503(app, app_ctx):
    backend = OpenSearchBackend.from_config(
        {"OPENSEARCH_URL": "http://127.0.0.1:9", "OPENSEARCH_INDEX": ALIAS,
         "OPENSEARCH_TIMEOUT": 1})
    with pytest.raises(SearchUnavailable) as caught:
        backend.search(OfferingQuery())
    assert caught.value.status == 503


# -- catalog changes reach the index through the outbox; CLI helpers ---------------------

def _offering_events():
    db.session.expire_all()
    return db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == search_indexing.TOPIC).order_by(OutboxEvent.created_at)).all()


def test_with_the_database_backend_a_change_is_recorded_and_nobody_indexes(
        database_search, build, redis_jobs):
    from app.services import catalog

    provider_id = build.provider()
    offering_id = offering(build, provider_id, name="Yoga")
    catalog.update(catalog.OFFERING, row_id=offering_id, scope=Scope.of_provider(provider_id),
                   changes={"name": "Hot yoga"})
    [event] = _offering_events()
    assert event.payload == {"offering_ids": [offering_id]} and event.status == DONE
    assert jobqueue.get_queue("events").count == 0  # nothing listens: nothing dispatched


def test_an_offering_change_reaches_the_index_through_the_outbox_inline(
        backend, fake, build, inline_jobs):
    from app.services import catalog

    provider_id = build.provider()
    offering_id = offering(build, provider_id, name="Yoga")
    fake.clear_log()

    catalog.update(catalog.OFFERING, row_id=offering_id, scope=Scope.of_provider(provider_id),
                   changes={"name": "Hot yoga"})

    assert fake.documents(ALIAS)[str(offering_id)]["name"] == "Hot yoga"
    [event] = _offering_events()
    assert event.status == DONE and event.provider_id == provider_id


def test_an_offering_change_is_indexed_by_the_events_worker(backend, fake, build,
                                                            redis_jobs):
    from app.services import catalog

    provider_id = build.provider()
    created = catalog.create(catalog.OFFERING, scope=Scope.of_provider(provider_id), data=dict(
        name="Massage", kind="service", price_minor=5000, duration_minutes=60))
    events_queue = jobqueue.get_queue("events")
    assert events_queue.count == 1 and fake.bulk_requests() == []  # queued, not run

    SimpleWorker([events_queue], connection=redis_client()).work(burst=True)

    assert str(created.id) in fake.documents(ALIAS)
    assert _only(_offering_events()).status == DONE


def test_a_failed_change_rolls_back_with_its_announcement(backend, fake, build,
                                                          inline_jobs):
    from app.services import catalog

    provider_id = build.provider()
    with pytest.raises(DomainError):
        catalog.create(catalog.OFFERING, scope=Scope.of_provider(provider_id), data=dict(
            name="", kind="service", price_minor=-1, duration_minutes=60))
    assert _offering_events() == [] and fake.bulk_requests() == []


def test_indexing_failures_are_retried_by_the_sweep(app, backend, fake, build, inline_jobs):
    from app.services import catalog, sweeps

    provider_id = build.provider()
    offering_id = offering(build, provider_id, name="Yoga")
    with search_settings(app, OPENSEARCH_URL="http://127.0.0.1:9", OPENSEARCH_INDEX=ALIAS,
                         OPENSEARCH_TIMEOUT=1):
        catalog.update(catalog.OFFERING, row_id=offering_id, scope=Scope.of_provider(provider_id),
                       changes={"name": "Hot yoga"})  # the change commits all the same
    [event] = _offering_events()
    assert event.status == FAILED and fake.bulk_requests() == []

    counts = sweeps.sweep_pending()  # the server is back

    assert counts["search_indexing"] == 1
    assert fake.documents(ALIAS)[str(offering_id)]["name"] == "Hot yoga"
    assert _only(_offering_events()).status == DONE
    assert sweeps.sweep_pending()["search_indexing"] == 0


def test_large_changes_are_split_into_events(backend, build, redis_jobs):
    provider_id = build.provider()
    ids = list(range(1, search_indexing.EVENT_BATCH * 2 + 2))
    with unit_of_work():
        assert search_indexing.announce_changed(ids, provider_id=provider_id) == 3
    assert [len(event.payload["offering_ids"]) for event in _offering_events()] == [
        search_indexing.EVENT_BATCH, search_indexing.EVENT_BATCH, 1]


def test_reindex_all_needs_opensearch(database_search):
    with pytest.raises(DomainError) as caught:
        search_indexing.reindex_all()
    assert caught.value.code == "search.not_configured"


def test_reindex_all_rebuilds_and_reports_progress(backend, fake, build):
    _seed(build, 3)
    stream = io.StringIO()
    reporter = ProgressReporter(stream, tty=False)
    assert search_indexing.reindex_all(progress=reporter) == 3
    assert stream.getvalue().splitlines()[-1].startswith("indexed 3/3 (100%)")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_on_a_terminal_redraws_one_line():
    stream, clock = io.StringIO(), Clock()
    reporter = ProgressReporter(stream, tty=True, width=10, clock=clock)
    reporter(0, 4000)
    clock.now += 2
    reporter(1000, 4000)
    reporter(2000, 4000)  # too soon after the last redraw: skipped
    clock.now += 2
    reporter(4000, 4000)
    reporter(4000, 4000)  # finished: ignored
    assert stream.getvalue() == (
        "\rindexed [----------] 0/4,000   0% 0/s"
        "\rindexed [##--------] 1,000/4,000  25% 500/s"
        "\rindexed [##########] 4,000/4,000 100% 1,000/s\n")


def test_progress_in_a_log_is_a_line_every_ten_percent():
    stream, clock = io.StringIO(), Clock()
    reporter = ProgressReporter(stream, tty=False, clock=clock)
    for done in range(0, 1001, 50):
        clock.now += 1
        reporter(done, 1000)
    lines = stream.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == [f"{n:,}/1,000" for n in range(0, 1001, 100)]
    assert lines[-1] == "indexed 1,000/1,000 (100%) 48/s"


def test_progress_with_nothing_to_do():
    stream = io.StringIO()
    ProgressReporter(stream, tty=False)(0, 0)
    assert stream.getvalue().startswith("indexed 0/0 (100%)")


def test_deactivating_a_provider_in_the_console_removes_its_offerings(
        app, backend, fake, build, inline_jobs):
    from tests.views.console import signed_in

    provider_id = build.provider(name="Gone Spa")
    kept = offering(build, provider_id, name="Sauna")
    backend.index_offerings([kept])
    fake.clear_log()
    admin = signed_in(app, build.email_of(build.admin()))

    response = admin.post(f"/providerview/edit/{provider_id}", data={
        "name": "Gone Spa", "slug": "gone-spa", "timezone": "UTC", "currency": "EUR"})

    assert response.status_code == 302
    deletes = [line for request in fake.bulk_requests() for line in request if "delete" in line]
    assert deletes == [{"delete": {"_id": str(kept), "_index": ALIAS}}]


def test_deleting_a_category_reindexes_its_offerings(app, backend, fake, build, inline_jobs):
    from app.services import catalog

    provider_id = build.provider()
    category_id = build.category(provider_id)
    member = offering(build, provider_id, name="Facial", category_id=category_id)
    fake.clear_log()

    catalog.delete(catalog.CATEGORY, row_id=category_id, scope=Scope.of_provider(provider_id))

    indexed = [line for request in fake.bulk_requests() for line in request
               if line.get("id") == member]
    assert indexed and indexed[0]["category_id"] is None
