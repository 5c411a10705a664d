"""Lists are paginated by flask-smorest's ``@blp.paginate``; the cached public catalog
sends the same ``X-Pagination`` header by hand. Both are documented in the OpenAPI."""
from __future__ import annotations

import json

import pytest

from api.pagination import MAX_PAGE, pagination_metadata
from tests.helpers import assert_error_shape, bearer, token_for

CATEGORIES = "/api/v1/provider/categories"


@pytest.fixture
def staff_with_three_categories(build) -> dict:
    provider = build.provider()
    for _ in range(3):
        build.category(provider)
    return bearer(token_for(build.staff(provider)))


def _meta(response) -> dict:
    assert response.status_code == 200, response.data[:300]
    return json.loads(response.headers["X-Pagination"])


@pytest.mark.parametrize("page", [1, 2, 3, 9])
def test_the_hand_written_header_matches_flask_smorest(client, staff_with_three_categories,
                                                       page):
    response = client.get(f"{CATEGORIES}?page={page}&page_size=2",
                          headers=staff_with_three_categories)

    assert _meta(response) == pagination_metadata(total=3, page=page, page_size=2)
    assert len(response.get_json()) == {1: 2, 2: 1}.get(page, 0)


def test_an_empty_list_has_no_pages(client, build):
    customer = bearer(token_for(build.customer()))

    assert _meta(client.get("/api/v1/receipts", headers=customer)) == {"total": 0,
                                                                       "total_pages": 0}
    assert pagination_metadata(total=0, page=1, page_size=20) == {"total": 0,
                                                                  "total_pages": 0}


def test_the_default_page_size_is_twenty(client, build):
    provider = build.provider()
    for _ in range(21):
        build.category(provider)
    staff = bearer(token_for(build.staff(provider)))

    response = client.get(CATEGORIES, headers=staff)

    assert len(response.get_json()) == 20 and _meta(response)["next_page"] == 2


@pytest.mark.parametrize("query, field", [(f"page={MAX_PAGE + 1}", "page"),
                                          ("page=0", "page"), ("page=1.9", "page"),
                                          ("page_size=101", "page_size")])
def test_pages_out_of_bounds_are_field_errors(client, staff_with_three_categories, query,
                                              field):
    response = client.get(f"{CATEGORIES}?{query}", headers=staff_with_three_categories)

    assert field in assert_error_shape(response, 422, "validation_error")["errors"]


def test_the_last_allowed_page_is_read(client, staff_with_three_categories):
    response = client.get(f"{CATEGORIES}?page={MAX_PAGE}",
                          headers=staff_with_three_categories)

    assert response.get_json() == [] and "page" not in _meta(response)


@pytest.mark.parametrize("path", ["/api/v1/bookings", "/api/v1/receipts",
                                  "/api/v1/provider/payments", "/api/v1/provider/refunds",
                                  "/api/v1/provider/categories", "/api/v1/provider/offerings",
                                  "/api/v1/providers", "/api/v1/offerings"])
def test_paginated_lists_document_their_parameters_and_header(client, path):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][path]["get"]

    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"page", "page_size"} <= names
    assert operation["responses"]["200"]["headers"]["X-Pagination"] == {
        "$ref": "#/components/headers/PAGINATION"}


@pytest.mark.parametrize("path", ["/api/v1/providers", "/api/v1/offerings",
                                  "/api/v1/offerings/{offering_id}",
                                  "/api/v1/offerings/{offering_id}/slots"])
def test_cached_catalog_answers_document_their_etag(client, path):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][path]["get"]

    assert operation["responses"]["200"]["headers"]["ETag"] == {
        "$ref": "#/components/headers/ETAG"}
    assert "304" in operation["responses"]
