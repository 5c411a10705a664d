"""Customer sign-up, sign-in, token refresh and revocation, and the profile."""
from __future__ import annotations

from datetime import timedelta

import email as email_lib
from email import policy

import pytest
from flask import current_app
from flask_jwt_extended import create_access_token
from sqlalchemy import select

from app.extensions import db
from app.models import Account, AuditLog, RevokedToken
from tests.helpers import api_login, assert_error_shape, bearer

PASSWORD = "long-enough-pw"


def register(client, email="cleo@example.com", **extra):
    body = {"email": email, "password": PASSWORD, "first_name": "Cleo", "last_name": "Doe"}
    body.update(extra)
    return client.post("/api/v1/auth/register", json=body)


@pytest.fixture
def outbox(app, monkeypatch, tmp_path):
    """No SMTP: emails become files here (sent inline, or by ``sent_emails`` with Redis)."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "NOTIFICATION_OUTBOX_DIR", str(tmp_path / "outbox"))
    return tmp_path / "outbox"


def sent_emails(outbox):
    from tests.notifications.conftest import run_jobs

    run_jobs(current_app)
    return [email_lib.message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted(outbox.glob("*.eml"))]


def register_id(client, email="cleo@example.com") -> int:
    """Register and return the new account's id (the answer does not carry it)."""
    assert register(client, email=email).status_code == 202
    return db.session.scalar(select(Account.id).where(Account.email == email))


def test_register_creates_a_customer_with_a_hashed_password(client, app_ctx, outbox):
    response = register(client, email="  Cleo@Example.COM ", phone="+49 151 12345678",
                        timezone="Europe/Berlin", locale="de", marketing_consent=True)

    assert response.status_code == 202, response.get_json()
    assert set(response.get_json()) == {"message"}
    user = db.session.scalar(select(Account))
    assert user.email == "cleo@example.com" and user.role_names == {"Customer"}
    assert user.phone == "+4915112345678"
    assert user.password and PASSWORD not in user.password
    assert user.timezone == "Europe/Berlin" and user.marketing_consent is True
    sent_emails(outbox)  # the link to verify the address is mailed
    actions = [row.action for row in db.session.query(AuditLog).order_by(AuditLog.id)]
    assert actions == ["account.registered", "account.email_verification_requested"]
    assert api_login(client, "cleo@example.com", PASSWORD)["token_type"] == "Bearer"


def test_a_registered_email_is_answered_like_a_new_one_and_its_holder_is_emailed(
        app, client, app_ctx, outbox):
    new = register(client, email="cleo@example.com")
    holder = db.session.scalar(select(Account))

    again = register(client, email="CLEO@example.com", password="another-password-9",
                     first_name="Mallory")

    assert (again.status_code, again.get_json()) == (new.status_code, new.get_json())
    assert again.status_code == 202
    assert db.session.query(Account).count() == 1
    db.session.refresh(holder)
    assert holder.first_name == "Cleo"
    assert api_login(client, "cleo@example.com", PASSWORD)  # the password is unchanged
    # The link to verify the address (mailed on registration), then the attempt.
    verification, message = sorted(sent_emails(outbox), key=lambda m: "register" in m["Subject"])
    assert verification["Subject"] == "Verify your email address"
    assert message["To"] == "cleo@example.com"
    assert "register" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "Hello Cleo" in body and "/shop/login" in body
    actions = [row.action for row in db.session.query(AuditLog).order_by(AuditLog.id)]
    assert sorted(actions) == ["account.email_verification_requested", "account.registered",
                               "account.registration_attempted", "account.signed_in"]


def test_a_registered_email_with_a_bad_field_is_refused_like_a_new_one(client, app_ctx):
    # Field checks come before the address is looked up: a 422 tells nothing either.
    register(client, email="cleo@example.com")
    taken = register(client, email="cleo@example.com", phone="030 123456")
    fresh = register(client, email="new@example.com", phone="030 123456")
    assert (taken.status_code, taken.get_json()) == (fresh.status_code, fresh.get_json())
    assert taken.status_code == 422


def test_repeated_attempts_email_the_holder_once_an_hour(app, client, app_ctx, outbox):
    register(client, email="cleo@example.com")
    for _ in range(3):
        assert register(client, email="cleo@example.com").status_code == 202
    subjects = sorted(message["Subject"] for message in sent_emails(outbox))
    assert len(subjects) == 2 and "Verify your email address" in subjects  # + one attempt


@pytest.mark.parametrize("field, value", [
    ("email", "not-an-email"),
    ("password", "short"),
    ("phone", "030 123456"),
    ("timezone", "Mars/Olympus"),
    ("locale", "xx_YY_ZZ"),
])
def test_register_refuses_bad_fields_with_per_field_errors(client, app_ctx, field, value):
    response = register(client, **{field: value})

    body = assert_error_shape(response, 422)
    assert field in body["errors"], body
    assert db.session.query(Account).count() == 0


def test_register_without_required_fields_names_each(client, app_ctx):
    body = assert_error_shape(client.post("/api/v1/auth/register", json={}), 422,
                              "validation_error")
    assert {"email", "password", "first_name", "last_name"} <= set(body["errors"])


def test_login_returns_tokens_that_open_me(client, app_ctx):
    register(client)
    tokens = api_login(client, "CLEO@example.com", PASSWORD)

    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 15 * 60
    me = client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["email"] == "cleo@example.com"


