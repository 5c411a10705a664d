"""Flask's signed-cookie session, its signer built once per set of keys.

Flask builds a new ``URLSafeTimedSerializer`` on every request, also for API calls that
never use the session; the signer depends only on the secret key and its fallbacks.
"""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class CookieSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._signing = (None, None)  # (keys, serializer): only the current keys are kept

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached_keys, serializer = self._signing
        if cached_keys != keys or serializer is None:
            serializer = super().get_signing_serializer(app)
            self._signing = (keys, serializer)
        return serializer
