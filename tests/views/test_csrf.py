"""With CSRF on (as in production), the console refuses GET deletes and token-less posts."""
from __future__ import annotations

import pytest

from tests.builders import PASSWORD
from tests.helpers import console_login
from tests.views.console import (
    console_client,
    csrf_token,
    is_signed_in,
    provider_snapshot,
    second_app,
    signed_in,
)


@pytest.fixture(scope="module")
def csrf_app(app, tmp_dir):
    """A second app on the same database and Redis, with CSRF protection switched on."""
    return second_app(app, tmp_dir, WTF_CSRF_ENABLED=True)


@pytest.fixture
def csrf_admin(csrf_app, admin_email):
    """A signed-in admin client; signing in itself needs the login form's token."""
    client = console_client(csrf_app)
    token = csrf_token(client.get("/login/"))
    response = client.post(
        "/login/", data={"username": admin_email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302 and is_signed_in(client)
    return client


def test_login_without_token_is_refused(csrf_app, admin_email):
    client = console_client(csrf_app)

    response = console_login(client, admin_email)

    assert response.status_code == 400
    assert not is_signed_in(client)


def test_get_delete_does_not_delete(csrf_admin, tenant_a):
    response = csrf_admin.get(f"/providerview/delete/{tenant_a.provider_id}")

    assert response.status_code == 302
    assert provider_snapshot(tenant_a.provider_id) is not None


def test_post_delete_without_token_is_400(csrf_admin, tenant_a):
    response = csrf_admin.post(f"/providerview/delete/{tenant_a.provider_id}")

    assert response.status_code == 400
    assert provider_snapshot(tenant_a.provider_id) is not None


def test_post_delete_with_token_deletes(csrf_admin, build):
    provider_id = build.provider(name="Short-lived")
    token = csrf_token(csrf_admin.get(f"/providerview/edit/{provider_id}"))

    response = csrf_admin.post(f"/providerview/delete/{provider_id}", data={"csrf_token": token})

    assert response.status_code == 302
    assert provider_snapshot(provider_id) is None


def test_get_delete_is_refused_even_with_csrf_checks_off(app, admin_email, tenant_a):
    # Flask-AppBuilder refuses GET mutations whenever CSRFProtect is registered, which
    # create_app always does; WTF_CSRF_ENABLED=False in tests only skips the token check.
    admin = signed_in(app, admin_email)

    response = admin.get(f"/providerview/delete/{tenant_a.provider_id}")

    assert response.status_code == 302
    assert provider_snapshot(tenant_a.provider_id) is not None
