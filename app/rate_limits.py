"""Rate limits are checked where one can apply, not looked for on every request.

Flask-Limiter checks a route's own limit (a decorator: the sign-up and sign-in routes) as
the route runs, and everything else from one hook before every request: app-wide limits
and a blueprint's limits (Flask-AppBuilder's console sign-in form). Unless an app-wide
limit is configured, that hook moves onto the limited blueprints, so a request elsewhere
(a booking) skips resolving limits it does not have, some 5 % of its CPU.
"""
from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from limits.storage import MemoryStorage


SHARED, IN_MEMORY, IN_MEMORY_FALLBACK, OFF = ("shared", "in-memory", "in-memory fallback",
                                            "off")


def counting_mode(limiter: Limiter) -> str:
    """Where rate limits are counted right now: ``shared`` (Redis, across processes),
    ``in-memory`` (configured so: embedded mode), ``in-memory fallback`` (Redis is
    unreachable, so each process counts alone until it answers again) or ``off``."""
    if not (limiter.enabled and limiter.initialized):
        return OFF
    storage = limiter.storage
    if isinstance(storage, MemoryStorage):
        return IN_MEMORY
    # The limiter hands out its in-memory fallback once it found the storage dead; the
    # check tells the same before a limited request has run into it.
    if limiter.limiter.storage is not storage or not storage.check():
        return IN_MEMORY_FALLBACK
    return SHARED


def limits_every_route(app: Flask, limiter: Limiter) -> bool:
    """Whether a limit applies to every request: default, application-wide or meta."""
    manager = limiter.limit_manager
    return bool(manager.default_limits or manager.application_limits
                or app.config.get("RATELIMIT_META"))


def check_only_where_limited(app: Flask, limiter: Limiter) -> None:
    """Call once every blueprint is registered."""
    hooks = app.before_request_funcs.get(None, [])
    check = limiter._check_request_limit
    if check not in hooks or limits_every_route(app, limiter):
        return  # limiting is off, or every request needs the hook
    hooks.remove(check)
    # Private, but the version is pinned and the tests check each blueprint's limit holds.
    for blueprint in limiter.limit_manager._blueprint_limits:
        app.before_request_funcs.setdefault(blueprint, []).append(check)
