"""Saving a location through the provider API geocodes its address (Google stand-in)."""
from __future__ import annotations

import pytest

from tests.fakes.google_maps import GEOCODE_PATH, geocoded, google_maps_for
from tests.helpers import api_login, bearer

ADDRESS = "Alexanderplatz 1, 10178 Berlin"


@pytest.fixture
def google_maps(app):
    with google_maps_for(app, REDIS_URL=None) as fake:
        fake.answer_geocode(ADDRESS, geocoded(52.5219, 13.4132, place_id="ChIJ-alex"))
        yield fake


@pytest.fixture
def staff_headers(client, build):
    return bearer(api_login(client, build.email_of(build.staff(build.provider())))[
        "access_token"])


def test_an_address_is_geocoded_on_save(client, google_maps, staff_headers):
    response = client.post("/api/v1/provider/locations", headers=staff_headers,
                           json={"name": "Alex", "address": ADDRESS})
    assert response.status_code == 201, response.get_json()
    location_id = response.get_json()["id"]

    body = client.get(f"/api/v1/provider/locations/{location_id}",
                      headers=staff_headers).get_json()
    assert (body["lat"], body["lng"], body["place_id"], body["geocode_status"]) == (
        52.5219, 13.4132, "ChIJ-alex", "ok")
    assert len(google_maps.requests_to(GEOCODE_PATH)) == 1

    renamed = client.patch(f"/api/v1/provider/locations/{location_id}",
                           headers=staff_headers, json={"name": "Alexanderplatz"})
    assert renamed.get_json()["geocode_status"] == "ok"
    assert len(google_maps.requests_to(GEOCODE_PATH)) == 1  # same address: not asked again


def test_typed_coordinates_win_over_geocoding(client, google_maps, staff_headers):
    response = client.post("/api/v1/provider/locations", headers=staff_headers, json={
        "name": "Roof", "address": ADDRESS, "lat": 52.50, "lng": 13.40})
    body = response.get_json()
    assert (body["lat"], body["lng"], body["geocode_status"]) == (52.50, 13.40, "manual")
    assert google_maps.requests_to(GEOCODE_PATH) == []
