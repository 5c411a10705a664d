"""Each distinct token is verified once per process; what can change is checked anyway."""
from __future__ import annotations

import time
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from api import jwt_manager as verify_once
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
