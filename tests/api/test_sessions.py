"""A customer's sign-ins over the API: listed with device and address, ended one by one or
all but the current, and an ended session's tokens refused, access tokens included."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from tests.helpers import api_register, assert_error_shape, bearer

PASSWORD = "long-enough-pw"
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def _sign_in(client, email="cleo@example.com", user_agent=""):
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD},
                           headers={"User-Agent": user_agent} if user_agent else {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _sessions(client, tokens):
    response = client.get("/api/v1/me/sessions", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_each_sign_in_is_a_session_listed_with_its_device(client, app_ctx):
    api_register(client, "cleo@example.com")
    laptop = _sign_in(client)
    phone = _sign_in(client, user_agent=PHONE)

    listed = _sessions(client, phone)
    assert len(listed) == 2
    mine = next(s for s in listed if s["current"])
    assert mine["device"] == "iPhone / iOS 17.0 / Mobile Safari 17.0"
    assert mine["kind"] == "api" and mine["address"] == "127.0.0.1"
    assert {"created_at", "last_used_at"} <= set(mine)
    # Refreshing keeps the session: still two, the same ids.
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(laptop["refresh_token"]))
    assert refreshed.status_code == 200
    assert {s["id"] for s in _sessions(client, refreshed.get_json())} == {
        s["id"] for s in listed}


def test_ending_a_session_refuses_its_access_and_refresh_tokens(client, app_ctx):
    api_register(client, "cleo@example.com")
    laptop, phone = _sign_in(client), _sign_in(client, user_agent=PHONE)
    laptop_id = next(s["id"] for s in _sessions(client, laptop) if s["current"])

    ended = client.delete(f"/api/v1/me/sessions/{laptop_id}",
                          headers=bearer(phone["access_token"]))
    assert ended.status_code == 204
    assert_error_shape(client.get("/api/v1/me", headers=bearer(laptop["access_token"])), 401,
                       "auth.token_revoked")
    assert_error_shape(client.post("/api/v1/auth/refresh",
                                   headers=bearer(laptop["refresh_token"])), 401)
    assert client.get("/api/v1/me", headers=bearer(phone["access_token"])).status_code == 200
    assert "account.signed_out" in db.session.scalars(select(AuditLog.action)).all()


def test_another_accounts_session_cannot_be_ended_or_seen(client, app_ctx):
    api_register(client, "cleo@example.com")
    api_register(client, "mallory@example.com")
    cleo, mallory = _sign_in(client), _sign_in(client, "mallory@example.com")
    cleo_id = _sessions(client, cleo)[0]["id"]

    assert [s["id"] for s in _sessions(client, mallory)] != [cleo_id]
    refused = client.delete(f"/api/v1/me/sessions/{cleo_id}",
                            headers=bearer(mallory["access_token"]))
    assert_error_shape(refused, 404, "session.not_found")
    assert client.get("/api/v1/me", headers=bearer(cleo["access_token"])).status_code == 200
    assert_error_shape(client.delete("/api/v1/me/sessions/" + "x" * 300,
                                     headers=bearer(cleo["access_token"])), 404)


def test_signing_out_everywhere_else_keeps_this_session(client, app_ctx):
    api_register(client, "cleo@example.com")
    others = [_sign_in(client) for _ in range(2)]
    this = _sign_in(client, user_agent=PHONE)

    response = client.post("/api/v1/me/sessions/end-others", headers=bearer(this["access_token"]))
    assert response.status_code == 200 and response.get_json() == {"ended": 2}
    assert [s["current"] for s in _sessions(client, this)] == [True]
    for tokens in others:
        assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 401


def test_signing_out_ends_the_session(client, app_ctx):
    api_register(client, "cleo@example.com")
    tokens, other = _sign_in(client), _sign_in(client)
    assert client.post("/api/v1/auth/logout",
                       headers=bearer(tokens["refresh_token"])).status_code == 204
    assert len(_sessions(client, other)) == 1
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 401


def test_the_list_needs_a_token(client, app_ctx):
    assert_error_shape(client.get("/api/v1/me/sessions"), 401)


def test_a_wrong_password_is_audited_as_a_failed_sign_in(client, app_ctx):
    api_register(client, "cleo@example.com")
    response = client.post("/api/v1/auth/login",
                           json={"email": "cleo@example.com", "password": "not-the-one"})
    assert_error_shape(response, 401, "auth.invalid_credentials")
    client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "x"})

    failed = db.session.execute(select(AuditLog.action, AuditLog.entity_id)
                                .where(AuditLog.action == "account.sign_in_failed")).all()
    assert len(failed) == 1
    assert failed[0].entity_id is not None
