"""The public catalog API: filters, search, distance, availability, pagination, ETags."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.models import Offering, Provider
from tests.helpers import assert_error_shape

BERLIN = (52.5200, 13.4050)
POTSDAM = (52.3906, 13.0645)   # about 27 km from Berlin
MUNICH = (48.1374, 11.5755)    # about 504 km


@pytest.fixture
def catalog(build):
    """Two providers: yoga in Berlin and Potsdam, a barber in Munich, a product."""
    yoga = build.provider(name="Harbor Yoga", timezone="Europe/Berlin")
    barber = build.provider(name="Cut Club", timezone="Europe/Berlin", currency="EUR")
    berlin = build.location(yoga, lat=BERLIN[0], lng=BERLIN[1])
    potsdam = build.location(yoga, lat=POTSDAM[0], lng=POTSDAM[1])
    munich = build.location(barber, lat=MUNICH[0], lng=MUNICH[1])
    classes = build.category(yoga, name="Classes")
    ids = {
        "vinyasa": build.offering(yoga, name="Vinyasa Flow Yoga", price_minor=1800,
                                  location_id=berlin, category_id=classes,
                                  description="Dynamic yoga class for all levels"),
        "yin": build.offering(yoga, name="Yin Yoga", price_minor=1500, location_id=potsdam,
                              category_id=classes, description="Slow stretching"),
        "haircut": build.offering(barber, name="Classic Haircut", price_minor=3000,
                                  location_id=munich, description="Scissors and clippers"),
        "mat": build.offering(yoga, kind="product", name="Yoga Mat", price_minor=4500),
        "hidden": build.offering(yoga, name="Retired Yoga Workshop", active=False),
    }
    build.variant(ids["mat"], name="Blue", stock=3)
    ids.update(yoga=yoga, barber=barber, classes=classes)
    return ids


def _names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()]


def test_lists_only_active_offerings_of_active_providers_by_name(client, catalog):
    assert _names(client.get("/api/v1/offerings")) == [
        "Classic Haircut", "Vinyasa Flow Yoga", "Yin Yoga", "Yoga Mat"]
    db.session.get(Provider, catalog["barber"]).active = False
    db.session.commit()
    assert "Classic Haircut" not in _names(client.get("/api/v1/offerings"))


def test_text_search_matches_word_prefixes_and_ranks(client, catalog):
    assert set(_names(client.get("/api/v1/offerings?q=yoga"))) == {
        "Vinyasa Flow Yoga", "Yin Yoga", "Yoga Mat"}
    assert _names(client.get("/api/v1/offerings?q=scis")) == ["Classic Haircut"]
    assert _names(client.get("/api/v1/offerings?q=yoga%20dynamic")) == ["Vinyasa Flow Yoga"]
    assert _names(client.get("/api/v1/offerings?q=zzzz")) == []


@pytest.mark.parametrize("query, expected", [
    ("kind=product", ["Yoga Mat"]),
    ("min_price=1600&max_price=3000", ["Classic Haircut", "Vinyasa Flow Yoga"]),
    ("sort=price", ["Yin Yoga", "Vinyasa Flow Yoga", "Classic Haircut", "Yoga Mat"]),
    ("sort=-price", ["Yoga Mat", "Classic Haircut", "Vinyasa Flow Yoga", "Yin Yoga"]),
])
def test_filters_and_sorts(client, catalog, query, expected):
    assert _names(client.get(f"/api/v1/offerings?{query}")) == expected


def test_category_and_provider_filters(client, catalog):
    assert _names(client.get(f"/api/v1/offerings?category={catalog['classes']}")) == [
        "Vinyasa Flow Yoga", "Yin Yoga"]
    assert _names(client.get(f"/api/v1/offerings?provider={catalog['barber']}")) == [
        "Classic Haircut"]


def test_near_me_filters_by_radius_and_sorts_by_distance(client, catalog):
    near = f"{BERLIN[0]},{BERLIN[1]}"
    response = client.get(f"/api/v1/offerings?near={near}&radius_km=50&sort=distance")
    body = response.get_json()
    assert [item["name"] for item in body] == ["Vinyasa Flow Yoga", "Yin Yoga"]
    assert body[0]["distance_km"] == pytest.approx(0, abs=0.01)
    assert body[1]["distance_km"] == pytest.approx(27, abs=2)
    everything = client.get(f"/api/v1/offerings?near={near}&sort=distance").get_json()
    assert everything[-1]["name"] == "Classic Haircut"
    assert everything[-1]["distance_km"] == pytest.approx(504, abs=5)


def test_availability_window_keeps_services_with_free_places(client, catalog, build):
    start = datetime(2030, 5, 6, 9, tzinfo=timezone.utc)
    build.slot(catalog["vinyasa"], start, capacity=2, booked=2)        # full
    build.slot(catalog["yin"], start + timedelta(hours=1), capacity=2, booked=1)
    build.slot(catalog["haircut"], start + timedelta(days=3), capacity=1)  # outside
    window = "available_from=2030-05-06T00:00:00Z&available_to=2030-05-07T00:00:00Z"
    assert _names(client.get(f"/api/v1/offerings?{window}")) == ["Yin Yoga", "Yoga Mat"]


def test_pagination_header_and_stable_pages(client, catalog):
    first = client.get("/api/v1/offerings?page_size=3")
    second = client.get("/api/v1/offerings?page_size=3&page=2")
    meta = json.loads(first.headers["X-Pagination"])
    assert meta == {"total": 4, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 1,
                    "next_page": 2}
    assert len(_names(first)) == 3 and len(_names(second)) == 1
    assert not set(_names(first)) & set(_names(second))


@pytest.mark.parametrize("query, field", [
    ("radius_km=5", "radius_km"),
    ("near=91,0", "near"),
    ("near=abc", "near"),
    ("sort=distance", "sort"),
    ("min_price=10&max_price=5", "max_price"),
    ("kind=gift", "kind"),
    ("page_size=1000", "page_size"),
    ("available_from=2030-01-02T00:00:00Z&available_to=2030-01-01T00:00:00Z", "available_to"),
    ("available_from=2030-01-02T00:00:00", "available_from"),
])
def test_bad_query_arguments_are_422(client, catalog, query, field):
    body = assert_error_shape(client.get(f"/api/v1/offerings?{query}"), 422)
    assert field in body["errors"], body


def test_offering_detail_has_variants_location_and_next_free_slots(client, catalog, build):
    soon = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    build.slot(catalog["vinyasa"], soon, capacity=1, booked=1)  # full: not "free"
    free = build.slot(catalog["vinyasa"], soon + timedelta(hours=2), capacity=3, booked=1)
    body = client.get(f"/api/v1/offerings/{catalog['vinyasa']}").get_json()
    assert body["location"]["lat"] == pytest.approx(BERLIN[0])
    assert [s["id"] for s in body["next_slots"]] == [free]
    assert body["next_slots"][0]["remaining"] == 2
    assert body["provider"]["timezone"] == "Europe/Berlin"
    mat = client.get(f"/api/v1/offerings/{catalog['mat']}").get_json()
    assert [(v["name"], v["price_minor"], v["in_stock"]) for v in mat["variants"]] == [
        ("Blue", 4500, True)]


def test_inactive_or_missing_offering_is_404(client, catalog):
    assert_error_shape(client.get(f"/api/v1/offerings/{catalog['hidden']}"), 404,
                       "offering.not_found")
    assert_error_shape(client.get("/api/v1/offerings/999999"), 404, "offering.not_found")
    assert_error_shape(client.get("/api/v1/offerings/999999/slots"), 404)


def test_slots_in_utc_and_local_time_with_remaining_places(client, catalog, build):
    start = datetime(2030, 7, 1, 7, 0, tzinfo=timezone.utc)  # 09:00 in Berlin (summer)
    build.slot(catalog["vinyasa"], start, capacity=5, booked=2)
    build.slot(catalog["vinyasa"], start + timedelta(days=20), capacity=5)
    window = "from=2030-07-01T00:00:00Z&to=2030-07-15T00:00:00Z"
    body = client.get(f"/api/v1/offerings/{catalog['vinyasa']}/slots?{window}").get_json()
    assert len(body) == 1
    assert body[0]["starts_at"].startswith("2030-07-01T07:00:00")
    assert body[0]["starts_at_local"] == "2030-07-01T09:00:00+02:00"
    assert body[0]["timezone"] == "Europe/Berlin" and body[0]["remaining"] == 3
    too_long = "from=2030-07-01T00:00:00Z&to=2030-12-01T00:00:00Z"
    assert_error_shape(client.get(f"/api/v1/offerings/{catalog['vinyasa']}/slots?{too_long}"),
                       422, "slots.window_too_long")


def test_etag_gives_304_until_something_changes(client, catalog):
    first = client.get("/api/v1/offerings")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/offerings", headers={"If-None-Match": etag})
    assert again.status_code == 304
    offering = db.session.get(Offering, catalog["yin"])
    offering.name = "Yin Yoga Deep"
    db.session.commit()
    changed = client.get("/api/v1/offerings", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Yin Yoga Deep" in _names(changed)


def test_providers_list_and_detail(client, catalog):
    names = [p["name"] for p in client.get("/api/v1/providers").get_json()]
    assert names == ["Cut Club", "Harbor Yoga"]
    assert client.get(f"/api/v1/providers/{catalog['yoga']}").get_json()["name"] == \
        "Harbor Yoga"
    assert_error_shape(client.get("/api/v1/providers/424242"), 404, "provider.not_found")
