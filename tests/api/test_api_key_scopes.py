"""Every provider endpoint declares the API key scope it needs, and a key without that
scope is refused there. Walks the app's routes, so an endpoint added later without a
scope fails here."""
from __future__ import annotations

import re
import tempfile

import pytest

from app import create_app
from app.services import api_keys
from app.services.roles import PROVIDER
from tests.conftest import test_settings
from tests.helpers import assert_error_shape, bearer

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _endpoints(app):
    """(method, rule, AuthRequirement or None) of every API route."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in sorted(rule.methods - IGNORED_METHODS):
            handler = getattr(view_class, method.lower(), None) if view_class else None
            found.append((method, rule.rule, getattr(handler, "auth_requirement", None)))
    return found


def _provider_endpoints():
    app = _routes_app()
    return [(method, path, needs.scope) for method, path, needs in _endpoints(app)
            if needs is not None and PROVIDER in needs.roles]


_ROUTES_DIR = tempfile.TemporaryDirectory(prefix="bookwell-routes-")


def _routes_app():
    """The routes do not depend on settings: an app built at collection only to read
    them (the parametrised tests need the list before any fixture runs)."""
    return create_app(test_settings(_ROUTES_DIR.name))


PROVIDER_ENDPOINTS = _provider_endpoints()


def test_there_are_provider_endpoints_to_check():
    assert len(PROVIDER_ENDPOINTS) >= 30


@pytest.mark.parametrize("method, path, scope", PROVIDER_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _ in PROVIDER_ENDPOINTS])
def test_every_provider_endpoint_declares_a_known_scope(method, path, scope):
    assert scope in api_keys.SCOPE_NAMES, f"{method} {path} declares no API key scope"
    assert scope.endswith(":read" if method == "GET" else ":write"), (method, path, scope)


def test_only_provider_endpoints_take_keys(app):
    for method, path, needs in _endpoints(app):
        if needs is not None and needs.scope is not None:
            assert PROVIDER in needs.roles, f"{method} {path} takes keys but is no staff endpoint"


def _url(path: str) -> str:
    return re.sub(r"<(?:int:)?[^>]*>", lambda m: "1" if m.group(0).startswith("<int:")
                  else "x", path)


@pytest.mark.parametrize("method, path, scope", PROVIDER_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _ in PROVIDER_ENDPOINTS])
def test_a_key_without_the_scope_is_refused(client, build, method, path, scope):
    _, key = build.api_key(build.provider(), *(api_keys.SCOPE_NAMES - {scope}))
    response = client.open(_url(path), method=method, headers=bearer(key),
                           json={} if method != "GET" else None)
    body = assert_error_shape(response, 403, "auth.scope_missing")
    assert body["errors"] == {"scope": [scope]}


def test_the_openapi_spec_names_the_scope_of_each_provider_endpoint(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    for method, path, scope in PROVIDER_ENDPOINTS:
        spec_path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
        operation = spec["paths"][spec_path][method.lower()]
        assert {"apiKey": [scope]} in operation["security"], (method, path)
        assert {"bearerAuth": []} in operation["security"]