@pytest.mark.parametrize("email, password", [
    ("cleo@example.com", "wrong-password"),
    ("nobody@example.com", PASSWORD),
])
def test_login_refuses_wrong_credentials_alike(client, app_ctx, email, password):
    register(client)
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert_error_shape(response, 401, "auth.invalid_credentials")


def test_inactive_account_cannot_sign_in(client, app_ctx):
    user_id = register_id(client)
    db.session.get(Account, user_id).active = False
    db.session.commit()

    response = client.post("/api/v1/auth/login",
                           json={"email": "cleo@example.com", "password": PASSWORD})

    assert_error_shape(response, 401, "auth.invalid_credentials")


def test_refresh_rotates_and_revokes_the_old_refresh_token(client, app_ctx):
    register(client)
    first = api_login(client, "cleo@example.com", PASSWORD)

    response = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))
    assert response.status_code == 200, response.get_json()
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(second["access_token"])).status_code == 200

    again = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))
    assert_error_shape(again, 401, "auth.token_revoked")


def test_an_access_token_cannot_refresh(client, app_ctx):
    register(client)
    tokens = api_login(client, "cleo@example.com", PASSWORD)
    response = client.post("/api/v1/auth/refresh", headers=bearer(tokens["access_token"]))
    assert_error_shape(response, 401, "auth.invalid_token")


def test_logout_revokes_the_refresh_token(client, app_ctx):
    register(client)
    tokens = api_login(client, "cleo@example.com", PASSWORD)

    response = client.post("/api/v1/auth/logout", headers=bearer(tokens["refresh_token"]))

    assert response.status_code == 204
    assert db.session.query(RevokedToken).count() == 1
    refused = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert_error_shape(refused, 401, "auth.token_revoked")
    twice = client.post("/api/v1/auth/logout", headers=bearer(tokens["refresh_token"]))
    assert_error_shape(twice, 401, "auth.token_revoked")


def test_me_requires_a_valid_token(client, app_ctx):
    assert_error_shape(client.get("/api/v1/me"), 401, "auth.missing_token")
    assert_error_shape(client.get("/api/v1/me", headers=bearer("garbage")), 401,
                       "auth.invalid_token")


def test_an_expired_token_is_refused(client, app_ctx):
    user_id = register_id(client)
    token = create_access_token(identity=str(user_id), expires_delta=timedelta(seconds=-1))
    assert_error_shape(client.get("/api/v1/me", headers=bearer(token)), 401,
                       "auth.token_expired")


def test_a_token_of_a_deleted_account_is_refused(client, app_ctx):
    user_id = register_id(client)
    token = api_login(client, "cleo@example.com", PASSWORD)["access_token"]
    db.session.delete(db.session.get(Account, user_id))
    db.session.commit()
    # Its sign-in session went with the account.
    assert_error_shape(client.get("/api/v1/me", headers=bearer(token)), 401, "auth.token_revoked")
    forged = create_access_token(identity=str(user_id))  # a token of no session
    assert_error_shape(client.get("/api/v1/me", headers=bearer(forged)), 401, "auth.unknown_user")


def test_patch_me_updates_the_profile(client, app_ctx):
    register(client)
    token = api_login(client, "cleo@example.com", PASSWORD)["access_token"]

    response = client.patch("/api/v1/me", headers=bearer(token), json={
        "first_name": "Cleopatra", "phone": "+442071838750", "locale": "en_GB",
        "timezone": "Europe/London", "marketing_consent": True})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["first_name"], body["phone"], body["locale"], body["timezone"],
            body["marketing_consent"]) == ("Cleopatra", "+442071838750", "en_GB",
                                           "Europe/London", True)
    cleared = client.patch("/api/v1/me", headers=bearer(token), json={"phone": None})
    assert cleared.get_json()["phone"] is None


@pytest.mark.parametrize("changes, field", [
    ({"phone": "12345"}, "phone"),
    ({"timezone": "Nowhere/Land"}, "timezone"),
    ({"email": "not-an-email"}, "email"),
    ({"first_name": ""}, "first_name"),
    ({"marketing_consent": "perhaps"}, "marketing_consent"),
])
def test_patch_me_refuses_bad_values_and_changes_nothing(client, app_ctx, changes, field):
    register(client)
    token = api_login(client, "cleo@example.com", PASSWORD)["access_token"]

    response = client.patch("/api/v1/me", headers=bearer(token), json=changes)

    body = assert_error_shape(response, 422)
    assert field in body["errors"], body
    me = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert me["first_name"] == "Cleo" and me["phone"] is None and me["timezone"] == "UTC"


def test_login_is_rate_limited_per_address(client, app_ctx):
    register(client)
    body = {"email": "cleo@example.com", "password": "wrong-password"}
    answers = [client.post("/api/v1/auth/login", json=body) for _ in range(5)]
    assert [answer.status_code for answer in answers] == [401] * 5
    assert answers[0].headers["X-RateLimit-Limit"] == "5"
    assert answers[0].headers["X-RateLimit-Remaining"] == "4"

    limited = client.post("/api/v1/auth/login", json=body)
    assert_error_shape(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    other = client.post("/api/v1/auth/login", json=body,
                        environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 401


def test_register_is_rate_limited(client, app_ctx):
    statuses = [register(client, email=f"c{i}@example.com").status_code for i in range(6)]
    assert statuses[:5] == [202] * 5
    assert statuses[5] == 429
    assert db.session.query(Account).count() == 5
