"""Verifying an email address over the API, with the mail read from a local SMTP server:
a link mailed on registration and on an email change, that works once, not after it
expires, not for a former address; asking again is rate-limited; an unverified account is
refused the actions that need a verified address."""
from __future__ import annotations

import re
import time

from flask import current_app
from itsdangerous import TimestampSigner
from sqlalchemy import select

from app.extensions import db
from app.models import Account, AuditLog
from tests.helpers import api_register, api_login, assert_error_shape, bearer
from tests.notifications.conftest import run_jobs

PASSWORD = "long-enough-pw"


def _mailed_tokens(smtp, address) -> list[str]:
    run_jobs(current_app)
    found = []
    for message in smtp.to(address):
        if message["Subject"] == "Verify your email address":
            body = message.get_body(("plain",)).get_content()
            found.append(re.search(r"/shop/account/verify/(\S+)", body).group(1))
    return found


def _verify(client, token):
    return client.post("/api/v1/auth/verify-email", json={"token": token})


def _me(client, token):
    return client.get("/api/v1/me", headers=bearer(token)).get_json()


def _actions():
    return [row.action for row in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_registration_mails_a_link_that_verifies_the_address(client, app_ctx, smtp):
    api_register(client)
    (token,) = _mailed_tokens(smtp, "cleo@example.com")
    access = api_login(client, "cleo@example.com", PASSWORD)["access_token"]
    assert _me(client, access)["email_verified"] is False

    verified = _verify(client, token)

    assert verified.status_code == 200
    assert verified.get_json() == {"email": "cleo@example.com", "email_verified": True}
    assert _me(client, access)["email_verified"] is True
    assert {"account.email_verification_requested", "account.email_verified"} <= set(
        _actions())


def test_the_link_works_once(client, app_ctx, smtp):
    api_register(client)
    (token,) = _mailed_tokens(smtp, "cleo@example.com")
    assert _verify(client, token).status_code == 200
    first = db.session.scalar(select(Account.email_verified_at))

    assert_error_shape(_verify(client, token), 422, "account.verification_link_invalid")
    db.session.expire_all()
    assert db.session.scalar(select(Account.email_verified_at)) == first


def test_an_expired_link_is_refused_and_changes_nothing(client, app_ctx, smtp, monkeypatch):
    api_register(client)
    (token,) = _mailed_tokens(smtp, "cleo@example.com")
    hours = current_app.config["EMAIL_VERIFICATION_MAX_AGE_HOURS"]
    later = int(time.time()) + hours * 3600 + 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)

    assert_error_shape(_verify(client, token), 422, "account.verification_link_expired")
    assert db.session.scalar(select(Account.email_verified_at)) is None


def test_a_forged_token_is_refused(client, app_ctx):
    assert_error_shape(_verify(client, "not-a-token"), 422,
                       "account.verification_link_invalid")


def test_an_email_change_needs_a_verified_address_and_changes_nothing_without(
        client, app_ctx, smtp):
    api_register(client)
    access = api_login(client, "cleo@example.com", PASSWORD)["access_token"]

    refused = client.patch("/api/v1/me", headers=bearer(access),
                           json={"first_name": "Cleopatra", "email": "new@example.com"})

    assert_error_shape(refused, 403, "account.email_unverified")
    db.session.expire_all()
    account = db.session.scalar(select(Account))
    assert (account.email, account.first_name) == ("cleo@example.com", "Cleo")
    assert _mailed_tokens(smtp, "new@example.com") == []


