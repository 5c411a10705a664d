"""Free places are never served stale: with the catalog cache on (Redis, or the fakeredis
stand-in), bookings, cancellations, expiries and reschedules show on the very next read
of a service's slots and of its next free slots, and none of them invalidates the
cached catalog."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Booking
from app.redis import redis_client
from app.services import bookings
from app.services.cache import GENERATION_KEY
from tests.helpers import api_login, bearer


@pytest.fixture
def shop(build, client, cache_on):
    provider = build.provider(timezone="Europe/Berlin")
    offering = build.offering(provider, price_minor=3000)
    customer = build.customer()
    return {
        "offering": offering,
        "first": build.future_slot(offering, days=2, capacity=2),
        "second": build.future_slot(offering, days=3, capacity=1),
        "headers": bearer(api_login(client, build.email_of(customer))["access_token"]),
    }


def _remaining(client, shop, **query) -> dict[int, int]:
    """Slot id: places left, as the default window of the listing shows them."""
    response = client.get(f"/api/v1/offerings/{shop['offering']}/slots",
                          query_string=query)
    assert response.status_code == 200, response.get_json()
    return {slot["id"]: slot["remaining"] for slot in response.get_json()}


def _next_free(client, shop) -> dict[int, int]:
    body = client.get(f"/api/v1/offerings/{shop['offering']}").get_json()
    return {slot["id"]: slot["remaining"] for slot in body["next_slots"]}


def _generation() -> int:
    return int(redis_client().get(GENERATION_KEY) or 0)


def _book(client, shop, slot: str, quantity: int = 1) -> str:
    response = client.post("/api/v1/bookings", headers=shop["headers"], json={
        "offering_id": shop["offering"], "slot_id": shop[slot], "quantity": quantity})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["reference"]


def _read_everything(client, shop) -> None:
    """Fill the cache with every listing the tests look at."""
    _remaining(client, shop)
    _remaining(client, shop, only_free="true")
    _next_free(client, shop)


def test_a_booking_shows_at_once_without_invalidating_the_catalog(client, shop):
    _read_everything(client, shop)
    generation = _generation()

    _book(client, shop, "second")

    assert _remaining(client, shop) == {shop["first"]: 2, shop["second"]: 0}
    assert _remaining(client, shop, only_free="true") == {shop["first"]: 2}
    assert _next_free(client, shop) == {shop["first"]: 2}
    assert _generation() == generation  # the cached catalog part is still valid


def test_a_cancellation_gives_the_places_back_at_once(client, shop):
    reference = _book(client, shop, "first", quantity=2)
    _read_everything(client, shop)

    cancelled = client.post(f"/api/v1/bookings/{reference}/cancel", headers=shop["headers"])

    assert cancelled.status_code == 200, cancelled.get_json()
    assert _remaining(client, shop) == {shop["first"]: 2, shop["second"]: 1}
    assert _remaining(client, shop, only_free="true") == {shop["first"]: 2,
                                                          shop["second"]: 1}
    assert _next_free(client, shop) == {shop["first"]: 2, shop["second"]: 1}


def test_an_expired_hold_gives_the_places_back_at_once(client, shop):
    reference = _book(client, shop, "second")
    _read_everything(client, shop)
    assert shop["second"] not in _next_free(client, shop)

    hold_ends = db.session.scalar(db.select(Booking.hold_expires_at)
                                  .where(Booking.reference == reference))
    assert bookings.expire_holds(scope=bookings.Scope.all_providers(), now=hold_ends + timedelta(seconds=1)) == 1

    assert _remaining(client, shop)[shop["second"]] == 1
    assert _next_free(client, shop)[shop["second"]] == 1


def test_a_reschedule_moves_the_places_at_once(client, shop):
    reference = _book(client, shop, "first")
    _read_everything(client, shop)

    moved = client.post(f"/api/v1/bookings/{reference}/reschedule", headers=shop["headers"],
                        json={"slot_id": shop["second"]})

    assert moved.status_code == 200, moved.get_json()
    assert _remaining(client, shop) == {shop["first"]: 2, shop["second"]: 0}
    assert _remaining(client, shop, only_free="true") == {shop["first"]: 2}
    assert _next_free(client, shop) == {shop["first"]: 2}


def test_the_etag_follows_the_places(client, shop):
    first = client.get(f"/api/v1/offerings/{shop['offering']}/slots")
    _book(client, shop, "first")

    again = client.get(f"/api/v1/offerings/{shop['offering']}/slots",
                       headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 200  # not 304: the places changed
    assert again.headers["ETag"] != first.headers["ETag"]


def test_without_the_cache_only_free_leaves_full_slots_out(app, client, build):
    offering = build.offering(build.provider(), price_minor=3000)
    free = build.future_slot(offering, days=2, capacity=2, booked=1)
    full = build.future_slot(offering, days=3, capacity=1, booked=1)
    saved = app.config["CATALOG_CACHE_SECONDS"]
    app.config["CATALOG_CACHE_SECONDS"] = 0
    try:
        every = client.get(f"/api/v1/offerings/{offering}/slots").get_json()
        only_free = client.get(f"/api/v1/offerings/{offering}/slots?only_free=true").get_json()
    finally:
        app.config["CATALOG_CACHE_SECONDS"] = saved
    assert {s["id"]: s["remaining"] for s in every} == {free: 1, full: 0}
    assert [s["id"] for s in only_free] == [free]


def test_a_search_by_availability_follows_the_last_place(client, shop):
    window = {"available_from": "2000-01-01T00:00:00Z", "available_to": "2100-01-01T00:00:00Z"}

    def found() -> bool:
        response = client.get("/api/v1/offerings", query_string=window)
        return shop["offering"] in {offering["id"] for offering in response.get_json()}

    assert found()
    _book(client, shop, "first", quantity=2)
    _book(client, shop, "second")
    assert not found()
