"""Security headers on the API and its docs, the headers every surface shares (HSTS in
production), no caching of personal answers, and the request body limit."""
from __future__ import annotations

import pytest

from tests.csp import assert_common_headers, directives, policy_nonce, script_tags
from tests.helpers import api_login, assert_error_shape, bearer

TEN_MB = b"x" * (10 * 1024 * 1024)


@pytest.fixture
def customer_email(build) -> str:
    return build.email_of(build.customer())


@pytest.mark.parametrize("path", ["/login/", "/shop/", "/api/v1/offerings", "/api/v1/docs",
                                  "/api/v1/openapi.json", "/healthz", "/no-such-page"])
def test_every_surface_has_the_common_headers(client, path):
    assert_common_headers(client.get(path))


def test_hsts_only_in_production(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/shop/").headers
    monkeypatch.setitem(app.config, "BOOKWELL_ENV", "production")
    for path in ("/shop/", "/login/", "/api/v1/offerings", "/api/v1/docs"):
        hsts = client.get(path).headers["Strict-Transport-Security"]
        assert hsts == "max-age=31536000; includeSubDomains"


def test_api_answers_may_load_nothing(client):
    policy = directives(client.get("/api/v1/offerings"))
    assert policy["default-src"] == ["'none'"]
    assert "script-src" not in policy


def test_api_docs_start_swagger_ui_with_the_nonce(client):
    response = client.get("/api/v1/docs")
    policy = directives(response)

    nonce = policy_nonce(policy["script-src"])
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    scripts = script_tags(response)
    assert len(scripts) == 3 and all(f'nonce="{nonce}"' in tag for tag in scripts), scripts
    assert policy["connect-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert '"validatorUrl": null' in response.get_data(as_text=True)


def test_answers_with_personal_data_are_not_stored(client, customer_email):
    public = client.get("/api/v1/offerings")
    assert public.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    login = client.post("/api/v1/auth/login", json={"email": customer_email,
                                                    "password": "wrong"})
    assert login.headers["Cache-Control"] == "no-store"
    tokens = api_login(client, customer_email)
    for path in ("/api/v1/me", "/api/v1/bookings"):
        response = client.get(path, headers=bearer(tokens["access_token"]))
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_a_10_mb_body_gets_413_in_the_error_shape(app, client, customer_email):
    tokens = api_login(client, customer_email)
    response = client.post("/api/v1/bookings", data=TEN_MB,
                           headers={**bearer(tokens["access_token"]),
                                    "Content-Type": "application/json"})
    body = assert_error_shape(response, 413, "payload_too_large")
    assert str(app.config["MAX_CONTENT_LENGTH"]) in body["message"]
    assert client.get("/api/v1/bookings",
                      headers=bearer(tokens["access_token"])).get_json() == []


def test_the_limit_follows_the_setting(app, client, customer_email, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100)
    response = client.post("/api/v1/auth/login",
                           json={"email": customer_email, "password": "x" * 200})
    assert_error_shape(response, 413, "payload_too_large")
