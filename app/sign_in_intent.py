"""Where a sign-in with Google, Apple or Facebook started, kept in the session until the
provider sends the person back: ``shop`` (then to ``next``), ``link`` (to the signed-in
customer's account), ``console`` (Google only) or ``api`` (a one-time code to an app's
address). The storefront, the console and the API start sign-ins through :func:`start`;
:mod:`views.social_sign_in` finishes them."""
from __future__ import annotations

from flask import current_app, redirect, session, url_for

from app.errors import NotFound
from app.gateways import identity_providers

INTENT_KEY = "social_sign_in"
SHOP, LINK, CONSOLE, API = "shop", "link", "console", "api"


def offered(config=None) -> list[str]:
    """The providers configured here, in display order."""
    return identity_providers.configured(config or current_app.config)


def login_endpoint(provider: str) -> str:
    """The blueprint of the provider's sign-in (Flask-Dance's ``login`` and
    ``authorized`` views)."""
    return f"oauth_{provider}"


def start(provider: str, intent: dict):
    """Begin a sign-in with ``provider`` for ``intent``: a redirect to the provider.
    Refused (404, ``social.provider_not_offered``) when the provider is not configured."""
    if provider not in offered():
        raise NotFound("social.provider_not_offered", "This sign-in is not offered here.")
    session[INTENT_KEY] = {**intent, "provider": provider}
    return redirect(url_for(f"{login_endpoint(provider)}.login"))


def take() -> dict:
    """The intent of the sign-in finishing now (a shop sign-in when none was kept)."""
    return session.pop(INTENT_KEY, None) or {"purpose": SHOP}
