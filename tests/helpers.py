"""Client-side helpers shared by API and console tests."""
from __future__ import annotations

import contextvars

from flask.testing import FlaskClient

from tests.builders import PASSWORD


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own application context.

    Flask reuses an application context that is already pushed, and the ``build`` fixture
    keeps one pushed for the whole test. Requests would then share ``g`` (where
    Flask-Login caches the signed-in user) and the database session with each other and
    with the test: a second, anonymous client would be served as the first one's user.
    An empty ``contextvars.Context`` gives each request a fresh one, as in production.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def api_login(client, email: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def api_register(client, email: str = "cleo@example.com",
                 password: str = "long-enough-pw") -> None:
    """A customer registers through the API (the answer is 202 whoever holds the address)."""
    assert client.post("/api/v1/auth/register", json={
        "email": email, "password": password, "first_name": "Cleo",
        "last_name": "Doe"}).status_code == 202


def console_login(client, email: str, password: str = PASSWORD):
    return client.post("/login/", data={"username": email, "password": password},
                       follow_redirects=False)


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.data[:500])
    assert response.mimetype == "application/json", response.data[:200]
    body = response.get_json()
    assert set(body) == {"code", "message", "errors"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body


def token_for(user_id: int) -> str:
    """An access token without a login request (login is rate limited); needs an app context."""
    from flask_jwt_extended import create_access_token

    return create_access_token(identity=str(user_id))
