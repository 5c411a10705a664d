"""Each distinct token is verified once per process; what can change is checked anyway."""
from __future__ import annotations

import time
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from app import jwt_manager as verify_once
from app.extensions import db
from app.models import Account
from tests.helpers import api_login, assert_error_shape, bearer


@pytest.fixture
def customer(build, client):
    user_id = build.customer()
    return user_id, api_login(client, build.email_of(user_id))


@pytest.fixture
def decodes(app, monkeypatch):
    """Counts PyJWT's verified decodes (a spy around the real function, which still runs)."""
    calls = []
    real = pyjwt.decode

    def counting(*args, **kwargs):
        if (kwargs.get("options") or {}).get("verify_signature", True):
            calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("flask_jwt_extended.tokens.jwt.decode", counting)
    app.appbuilder.sm.jwt_manager._verified.clear()
    return calls


def test_the_app_uses_the_verify_once_manager(app):
    assert isinstance(app.appbuilder.sm.jwt_manager, verify_once.VerifyOnceJWTManager)


def test_a_token_is_verified_once_and_then_remembered(client, customer, decodes):
    _, tokens = customer
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert len(decodes) == 1


def test_a_tampered_copy_of_a_remembered_token_is_refused(client, customer, decodes):
    _, tokens = customer
    token = tokens["access_token"]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    header, payload, signature = token.split(".")
    forged = ".".join((header, payload, signature[:-2] + ("AA" if signature[-2:] != "AA"
                                                           else "BB")))
    assert_error_shape(client.get("/api/v1/me", headers=bearer(forged)), 401,
                       "auth.invalid_token")


def test_a_remembered_token_is_refused_once_it_expires(client, app_ctx, customer):
    user_id, _ = customer
    token = create_access_token(identity=str(user_id), expires_delta=timedelta(seconds=1))
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    time.sleep(2.1)  # the expiry has whole seconds
    assert_error_shape(client.get("/api/v1/me", headers=bearer(token)), 401,
                       "auth.token_expired")


def test_a_remembered_token_of_an_account_deactivated_since_is_refused(client, customer):
    user_id, tokens = customer
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
    db.session.get(Account, user_id).active = False
    db.session.commit()
    assert_error_shape(client.get("/api/v1/me", headers=bearer(tokens["access_token"])), 401,
                       "auth.unknown_user")


def test_a_remembered_refresh_token_is_refused_once_revoked(client, customer):
    _, tokens = customer
    refresh = bearer(tokens["refresh_token"])
    assert client.post("/api/v1/auth/refresh", headers=refresh).status_code == 200
    assert_error_shape(client.post("/api/v1/auth/refresh", headers=refresh), 401,
                       "auth.token_revoked")


def test_the_memory_keeps_at_most_its_size(app, client, app_ctx, build, monkeypatch):
    monkeypatch.setattr(verify_once, "VERIFIED_TOKENS", 2)
    manager = app.appbuilder.sm.jwt_manager
    manager._verified.clear()
    tokens = [create_access_token(identity=str(build.customer())) for _ in range(3)]
    for token in tokens:
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert [key[0] for key in manager._verified] == tokens[1:]


MISSING = object()


def _signed(app, **claims) -> str:
    """A token signed with the app's own key, holding exactly these claims."""
    now = int(time.time())
    payload = {"iat": now, "nbf": now, "exp": now + 600, "jti": "j-1", "type": "access",
               "fresh": False}
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not MISSING}
    return pyjwt.encode(payload, app.config["JWT_SECRET_KEY"], algorithm="HS256")


MALFORMED_CLAIMS = [
    {"sub": "abc"}, {"sub": ""}, {"sub": "0"}, {"sub": "-1"}, {"sub": "1.5"},
    {"sub": " 1"}, {"sub": "99999999999999999999"}, {"sub": 1}, {"sub": MISSING},
    {"type": "refresh", "jti": MISSING}, {"type": "refresh", "jti": ["j"]},
    {"type": "refresh", "exp": MISSING}, {"type": 7}, {"fresh": "yes"}, {"exp": MISSING},
]


@pytest.mark.parametrize("claims", MALFORMED_CLAIMS, ids=repr)
def test_a_correctly_signed_token_with_malformed_claims_is_a_401(app, client, build, claims):
    user_id = build.customer()
    claims = {"sub": str(user_id), **claims}
    token = _signed(app, **claims)
    refresh = claims.get("type") == "refresh"
    calls = [("post", "/api/v1/auth/refresh"), ("post", "/api/v1/auth/logout")] if refresh \
        else [("get", "/api/v1/me"), ("get", "/api/v1/bookings"),
              ("post", "/api/v1/bookings")]
    for method, path in calls:
        response = getattr(client, method)(path, headers=bearer(token),
                                           **({"json": {"offering_id": 1}}
                                              if method == "post" and not refresh else {}))
        assert_error_shape(response, 401, "auth.invalid_token")
