from __future__ import annotations

import fakeredis

from app import create_app
from tests.conftest import test_settings


def test_no_cross_origin_access_by_default(client):
    response = client.get("/healthz", headers={"Origin": "https://shop.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_configured_origins_may_call_the_api(app, tmp_dir):
    shop = create_app(test_settings(tmp_dir, CORS_ORIGINS=["https://shop.example"]))
    shop.extensions["bookwell.redis"] = fakeredis.FakeRedis()
    client = shop.test_client()

    preflight = client.options("/api/v1/me", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "Authorization"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    other = client.get("/api/v1/me", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
