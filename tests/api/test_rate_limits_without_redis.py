"""Redis unreachable: rate limits are counted in process memory, so signing in and up still
work everywhere, the limits still hold, and /readyz says so."""
from __future__ import annotations

import logging

import pytest

from app import create_app
from app.extensions import limiter
from tests.conftest import test_settings
from tests.helpers import IsolatedClient, assert_error_shape, console_login

# Nothing listens on port 1: a real refused connection, not a simulated one.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(app, tmp_dir):
    down = create_app(test_settings(tmp_dir, REDIS_URL=UNREACHABLE_REDIS,
                                    RATELIMIT_STORAGE_URI=UNREACHABLE_REDIS))
    down.test_client_class = IsolatedClient
    yield down
    # One limiter serves every app in this process: back onto the session app's storage.
    limiter.init_app(app)
    # Flask-Limiter leaves its fallback only after a timed re-check of the storage; no
    # public call says "recovered", and later tests must count in the shared storage.
    limiter._storage_dead = False
    limiter.reset()


def test_api_sign_up_and_sign_in_work_without_redis(redis_down, caplog):
    client = redis_down.test_client()
    body = {"email": "kim@example.com", "password": "long-enough-pw", "first_name": "Kim",
            "last_name": "Lee"}
    with caplog.at_level(logging.WARNING):
        registered = client.post("/api/v1/auth/register", json=body)
    signed_in = client.post("/api/v1/auth/login",
                            json={"email": body["email"], "password": body["password"]})

    assert registered.status_code == 202, registered.get_data(as_text=True)
    assert signed_in.status_code == 200, signed_in.get_data(as_text=True)
    assert signed_in.get_json()["access_token"]
    assert "falling back to in-memory storage" in caplog.text


def test_limits_still_hold_in_memory_without_redis(redis_down):
    client = redis_down.test_client()
    body = {"email": "nobody@example.com", "password": "wrong-password"}
    statuses = [client.post("/api/v1/auth/login", json=body).status_code for _ in range(5)]
    assert statuses == [401] * 5
    assert_error_shape(client.post("/api/v1/auth/login", json=body), 429, "rate_limited")


def test_storefront_sign_in_and_registration_work_without_redis(redis_down, build):
    email = build.email_of(build.customer())
    shopper = redis_down.test_client()

    signed_in = shopper.post("/shop/login", data={"email": email,
                                                  "password": build.PASSWORD})
    registered = redis_down.test_client().post("/shop/register", data={
        "email": "new@example.com", "password": "a-long-enough-password",
        "first_name": "Nia", "last_name": "New"})

    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:500]
    assert shopper.get("/shop/bookings").status_code == 200
    assert registered.status_code == 302, registered.get_data(as_text=True)[:500]


def test_console_sign_in_works_without_redis(redis_down, build):
    staff_email = build.email_of(build.staff(build.provider()))
    client = redis_down.test_client()

    response = console_login(client, staff_email, build.PASSWORD)

    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "_user_id" in session


def test_readyz_tells_the_limits_are_counted_in_memory(redis_down):
    client = redis_down.test_client()
    client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "x"})

    body = client.get("/readyz").get_json()

    assert body["checks"]["rate_limits"] == {"ok": True, "mode": "in-memory fallback"}
    assert body["checks"]["redis"]["ok"] is False


def test_readyz_before_any_limited_request_already_tells(redis_down):
    body = redis_down.test_client().get("/readyz").get_json()
    assert body["checks"]["rate_limits"]["mode"] == "in-memory fallback"


def test_readyz_names_how_limits_are_counted_normally(client, app):
    body = client.get("/readyz").get_json()
    expected = "shared" if app.config["REDIS_URL"] else "in-memory"
    assert body["checks"]["rate_limits"] == {"ok": True, "mode": expected}
