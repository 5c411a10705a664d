"""A second app with Google, Facebook and Apple configured, all three answered by the
local identity provider (tests/fakes/identity_provider.py) over real HTTP."""
from __future__ import annotations

import pytest

from tests.helpers import IsolatedClient
from tests.fakes.identity_provider import FakeIdentityProvider, make_apple_key
from tests.views.console import second_app

CLIENTS = {"google": ("google-client", "google-secret"),
           "facebook": ("facebook-client", "facebook-secret"),
           "apple": ("com.example.bookwell", "")}
APP_REDIRECT = "com.example.bookwell:/signed-in"


@pytest.fixture(scope="session")
def apple_key():
    return make_apple_key()  # (private PEM, public PEM)


@pytest.fixture(scope="session")
def idp(apple_key):
    with FakeIdentityProvider(clients=CLIENTS, apple_team_id="TEAM123456",
                              apple_key_id="KEY1234567",
                              apple_public_key_pem=apple_key[1]) as server:
        yield server


def social_settings(idp, apple_key, base_url=None) -> dict:
    return dict(
        SOCIAL_SIGN_IN_BASE_URL=base_url or idp.base_url,
        GOOGLE_OAUTH_CLIENT_ID=CLIENTS["google"][0],
        GOOGLE_OAUTH_CLIENT_SECRET=CLIENTS["google"][1],
        FACEBOOK_OAUTH_CLIENT_ID=CLIENTS["facebook"][0],
        FACEBOOK_OAUTH_CLIENT_SECRET=CLIENTS["facebook"][1],
        APPLE_CLIENT_ID=CLIENTS["apple"][0], APPLE_TEAM_ID="TEAM123456",
        APPLE_KEY_ID="KEY1234567", APPLE_PRIVATE_KEY=apple_key[0],
        SOCIAL_APP_REDIRECT_URIS=(APP_REDIRECT,))


@pytest.fixture(scope="session")
def social_app(app, tmp_dir, idp, apple_key):
    other = second_app(app, tmp_dir, **social_settings(idp, apple_key))
    other.test_client_class = IsolatedClient
    return other


@pytest.fixture
def shop(social_app):
    """A browser-like client of the configured app (cookies kept)."""
    return social_app.test_client()
