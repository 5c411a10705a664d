"""The OpenAPI document is valid, complete, and its docs page works offline."""
from __future__ import annotations

import re

from openapi_spec_validator import validate


def test_openapi_document_validates(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["info"]["title"] == "Bookwell API"


def test_openapi_documents_routes_and_the_error_shape(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in ("/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh",
                 "/api/v1/auth/logout", "/api/v1/me"):
        assert path in paths, sorted(paths)
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "message", "errors"}
    me_get = paths["/api/v1/me"]["get"]
    assert "401" in me_get["responses"]
    assert me_get["security"] == [{"bearerAuth": []}]
    register = paths["/api/v1/auth/register"]["post"]["responses"]
    assert {"202", "422", "429"} <= set(register) and "409" not in register


def test_docs_page_loads_its_assets_locally(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert not [s for s in sources if s.startswith(("http://", "https://", "//"))], sources
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.data) > 1000, source
