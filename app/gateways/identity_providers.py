"""Google, Facebook and Apple as identity providers: where their OAuth endpoints are, and
who a finished sign-in says the person is.

Google and Apple answer the token request with an OpenID Connect ID token, checked here
against the provider's published keys (signature, issuer, audience, expiry); Facebook has
no ID token in this flow, so its Graph API's ``/me`` is asked with the access token.
``SOCIAL_SIGN_IN_BASE_URL`` puts one stand-in server in place of every provider's hosts
(tests, local development): ``<base>/<provider>/authorize``, ``/token``, ``/jwks``, and
``/facebook/me``.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import lru_cache

import jwt
import requests

APPLE_AUDIENCE = "https://appleid.apple.com"  # the audience of Apple's client secret
APPLE_SECRET_SECONDS = 10 * 60  # a fresh secret per sign-in would do; reuse it for a while
TIMEOUT_SECONDS = 5
CLOCK_LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class ProviderSpec:
    key: str
    label: str
    authorization_url: str
    token_url: str
    scope: tuple[str, ...]
    jwks_url: str | None = None  # OpenID Connect providers
    issuers: tuple[str, ...] = ()
    profile_url: str | None = None  # Facebook's Graph API
    authorization_params: dict = field(default_factory=dict)


PROVIDERS = {
    "google": ProviderSpec(
        "google", "Google", "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token", ("openid", "email", "profile"),
        jwks_url="https://www.googleapis.com/oauth2/v3/certs",
        issuers=("https://accounts.google.com", "accounts.google.com")),
    "facebook": ProviderSpec(
        "facebook", "Facebook", "https://www.facebook.com/v19.0/dialog/oauth",
        "https://graph.facebook.com/v19.0/oauth/access_token", ("email", "public_profile"),
        profile_url="https://graph.facebook.com/v19.0/me"),
    # Apple sends the name only once, and only by POSTing the answer (form_post).
    "apple": ProviderSpec(
        "apple", "Apple", "https://appleid.apple.com/auth/authorize",
        "https://appleid.apple.com/auth/token", ("name", "email"),
        jwks_url="https://appleid.apple.com/auth/keys", issuers=("https://appleid.apple.com",),
        authorization_params={"response_mode": "form_post"}),
}
ORDER = ("google", "apple", "facebook")  # as the buttons are shown


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the identity provider says signed in. ``email_verified`` is the provider's
    assertion that the person controls ``email`` (Facebook's is never trusted as one)."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    first_name: str = ""
    last_name: str = ""


class IdentityProviderError(Exception):
    """The provider's answer could not be used (unreachable, refused, or did not check
    out)."""


def spec(provider: str, config) -> ProviderSpec:
    """The provider's endpoints, on the stand-in server when one is configured."""
    real = PROVIDERS[provider]
    base = (config.get("SOCIAL_SIGN_IN_BASE_URL") or "").rstrip("/")
    if not base:
        return real
    here = f"{base}/{provider}"
    return ProviderSpec(
        real.key, real.label, f"{here}/authorize", f"{here}/token", real.scope,
        jwks_url=f"{here}/jwks" if real.jwks_url else None,
        issuers=(here,) if real.issuers else (),
        profile_url=f"{here}/me" if real.profile_url else None,
        authorization_params=real.authorization_params)


def is_configured(provider: str, config) -> bool:
    if provider == "apple":
        return all(config.get(k) for k in ("APPLE_CLIENT_ID", "APPLE_TEAM_ID", "APPLE_KEY_ID",
                                           "APPLE_PRIVATE_KEY"))
    prefix = provider.upper()
    return bool(config.get(f"{prefix}_OAUTH_CLIENT_ID")
                and config.get(f"{prefix}_OAUTH_CLIENT_SECRET"))


def configured(config) -> list[str]:
    """The providers offered, in display order."""
    return [key for key in ORDER if is_configured(key, config)]


def client_id(provider: str, config) -> str:
    return config["APPLE_CLIENT_ID"] if provider == "apple" else config[
        f"{provider.upper()}_OAUTH_CLIENT_ID"]


