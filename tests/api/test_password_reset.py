"""Forgotten passwords over the API, with the mail read from a local SMTP server: the same
answer for any address, a link that works once and not after it expires, and every
earlier sign-in ended by the new password."""
from __future__ import annotations

import re
import time

import pytest
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Account, AuditLog, Notification
from app.services import password_reset
from tests.helpers import api_register, api_login, assert_error_shape, bearer
from tests.notifications.conftest import run_jobs

PASSWORD = "long-enough-pw"
NEW_PASSWORD = "a-fresh-harbour-lantern"


def _ask(client, email):
    return client.post("/api/v1/auth/password-reset", json={"email": email})


def _resets_to(smtp, address) -> list:
    """The reset mails (registration mails a link to verify the address as well)."""
    return [m for m in smtp.to(address) if m["Subject"] == "Choose a new password"]


def _mailed_token(smtp, address) -> str:
    run_jobs(current_app)
    (message,) = _resets_to(smtp, address)
    body = message.get_body(("plain",)).get_content()
    return re.search(r"/shop/password/reset/(\S+)", body).group(1)


def _confirm(client, token, password=NEW_PASSWORD):
    return client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": token, "password": password})


def test_the_answer_is_the_same_for_an_address_without_an_account(client, app_ctx, smtp):
    api_register(client)
    known, unknown = _ask(client, "Cleo@Example.com"), _ask(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    run_jobs(current_app)
    assert len(_resets_to(smtp, "cleo@example.com")) == 1
    assert smtp.to("nobody@example.com") == []


def test_a_new_password_from_the_mailed_link(client, app_ctx, smtp):
    api_register(client)
    _ask(client, "cleo@example.com")
    token = _mailed_token(smtp, "cleo@example.com")

    assert _confirm(client, token).status_code == 204
    assert api_login(client, "cleo@example.com", NEW_PASSWORD)["access_token"]
    refused = client.post("/api/v1/auth/login",
                          json={"email": "cleo@example.com", "password": PASSWORD})
    assert refused.status_code == 401
    actions = [row.action for row in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert "account.password_reset_requested" in actions and "account.password_reset" in actions
    account = db.session.scalar(select(Account).where(Account.email == "cleo@example.com"))
    assert account.email_verified_at is not None  # the mailed link proved the address


def test_the_link_works_once(client, app_ctx, smtp):
    api_register(client)
    _ask(client, "cleo@example.com")
    token = _mailed_token(smtp, "cleo@example.com")
    assert _confirm(client, token).status_code == 204

    again = _confirm(client, token, password="another-quiet-meadow")
    assert_error_shape(again, 422, "account.reset_link_invalid")
    assert api_login(client, "cleo@example.com", NEW_PASSWORD)  # unchanged by the reuse


def test_an_expired_link_is_refused_and_changes_nothing(client, app_ctx, smtp, monkeypatch):
    api_register(client)
    _ask(client, "cleo@example.com")
    token = _mailed_token(smtp, "cleo@example.com")
    monkeypatch.setitem(current_app.config, "PASSWORD_RESET_MAX_AGE_MINUTES", 0)
    time.sleep(1.1)  # itsdangerous counts whole seconds

    assert_error_shape(_confirm(client, token), 422, "account.reset_link_expired")
    assert api_login(client, "cleo@example.com", PASSWORD)


@pytest.mark.parametrize("password, code", [
    ("short", "account.password_too_short"),
    ("password123", "account.password_too_weak"),
    ("cleo@example.com", "account.password_too_weak"),
])
def test_a_weak_new_password_is_refused_and_the_link_still_works(client, app_ctx, smtp,
                                                                  password, code):
    api_register(client)
    _ask(client, "cleo@example.com")
    token = _mailed_token(smtp, "cleo@example.com")
    refused = _confirm(client, token, password=password)
    assert_error_shape(refused, 422, code)
    assert "password" in refused.get_json()["errors"]
    assert _confirm(client, token).status_code == 204


def test_a_forged_token_is_refused(client, app_ctx):
    assert_error_shape(_confirm(client, "not-a-token"), 422, "account.reset_link_invalid")


def test_a_new_password_ends_the_earlier_refresh_tokens(client, app_ctx, smtp):
    api_register(client)
    tokens = api_login(client, "cleo@example.com", PASSWORD)
    time.sleep(1.05)  # a sign-in in the same second as the reset still counts
    _ask(client, "cleo@example.com")
    assert _confirm(client, _mailed_token(smtp, "cleo@example.com")).status_code == 204

    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert_error_shape(refreshed, 401)
    fresh = api_login(client, "cleo@example.com", NEW_PASSWORD)
    assert client.post("/api/v1/auth/refresh",
                       headers=bearer(fresh["refresh_token"])).status_code == 200


def test_asking_often_mails_one_link_in_a_few_minutes(client, app_ctx, smtp):
    api_register(client)
    for _ in range(3):
        assert _ask(client, "cleo@example.com").status_code == 202
    run_jobs(current_app)
    assert len(_resets_to(smtp, "cleo@example.com")) == 1
    assert sorted(db.session.scalars(select(Notification.template_key)).all()) == [
        "email_verification", "password_reset"]


def test_staff_get_a_link_to_the_console(app, client, app_ctx, smtp, build):
    staff = db.session.get(Account, build.staff(build.provider()))
    _ask(client, staff.email)
    run_jobs(current_app)
    (message,) = smtp.to(staff.email)
    body = message.get_body(("plain",)).get_content()
    assert "/password/reset/" in body and "/shop/" not in body
    assert password_reset.reset_url(staff).startswith(
        current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + "/password/reset/")


def test_a_bad_address_is_refused_in_the_error_shape(client, app_ctx):
    assert_error_shape(_ask(client, "no-at-sign"), 422)
    assert_error_shape(client.post("/api/v1/auth/password-reset", json={}), 422)
