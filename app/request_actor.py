"""The acting user of a web request, as a value for the audit trail.

Registered by ``create_app``: before each request the actor is the signed-in console
user (or nobody) with the request's address; an API endpoint that verifies a token names
its account with :func:`identify`, one that accepts a provider API key names the key with
:func:`act_as_key`. The actor is dropped when the request ends, so the
services below see who acts only through :func:`app.services.audit.current_actor`.
"""
from __future__ import annotations

from contextlib import ExitStack

from flask import Flask, g, request
from flask_login import current_user

from app import logging as app_logging
from app.services import audit
from app.services.scopes import Actor

_ACTING = "bookwell_acting"


def init_app(app: Flask) -> None:
    app.before_request(_act_for_the_request)
    app.teardown_request(_stop_acting)


def identify(user_id: int | None, provider_id: int | None = None) -> None:
    """From here to the end of the request, ``user_id`` acts (a verified API token)."""
    _enter(Actor(user_id, ip=request.remote_addr))
    app_logging.note_actor(user_id=user_id, provider_id=provider_id)


def act_as_key(key_id: int, label: str, provider_id: int | None = None) -> None:
    """From here to the end of the request, a provider API key acts (no user)."""
    _enter(Actor(None, ip=request.remote_addr, api_key_id=key_id, api_key_label=label))
    app_logging.note_actor(user_id=None, provider_id=provider_id)


def _act_for_the_request() -> None:
    user = current_user
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    _enter(Actor(user.id if signed_in else None, ip=request.remote_addr))
    if signed_in:
        app_logging.note_actor(user_id=user.id, provider_id=getattr(user, "provider_id", None))


def _enter(actor: Actor) -> None:
    g.setdefault(_ACTING, ExitStack()).enter_context(audit.acting_as(actor))


def _stop_acting(exc: BaseException | None = None) -> None:
    acting = g.pop(_ACTING, None)
    if acting is not None:
        acting.close()