def client_secret(provider: str, config) -> str:
    if provider == "apple":
        return apple_client_secret(config["APPLE_CLIENT_ID"], config["APPLE_TEAM_ID"],
                                   config["APPLE_KEY_ID"], config["APPLE_PRIVATE_KEY"],
                                   _slot=int(time.time()) // APPLE_SECRET_SECONDS)
    return config[f"{provider.upper()}_OAUTH_CLIENT_SECRET"]


@lru_cache(maxsize=8)
def apple_client_secret(client: str, team: str, key_id: str, private_key: str, *,
                        _slot: int) -> str:
    """Apple's client secret: a JWT signed (ES256) with the team's key, valid a little
    longer than the ``_slot`` it is cached for."""
    now = int(time.time())
    claims = {"iss": team, "sub": client, "aud": APPLE_AUDIENCE, "iat": now,
              "exp": now + 2 * APPLE_SECRET_SECONDS}
    return jwt.encode(claims, private_key, algorithm="ES256", headers={"kid": key_id})


def identity_from(provider: str, token: dict, config, *, apple_user: dict | None = None
                  ) -> ProviderIdentity:
    """Who signed in, from the token response of a finished authorization."""
    where = spec(provider, config)
    if provider == "facebook":
        return _facebook_identity(where, token)
    claims = _verified_id_token(where, token.get("id_token"), client_id(provider, config))
    first, last = claims.get("given_name", ""), claims.get("family_name", "")
    if provider == "apple" and apple_user:
        name = apple_user.get("name") or {}
        first, last = name.get("firstName", "") or "", name.get("lastName", "") or ""
    return ProviderIdentity(
        provider=provider, subject=str(claims["sub"]), email=claims.get("email") or None,
        # Apple sends "true"/"false" as strings, Google as booleans.
        email_verified=str(claims.get("email_verified", "")).lower() == "true",
        first_name=str(first)[:64], last_name=str(last)[:64])


def apple_user_from_form(value: str | None) -> dict | None:
    """The ``user`` field Apple posts on a person's first sign-in (their name), if any."""
    try:
        user = json.loads(value) if value else None
    except ValueError:
        return None
    return user if isinstance(user, dict) else None


@lru_cache(maxsize=8)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    # One client per key set: it caches the keys and refetches on an unknown key id.
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=TIMEOUT_SECONDS)


def _verified_id_token(where: ProviderSpec, id_token: str | None, audience: str) -> dict:
    if not id_token:
        raise IdentityProviderError(f"{where.label} sent no ID token")
    try:
        key = _jwks_client(where.jwks_url).get_signing_key_from_jwt(id_token)
        claims = jwt.decode(id_token, key.key, algorithms=["RS256", "ES256"],
                            audience=audience, issuer=list(where.issuers),
                            leeway=CLOCK_LEEWAY_SECONDS,
                            options={"require": ["sub", "iss", "aud", "exp", "iat"]})
    except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
        raise IdentityProviderError(f"{where.label}'s ID token did not check out: {exc}"
                                    ) from exc
    return claims


def _facebook_identity(where: ProviderSpec, token: dict) -> ProviderIdentity:
    try:
        answer = requests.get(
            where.profile_url, timeout=TIMEOUT_SECONDS,
            params={"fields": "id,name,email,first_name,last_name"},
            headers={"Authorization": f"Bearer {token.get('access_token', '')}"})
        answer.raise_for_status()
        profile = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise IdentityProviderError(f"Facebook's profile could not be read: {exc}") from exc
    if not profile.get("id"):
        raise IdentityProviderError("Facebook's profile has no id")
    return ProviderIdentity(
        provider="facebook", subject=str(profile["id"]), email=profile.get("email") or None,
        # Facebook does not say whether the address was confirmed: never link by it.
        email_verified=False, first_name=str(profile.get("first_name", ""))[:64],
        last_name=str(profile.get("last_name", ""))[:64])
