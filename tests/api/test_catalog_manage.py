"""Provider staff manage their own catalog; other providers' rows answer 404."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AvailabilityRule, Offering, Slot, Variant
from tests.helpers import api_login, assert_error_shape, bearer

P = "/api/v1/provider"


@pytest.fixture
def shop(build, client):
    """Provider A (signed-in staff) and provider B with one row of every kind."""
    a, b = build.provider(timezone="Europe/Berlin"), build.provider()
    token = api_login(client, build.email_of(build.staff(a)))["access_token"]
    b_offering = build.offering(b)
    foreign = {
        "categories": build.category(b), "locations": build.location(b),
        "offerings": b_offering, "rules": build.rule(b_offering, weekday=0),
        "variants": build.variant(b_offering),
    }
    return {"a": a, "b": b, "headers": bearer(token), "foreign": foreign}


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def _service(client, shop, **extra):
    body = {"kind": "service", "name": "Deep Tissue Massage", "price_minor": 6500,
            "duration_minutes": 50}
    body.update(extra)
    return client.post(f"{P}/offerings", json=body, headers=shop["headers"])


def test_staff_create_read_update_delete_an_offering(client, shop):
    created = _service(client, shop, description="Firm pressure")
    assert created.status_code == 201, created.get_json()
    offering = created.get_json()
    assert offering["currency"] == "EUR"  # the provider's currency by default

    listed = client.get(f"{P}/offerings", headers=shop["headers"])
    assert [o["id"] for o in listed.get_json()] == [offering["id"]]  # not provider B's
    patched = client.patch(f"{P}/offerings/{offering['id']}", headers=shop["headers"],
                           json={"price_minor": 7000, "active": False})
    assert patched.get_json()["price_minor"] == 7000
    assert client.delete(f"{P}/offerings/{offering['id']}",
                         headers=shop["headers"]).status_code == 204
    assert _count(Offering, provider_id=shop["a"]) == 0


@pytest.mark.parametrize("path", ["categories", "locations", "offerings", "rules"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_foreign_rows_answer_404_and_stay_untouched(client, shop, path, method):
    row_id = shop["foreign"][path]
    change = {"capacity": 2} if path == "rules" else {"name": "Mine now"}
    kwargs = {"json": change} if method == "patch" else {}
    response = getattr(client, method)(f"{P}/{path}/{row_id}", headers=shop["headers"],
                                       **kwargs)
    assert_error_shape(response, 404)
    assert _count(AvailabilityRule) == 1 and _count(Offering, provider_id=shop["b"]) == 1


def test_foreign_variants_and_offering_variant_lists_answer_404(client, shop):
    foreign_offering = shop["foreign"]["offerings"]
    assert_error_shape(client.get(f"{P}/offerings/{foreign_offering}/variants",
                                  headers=shop["headers"]), 404)
    assert_error_shape(client.post(f"{P}/offerings/{foreign_offering}/variants",
                                   headers=shop["headers"],
                                   json={"name": "X", "sku": "X-1"}), 404)
    assert_error_shape(client.patch(f"{P}/variants/{shop['foreign']['variants']}",
                                    headers=shop["headers"], json={"stock": 0}), 404)
    assert_error_shape(client.post(f"{P}/slots/generate", headers=shop["headers"],
                                   json={"offering_id": foreign_offering}), 404)
    assert db.session.get(Variant, shop["foreign"]["variants"]).stock == 10


def test_customers_and_anonymous_callers_are_refused(client, build, shop):
    token = api_login(client, build.email_of(build.customer()))["access_token"]
    assert_error_shape(client.get(f"{P}/offerings", headers=bearer(token)), 403,
                       "auth.forbidden")
    assert_error_shape(client.post(f"{P}/offerings", json={}), 401)


@pytest.mark.parametrize("changes, field", [
    ({"price_minor": -1}, "price_minor"),
    ({"currency": "XYZ"}, "currency"),
    ({"duration_minutes": None}, "duration_minutes"),
    ({"kind": "gift"}, "kind"),
    ({"image_urls": ["javascript:alert(1)"]}, "image_urls"),
])
def test_bad_offerings_are_refused_with_the_field_named(client, shop, changes, field):
    body = assert_error_shape(_service(client, shop, **changes), 422)
    assert field in body["errors"], body
    assert _count(Offering, provider_id=shop["a"]) == 0


def test_references_must_be_your_own(client, shop):
    response = _service(client, shop, location_id=shop["foreign"]["locations"])
    assert "location_id" in assert_error_shape(response, 422)["errors"]
    response = _service(client, shop, category_id=shop["foreign"]["categories"])
    assert "category_id" in assert_error_shape(response, 422)["errors"]


def test_variants_sku_is_unique_per_provider(client, shop, build):
    offering = _service(client, shop, kind="product", duration_minutes=None).get_json()["id"]
    url = f"{P}/offerings/{offering}/variants"
    first = client.post(url, headers=shop["headers"], json={"name": "Red", "sku": "MAT-R",
                                                             "stock": 4})
    assert first.status_code == 201, first.get_json()
    dup = client.post(url, headers=shop["headers"], json={"name": "Red 2", "sku": "MAT-R"})
    assert_error_shape(dup, 422, "catalog.sku_taken")
    foreign_sku = db.session.get(Variant, shop["foreign"]["variants"]).sku
    same_as_other_provider = client.post(url, headers=shop["headers"],
                                         json={"name": "B's", "sku": foreign_sku})
    assert same_as_other_provider.status_code == 201
    negative = client.post(url, headers=shop["headers"],
                           json={"name": "Neg", "sku": "N-1", "stock": -2})
    assert "stock" in assert_error_shape(negative, 422)["errors"]


def test_category_tree_refuses_cycles(client, shop):
    root = client.post(f"{P}/categories", headers=shop["headers"],
                       json={"name": "Wellness"}).get_json()
    child = client.post(f"{P}/categories", headers=shop["headers"],
                        json={"name": "Massage", "parent_id": root["id"]}).get_json()
    cycle = client.patch(f"{P}/categories/{root['id']}", headers=shop["headers"],
                         json={"parent_id": child["id"]})
    assert_error_shape(cycle, 422, "catalog.category_cycle")


def _rule(client, shop, offering_id, **extra):
    body = {"offering_id": offering_id, "weekday": 0, "start_time": "09:00",
            "end_time": "12:00", "slot_minutes": 60, "capacity": 3,
            "valid_from": date.today().isoformat()}
    body.update(extra)
    return client.post(f"{P}/rules", json=body, headers=shop["headers"])


def test_a_rule_generates_slots_and_bad_rules_are_refused(client, shop):
    offering = _service(client, shop, duration_minutes=60).get_json()["id"]
    created = _rule(client, shop, offering)
    assert created.status_code == 201, created.get_json()
    slots = _count(Slot, offering_id=offering)
    assert slots >= 8  # three a Monday, for about two months
    assert _rule(client, shop, offering).status_code == 422  # overlaps itself
    assert_error_shape(_rule(client, shop, offering, start_time="10:30", end_time="11:30"),
                       422, "availability.rules_overlap")
    for bad, field in (({"end_time": "08:00"}, "end_time"), ({"capacity": 0}, "capacity"),
                       ({"valid_to": "2000-01-01"}, "valid_to")):
        assert field in assert_error_shape(
            _rule(client, shop, offering, weekday=3, **bad), 422)["errors"]
    generated = client.post(f"{P}/slots/generate", headers=shop["headers"], json={})
    assert generated.status_code == 200 and generated.get_json()["created"] == 0
    assert _count(Slot, offering_id=offering) == slots


def test_products_have_no_rules(client, shop):
    product = _service(client, shop, kind="product", duration_minutes=None).get_json()["id"]
    assert_error_shape(_rule(client, shop, product), 422, "availability.not_a_service")


def test_locations_without_a_maps_key_keep_hand_entered_coordinates(client, shop):
    created = client.post(f"{P}/locations", headers=shop["headers"], json={
        "name": "Studio", "address": "Torstr. 1, Berlin", "lat": 52.53, "lng": 13.40})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["lat"], body["lng"], body["geocode_status"]) == (52.53, 13.40, "manual")
    half = client.post(f"{P}/locations", headers=shop["headers"],
                       json={"name": "Half", "lat": 52.5})
    assert_error_shape(half, 422, "catalog.partial_coordinates")


def test_creates_honour_idempotency_keys(client, shop):
    headers = {**shop["headers"], "Idempotency-Key": "new-massage"}
    body = {"kind": "service", "name": "Hot Stone", "price_minor": 7000, "duration_minutes": 60}
    first = client.post(f"{P}/offerings", json=body, headers=headers)
    second = client.post(f"{P}/offerings", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert _count(Offering, provider_id=shop["a"]) == 1
