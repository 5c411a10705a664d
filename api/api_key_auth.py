"""Provider API keys at the edge: ``Authorization: Bearer bwk_…`` on a provider endpoint.

The header is recognised by the key's start before any JWT decoding (a JWT never starts
with ``bwk_``). A key is accepted only where an endpoint declares the scope it needs
(``Blueprint.login_required(roles=STAFF, scope=…)``): anywhere else, a customer's or an
admin's endpoint, it is refused without a look at the database. Each call is counted
against the key's own rate limit and, once answered, recorded with its status.

The limit is counted here, with the app's Flask-Limiter storage and strategy
(``limiter.limiter``), not with a ``@limiter.limit`` on every provider endpoint: that
decorator would resolve its limits on every staff call too, and a JWT call has none.
"""
from __future__ import annotations

import logging
import math
import time

from flask import current_app, g, request
from limits import parse

from app import request_actor
from app.errors import DomainError, Forbidden, Unauthorized
from app.extensions import limiter
from app.services import api_keys
from app.services.api_keys import KeyCaller

log = logging.getLogger(__name__)
_CALLER = "bookwell_api_key"
NOT_ACCEPTED = ("auth.api_key_not_accepted",
                "API keys are accepted on provider endpoints only.")


class RateLimited(DomainError):
    status = 429

    def __init__(self, limit: str, retry_after: int):
        super().__init__("rate_limited", f"Too many requests: limit is {limit} per API key.")
        self.headers = {"Retry-After": str(retry_after)}


def presented_key() -> str | None:
    """The key in the Authorization header, or None when the header holds anything else."""
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and api_keys.looks_like_key(credential):
        return credential
    return None


def current_caller() -> KeyCaller | None:
    """The key this request was authenticated with, if any."""
    return g.get(_CALLER)


def authenticate(presented: str, *, needs: str | None) -> KeyCaller:
    """Let the key act for its provider in this request, or refuse: 401 when the endpoint
    takes no key or the key is unknown, revoked or expired; 403 without the scope
    ``needs``; 429 past the key's rate limit."""
    if needs is None:
        raise Unauthorized(*NOT_ACCEPTED)
    caller = api_keys.authenticate(presented)
    g.setdefault(_CALLER, caller)
    request_actor.act_as_key(caller.id, caller.label, caller.provider_id)
    if needs not in caller.scopes:
        raise Forbidden("auth.scope_missing",
                        f"This API key lacks the scope {needs}.",
                        {"scope": [needs]})
    _count_call(caller)
    return caller


def _count_call(caller: KeyCaller) -> None:
    if not (limiter.enabled and limiter.initialized):
        return
    text = current_app.config.get("API_KEY_RATE_LIMIT") or ""
    if not text:
        return
    try:
        item = parse(text)
        strategy = limiter.limiter
        if strategy.hit(item, "api_key", caller.prefix):
            return
        reset_at, _remaining = strategy.get_window_stats(item, "api_key", caller.prefix)
    except Exception:  # the store unreachable (or the setting unreadable): not held up
        log.warning("API key rate limit of %s not counted", caller.prefix, exc_info=True)
        return
    g.bookwell_api_key_limited = True
    raise RateLimited(text, max(1, math.ceil(reset_at - time.time())))


def record_call(response):
    """``after_request``: one row per answered call of a key (not those refused for the
    rate limit: a flood would only write more rows)."""
    caller = g.get(_CALLER)
    if caller is None or g.get("bookwell_api_key_limited"):
        return response
    try:
        api_keys.record_call(caller, method=request.method, path=request.path,
                             status_code=response.status_code, ip=request.remote_addr)
    except Exception:
        log.exception("call of %s not recorded", caller.label)
    return response
