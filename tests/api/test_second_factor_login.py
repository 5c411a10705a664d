"""The API's login for an account with two-factor sign-in: the code comes along, or 401."""
from __future__ import annotations

from tests.helpers import assert_error_shape
from tests.builders import PASSWORD
from tests.second_factor_helpers import NOW, code_at, enrol, fix_clock, later


def _login(client, email, **extra):
    return client.post("/api/v1/auth/login",
                       json={"email": email, "password": PASSWORD, **extra})


def test_login_needs_the_code_once_two_factor_is_on(client, build, monkeypatch):
    staff = build.staff(build.provider())
    email = build.email_of(staff)
    secret, codes = enrol(staff)
    fix_clock(monkeypatch, later(30))

    assert_error_shape(_login(client, email), 401, "auth.second_factor_required")
    assert_error_shape(_login(client, email, code="000000"), 401,
                       "auth.second_factor_invalid")
    replayed = _login(client, email, code=code_at(secret, NOW))  # used to set it up
    assert_error_shape(replayed, 401, "auth.second_factor_invalid")

    ok = _login(client, email, code=code_at(secret, later(30)))
    assert ok.status_code == 200 and ok.get_json()["access_token"]
    again = _login(client, email, code=code_at(secret, later(30)))
    assert_error_shape(again, 401, "auth.second_factor_invalid")


def test_an_empty_code_is_no_code(client, build):
    staff = build.staff(build.provider())
    enrol(staff)
    response = _login(client, build.email_of(staff), code=" ")
    assert_error_shape(response, 401, "auth.second_factor_required")


def test_a_recovery_code_signs_in_once_over_the_api(client, build):
    staff = build.staff(build.provider())
    email = build.email_of(staff)
    _, codes = enrol(staff)

    assert _login(client, email, code=codes[0]).status_code == 200
    assert_error_shape(_login(client, email, code=codes[0]), 401,
                       "auth.second_factor_invalid")


def test_a_wrong_password_is_still_the_password_error(client, build):
    staff = build.staff(build.provider())
    enrol(staff)
    response = client.post("/api/v1/auth/login", json={
        "email": build.email_of(staff), "password": "not the password", "code": "123456"})
    assert_error_shape(response, 401, "auth.invalid_credentials")


def test_without_two_factor_the_code_is_not_needed(client, build):
    staff = build.staff(build.provider())
    assert _login(client, build.email_of(staff)).status_code == 200


def test_the_openapi_document_describes_the_code(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    login = spec["paths"]["/api/v1/auth/login"]["post"]
    assert "auth.second_factor_required" in login["responses"]["401"]["description"]
    schema_name = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][schema_name.rsplit("/", 1)[-1]]
    assert "code" in schema["properties"] and "code" not in schema.get("required", [])


def test_an_admin_who_must_have_two_factor_gets_no_tokens_without_it(app, client, build):
    email = build.email_of(build.admin())
    app.config["CONSOLE_REQUIRE_2FA"] = True
    try:
        refused = _login(client, email)
    finally:
        app.config["CONSOLE_REQUIRE_2FA"] = False
    assert_error_shape(refused, 403, "auth.second_factor_setup_required")
    assert _login(client, email).status_code == 200  # the rule off: the password is enough