def test_a_new_address_starts_unverified_and_a_link_for_the_former_one_is_refused(
        client, app_ctx, smtp):
    api_register(client)
    (first_link,) = _mailed_tokens(smtp, "cleo@example.com")
    # A second link for the old address, asked for before it was verified.
    access = api_login(client, "cleo@example.com", PASSWORD)["access_token"]
    assert client.post("/api/v1/me/email-verification",
                       headers=bearer(access)).status_code == 202
    old_links = _mailed_tokens(smtp, "cleo@example.com")
    assert len(old_links) == 2
    assert _verify(client, first_link).status_code == 200

    changed = client.patch("/api/v1/me", headers=bearer(access),
                           json={"email": "Cleo.New@Example.com"})

    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["email"] == "cleo.new@example.com"
    assert changed.get_json()["email_verified"] is False
    (new_link,) = _mailed_tokens(smtp, "cleo.new@example.com")
    assert_error_shape(_verify(client, old_links[1]), 422,
                       "account.verification_link_invalid")
    assert _me(client, access)["email_verified"] is False
    assert _verify(client, new_link).status_code == 200
    assert _me(client, access)["email_verified"] is True
    assert api_login(client, "cleo.new@example.com", PASSWORD)["access_token"]
    assert "account.email_changed" in _actions()


def test_an_address_of_another_account_is_refused(client, app_ctx, smtp):
    api_register(client)
    api_register(client, email="other@example.com")
    assert _verify(client, _mailed_tokens(smtp, "cleo@example.com")[0]).status_code == 200
    access = api_login(client, "cleo@example.com", PASSWORD)["access_token"]

    taken = client.patch("/api/v1/me", headers=bearer(access),
                         json={"email": "OTHER@example.com"})

    assert_error_shape(taken, 422, "account.email_taken")


def test_with_change_email_not_configured_an_unverified_account_may_change_it(
        client, app_ctx, smtp, monkeypatch):
    monkeypatch.setitem(current_app.config, "VERIFIED_EMAIL_REQUIRED_FOR", ())
    api_register(client)
    access = api_login(client, "cleo@example.com", PASSWORD)["access_token"]
    changed = client.patch("/api/v1/me", headers=bearer(access),
                           json={"email": "new@example.com"})
    assert changed.status_code == 200
    assert len(_mailed_tokens(smtp, "new@example.com")) == 1


def test_asking_again_is_limited_per_account(client, app_ctx, smtp, monkeypatch):
    monkeypatch.setitem(current_app.config, "EMAIL_VERIFICATION_RATE_LIMIT", "3 per hour")
    api_register(client)
    api_register(client, email="other@example.com")
    access = api_login(client, "cleo@example.com", PASSWORD)["access_token"]
    other = api_login(client, "other@example.com", PASSWORD)["access_token"]

    answers = [client.post("/api/v1/me/email-verification", headers=bearer(access))
               for _ in range(4)]

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert answers[0].get_json()["sent"] is True
    assert_error_shape(answers[3], 429, "rate_limited")
    # Another account's allowance is its own.
    assert client.post("/api/v1/me/email-verification",
                       headers=bearer(other)).status_code == 202
    assert len(_mailed_tokens(smtp, "cleo@example.com")) == 4  # registration + 3


def test_asking_again_once_verified_sends_nothing(client, app_ctx, smtp):
    api_register(client)
    assert _verify(client, _mailed_tokens(smtp, "cleo@example.com")[0]).status_code == 200
    access = api_login(client, "cleo@example.com", PASSWORD)["access_token"]
    answer = client.post("/api/v1/me/email-verification", headers=bearer(access))
    assert answer.status_code == 202 and answer.get_json()["sent"] is False
    assert len(_mailed_tokens(smtp, "cleo@example.com")) == 1


def test_asking_again_needs_a_sign_in(client, app_ctx):
    assert_error_shape(client.post("/api/v1/me/email-verification"), 401)


def test_the_export_has_the_verification_time(client, app_ctx, smtp):
    api_register(client)
    access = api_login(client, "cleo@example.com", PASSWORD)["access_token"]
    before = client.get("/api/v1/me/export", headers=bearer(access)).get_json()
    assert before["profile"]["email_verified_at"] is None
    assert _verify(client, _mailed_tokens(smtp, "cleo@example.com")[0]).status_code == 200
    after = client.get("/api/v1/me/export", headers=bearer(access)).get_json()
    assert after["profile"]["email_verified_at"]
