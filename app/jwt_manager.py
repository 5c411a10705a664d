"""The API's JWT manager: each distinct access token is verified once per process.

Flask-JWT-Extended parses a token three times per request (its claims, its header, then
the verified decode) and PyJWT checks every character of each part on each parse: on the
booking endpoint that was a tenth of the worker's time. A token that verified once is
the same bytes next time, so its claims are kept until the token expires. Everything
that can change meanwhile is still checked per request, after decoding: revocation (the
blocklist loader) and the account (the user loader, or the booking service).

A token signed with the right key is still refused (401 ``auth.invalid_token``) unless
its claims have the shape this app issues: an account id as ``sub``, an expiry, a token
id, a known type. The handlers after the decode rely on that shape.
"""
from __future__ import annotations

import re
import threading
import time

from flask import current_app
from flask_jwt_extended import JWTManager
from flask_jwt_extended.exceptions import JWTDecodeError

from app.models.types import MAX_ID

VERIFIED_TOKENS = 4096  # per process; a token is about 1 KB with its claims


class VerifyOnceJWTManager(JWTManager):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._verified: dict[tuple, dict] = {}
        self._lock = threading.Lock()  # threaded servers: one writer at a time

    # Flask-JWT-Extended's one decoding step (pinned in requirements.txt; a test checks
    # that requests go through here).
    def _decode_jwt_from_config(self, encoded_token: str, csrf_value=None,
                                allow_expired: bool = False) -> dict:
        key = (encoded_token, csrf_value)
        claims = None if allow_expired else self._verified.get(key)
        if claims is not None:
            if time.time() < claims["exp"]:
                return dict(claims)
            with self._lock:
                self._verified.pop(key, None)  # expired: the full decode answers why
        claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        check_claims(claims, current_app.config["JWT_IDENTITY_CLAIM"])
        if not allow_expired and isinstance(claims.get("exp"), (int, float)):
            with self._lock:
                if len(self._verified) >= VERIFIED_TOKENS:
                    del self._verified[next(iter(self._verified))]  # the oldest
                self._verified[key] = dict(claims)
        return claims


_ACCOUNT_ID = re.compile(r"[1-9][0-9]{0,9}")


def check_claims(claims: dict, identity_claim: str) -> None:
    """Raise JWTDecodeError (answered 401) unless the claims are shaped as we issue them."""
    subject = claims.get(identity_claim)
    if not (isinstance(subject, str) and _ACCOUNT_ID.fullmatch(subject)
            and int(subject) <= MAX_ID):
        raise JWTDecodeError(f"The '{identity_claim}' claim is not an account id.")
    if claims.get("type") not in ("access", "refresh"):
        raise JWTDecodeError("Unknown token type.")
    if not (isinstance(claims.get("jti"), str) and claims["jti"]):
        raise JWTDecodeError("Missing claim: jti.")
    if not isinstance(claims.get("exp"), int) or isinstance(claims["exp"], bool):
        raise JWTDecodeError("Missing claim: exp.")
    fresh = claims.get("fresh")
    if not isinstance(fresh, (bool, int, float)):
        raise JWTDecodeError("The 'fresh' claim is not a flag or a time.")
