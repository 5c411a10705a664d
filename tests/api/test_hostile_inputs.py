"""Inputs a clumsy or hostile client sends get a 4xx in the error shape and change nothing.

Each family is tried on one endpoint in detail and across every JSON endpoint of the
OpenAPI document (``test_openapi_probe`` covers valid-looking input).
"""
from __future__ import annotations

import re
from datetime import date

import marshmallow as ma
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AvailabilityRule, Category, Offering
from tests.helpers import assert_error_shape, bearer, token_for

P = "/api/v1/provider"


@pytest.fixture
def shop(build):
    """Provider A (its staff's headers) with one row of each kind; provider B's rows."""
    a, b = build.provider(), build.provider()
    offering = build.offering(a, location_id=build.location(a),
                              category_id=build.category(a))
    b_offering = build.offering(b)
    return {
        "headers": bearer(token_for(build.staff(a))),
        "offering": offering,
        "category": build.category(a),
        "rule": build.rule(offering, weekday=0),
        "product": build.offering(a, kind="product"),
        "foreign": {"location_id": build.location(b), "category_id": build.category(b),
                    "parent_id": build.category(b), "offering_id": b_offering},
    }


def _json_operations(client) -> list[tuple[str, str]]:
    """Every (method, path) of the API that takes a JSON body, ids filled with 1."""
    spec = client.get("/api/v1/openapi.json").get_json()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                concrete = re.sub(r"\{[a-z_]+\}", "1",
                                  path.replace("{reference}", "BW-AAAAAA"))
                found.append((method, concrete))
    assert len(found) > 15, found  # the walk found the API, not an empty document
    return found


# --- a deeply nested body ---------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


def test_a_deeply_nested_body_is_invalid_json(client, shop):
    categories = db.session.scalar(select(func.count()).select_from(Category))
    response = client.post(f"{P}/categories", data=DEEP, headers=shop["headers"],
                           content_type="application/json")
    body = assert_error_shape(response, 400, "bad_request")
    assert "json" in body["errors"]
    assert db.session.scalar(select(func.count()).select_from(Category)) == categories


def test_every_json_endpoint_refuses_a_deeply_nested_body(client, shop):
    for method, path in _json_operations(client):
        response = client.open(path, method=method.upper(), data=DEEP,
                               headers=shop["headers"], content_type="application/json")
        if response.status_code == 429:  # the sign-in limit: nothing was read
            continue
        assert "json" in assert_error_shape(response, 400, "bad_request")["errors"], path


# --- a lone surrogate -------------------------------------------------------------------

LONE = b'"\\ud800"'


def test_a_lone_surrogate_is_a_field_error_and_stores_nothing(client, shop):
    response = client.patch(f"{P}/offerings/{shop['offering']}", headers=shop["headers"],
                            content_type="application/json",
                            data=b'{"name": ' + LONE + b', "description": "fine"}')
    body = assert_error_shape(response, 422, "validation_error")
    assert set(body["errors"]) == {"name"}
    assert db.session.get(Offering, shop["offering"]).description == ""


def test_a_lone_surrogate_in_a_list_names_the_list(client, shop):
    response = client.patch(f"{P}/offerings/{shop['offering']}", headers=shop["headers"],
                            content_type="application/json",
                            data=b'{"image_urls": ["https://a.example/", ' + LONE + b"]}")
    assert set(assert_error_shape(response, 422)["errors"]) == {"image_urls"}


def test_a_nul_character_is_a_field_error_in_a_body_and_in_a_query(client, shop):
    response = client.patch(f"{P}/offerings/{shop['offering']}", headers=shop["headers"],
                            json={"name": "Yoga\x00"})
    assert set(assert_error_shape(response, 422)["errors"]) == {"name"}
    assert "q" in assert_error_shape(client.get("/api/v1/offerings?q=yo%00ga"), 422)["errors"]


def test_every_string_field_of_every_json_endpoint_refuses_a_lone_surrogate(client, shop):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for method, path in _json_operations(client):
        template = next(p for p in spec["paths"] if _fills(p, path))
        content = spec["paths"][template][method]["requestBody"]["content"]
        ref = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        for name, prop in schemas[ref]["properties"].items():
            if prop.get("type") != "string" or prop.get("readOnly"):
                continue
            response = client.open(path, method=method.upper(), headers=shop["headers"],
                                   content_type="application/json",
                                   data=b'{"' + name.encode() + b'": ' + LONE + b"}")
            if response.status_code == 429:  # the sign-in limit: nothing was read
                continue
            body = assert_error_shape(response, 422)
            assert name in body["errors"], (method, path, name, body)


