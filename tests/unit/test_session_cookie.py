"""The session cookie's signer is built once per set of keys, and a new key still wins."""
from __future__ import annotations

import pytest
from flask import Flask, session
from itsdangerous import BadSignature

from app.session_cookie import CookieSessionInterface


@pytest.fixture
def small_app():
    small = Flask(__name__)
    small.secret_key = "first-secret"
    small.session_interface = CookieSessionInterface()

    @small.get("/set")
    def set_value():
        session["seen"] = "yes"
        return "ok"

    @small.get("/get")
    def get_value():
        return session.get("seen", "no")

    return small


def test_the_app_signs_its_session_with_it(app):
    assert isinstance(app.session_interface, CookieSessionInterface)


def test_the_signer_is_reused_until_the_keys_change(small_app):
    interface = small_app.session_interface
    first = interface.get_signing_serializer(small_app)
    assert interface.get_signing_serializer(small_app) is first

    small_app.secret_key = "second-secret"
    rotated = interface.get_signing_serializer(small_app)
    assert rotated is not first
    with pytest.raises(BadSignature):
        first.loads(rotated.dumps({"a": 1}))

    small_app.config["SECRET_KEY_FALLBACKS"] = ["first-secret"]
    with_fallback = interface.get_signing_serializer(small_app)
    assert with_fallback is not rotated
    assert with_fallback.loads(first.dumps({"a": 1})) == {"a": 1}


def test_a_session_survives_a_round_trip_and_a_key_change_ends_it(small_app):
    client = small_app.test_client()
    client.get("/set")
    assert client.get("/get").get_data(as_text=True) == "yes"
    small_app.secret_key = "second-secret"
    assert client.get("/get").get_data(as_text=True) == "no"