def _fills(template: str, path: str) -> bool:
    template_parts, parts = template.split("/"), path.split("/")
    return len(template_parts) == len(parts) and all(
        t == p or t.startswith("{") for t, p in zip(template_parts, parts))


# --- references to no row, or to another provider's row -------------------------------

@pytest.mark.parametrize("kind, field", [
    ("offerings", "location_id"), ("offerings", "category_id"),
    ("categories", "parent_id"), ("rules", "offering_id"),
])
@pytest.mark.parametrize("whose", ["missing", "foreign"])
def test_patching_a_reference_to_no_row_of_yours_is_a_422(client, shop, kind, field, whose):
    row_id = {"offerings": shop["offering"], "categories": shop["category"],
              "rules": shop["rule"]}[kind]
    target = 987_654 if whose == "missing" else shop["foreign"][field]
    response = client.patch(f"{P}/{kind}/{row_id}", headers=shop["headers"],
                            json={field: target, "name": "Renamed"} if kind != "rules"
                            else {field: target, "capacity": 7})
    body = assert_error_shape(response, 422, "catalog.unknown_reference")
    assert field in body["errors"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Offering.name == "Renamed")) == 0
    assert db.session.scalar(select(func.count()).where(Category.name == "Renamed")) == 0
    assert db.session.get(AvailabilityRule, shop["rule"]).capacity == 1


def test_a_closed_day_for_another_providers_offering_is_a_422(client, shop):
    response = client.post(f"{P}/closed-days", headers=shop["headers"],
                           json={"offering_id": shop["foreign"]["offering_id"],
                                 "day": date.today().isoformat()})
    assert "offering_id" in assert_error_shape(response, 422,
                                               "catalog.unknown_reference")["errors"]


# --- rule times are local wall times ----------------------------------------------------

@pytest.mark.parametrize("value", ["10:00:00+05:00", "10:00Z"])
def test_a_rule_time_with_an_offset_is_refused(client, shop, value):
    created = client.post(f"{P}/rules", headers=shop["headers"], json={
        "offering_id": shop["offering"], "weekday": 2, "start_time": value,
        "end_time": "12:00", "slot_minutes": 60, "capacity": 1,
        "valid_from": date.today().isoformat()})
    assert "start_time" in assert_error_shape(created, 422)["errors"]
    patched = client.patch(f"{P}/rules/{shop['rule']}", headers=shop["headers"],
                           json={"start_time": value})
    assert "start_time" in assert_error_shape(patched, 422)["errors"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AvailabilityRule)) == 1
    assert db.session.get(AvailabilityRule, shop["rule"]).start_time.isoformat() == "09:00:00"


# --- integers are integers, booleans are booleans ---------------------------------------

@pytest.mark.parametrize("value", [1.9, 1.0, "5", True])
def test_a_price_must_be_a_json_integer(client, shop, value):
    response = client.patch(f"{P}/offerings/{shop['offering']}", headers=shop["headers"],
                            json={"price_minor": value})
    assert "price_minor" in assert_error_shape(response, 422, "validation_error")["errors"]
    assert db.session.get(Offering, shop["offering"]).price_minor == 2500


def test_a_quantity_of_one_and_a_half_is_refused(client, build, shop):
    headers = bearer(token_for(build.customer()))
    response = client.post("/api/v1/bookings", headers=headers, json={
        "offering_id": shop["product"], "variant_id": 1, "quantity": 1.5})
    assert "quantity" in assert_error_shape(response, 422, "validation_error")["errors"]


def test_coordinates_must_be_json_numbers(client, shop):
    response = client.post(f"{P}/locations", headers=shop["headers"],
                           json={"name": "Studio", "lat": "52.5", "lng": True})
    assert set(assert_error_shape(response, 422)["errors"]) == {"lat", "lng"}


@pytest.mark.parametrize("value", ["no", 0, "false"])
def test_a_boolean_must_be_true_or_false(client, shop, value):
    response = client.patch(f"{P}/offerings/{shop['offering']}", headers=shop["headers"],
                            json={"active": value})
    assert "active" in assert_error_shape(response, 422, "validation_error")["errors"]
    assert db.session.get(Offering, shop["offering"]).active is True


def test_query_strings_still_take_numbers_as_text(client, shop):
    assert client.get("/api/v1/offerings?page=2&page_size=5&min_price=0").status_code == 200
    listed = client.get(f"{P}/offerings?page=1", headers=shop["headers"])
    assert listed.status_code == 200
    assert_error_shape(client.get("/api/v1/offerings?page=1.9"), 422)


def test_every_api_schema_takes_its_input_as_typed(app):
    """The typed-input rules live in one base class; a schema that skipped it would
    coerce and truncate again."""
    from api.schemas import QueryArgsSchema, Schema as TypedSchema

    found = _api_schema_classes()
    assert len(found) > 30
    untyped = [cls.__qualname__ for cls in found if not issubclass(cls, TypedSchema)]
    assert untyped == []
    assert {cls.__name__ for cls in found if issubclass(cls, QueryArgsSchema)} >= {
        "PaginationArgsSchema", "OfferingQueryArgsSchema", "SlotQueryArgsSchema",
        "BookingQueryArgsSchema"}


def test_a_second_closed_day_on_a_date_is_a_documented_409(client, shop):
    body = {"offering_id": shop["offering"], "day": "2031-01-06"}
    assert client.post(f"{P}/closed-days", headers=shop["headers"], json=body).status_code == 201
    assert_error_shape(client.post(f"{P}/closed-days", headers=shop["headers"], json=body),
                       409, "closed_day.conflict")
    spec = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "409" in spec["/api/v1/provider/closed-days"]["post"]["responses"]
    assert "409" in spec["/api/v1/provider/offerings/{row_id}"]["patch"]["responses"]


# --- values past what the database or the clock can hold --------------------------------

def test_every_integer_an_api_schema_reads_has_an_upper_bound(app):
    """A number past a column's range fails in the database (SQLite: an OverflowError,
    a 500), so every integer field read from a request carries a Range with a max."""
    unbounded = []
    read = _request_schemas(app)
    assert {"BookingCreateSchema", "OfferingQueryArgsSchema", "CategorySchema"} <= {
        type(schema).__name__ for schema in read}
    for schema in read:
        for name, field in schema.load_fields.items():
            if isinstance(field, ma.fields.Integer) and not any(
                    isinstance(rule, ma.validate.Range) and rule.max is not None
                    for rule in field.validators):
                unbounded.append(f"{type(schema).__name__}.{name}")
    assert unbounded == []


@pytest.mark.parametrize("path, body", [
    ("/api/v1/offerings?max_price=14595660116391462912", None),
    (f"{P}/categories", {"name": "Big", "position": 33895780286409364996096}),
    (f"{P}/offerings/0/variants", {"name": "V", "sku": "V-1", "stock": 2**70}),
])
def test_an_integer_past_any_column_is_a_field_error(client, shop, path, body):
    path = path.replace("/0/", f"/{shop['product']}/")
    response = client.post(path, json=body, headers=shop["headers"]) if body \
        else client.get(path)
    assert_error_shape(response, 422, "validation_error")


@pytest.mark.parametrize("query", [
    "from=0001-01-01T00:10:01%2B10:01&to=0001-01-01T00:10:00.0Z",
    "from=9999-12-31T23:00:00Z",
])
def test_instants_past_the_calendar_are_field_errors(client, shop, query):
    response = client.get(f"/api/v1/offerings/{shop['offering']}/slots?{query}")
    assert "from" in assert_error_shape(response, 422, "validation_error")["errors"]
    response = client.get("/api/v1/offerings?available_to=3099-05-12T09:19:10%2B17:09")
    assert "available_to" in assert_error_shape(response, 422)["errors"]


def _api_schema_classes() -> list[type]:
    """Every marshmallow schema class defined in the API package (the app imports them)."""
    pending, found = list(ma.Schema.__subclasses__()), []
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] == "api":
            found.append(cls)
    return found


def _request_schemas(app) -> list:
    """The schemas the API's operations read requests with (``blp.arguments``)."""
    schemas = []
    for view in app.view_functions.values():
        view_class = getattr(view, "view_class", None)
        handlers = [getattr(view_class, method.lower(), None)
                    for method in getattr(view_class, "methods", None) or ()]
        for handler in handlers:
            arguments = (getattr(handler, "_apidoc", {}) or {}).get("arguments", {})
            schemas += [parameter["schema"] for parameter in arguments.get("parameters", [])]
    return schemas
