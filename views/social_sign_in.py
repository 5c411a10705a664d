"""Sign in with Google, Facebook and Apple: one Flask-Dance blueprint per configured
provider (``/oauth/<provider>`` and its ``/authorized`` callback), shared by every surface.

Where a sign-in started decides what its callback does. The start pages put an *intent*
in the session (:mod:`app.sign_in_intent`) — ``shop`` (sign in to the storefront, then
back to ``next``), ``link`` (add the sign-in to the signed-in customer's account),
``console`` (Google only; ends in :func:`views.console_sign_in.finish_first_factor`) or
``api`` (a one-time code to an allow-listed app address) — and the callback,
Flask-Dance's ``oauth_authorized`` signal, acts on it. The provider's token is never stored: the handler answers with a response.

Apple posts its answer (``response_mode=form_post``) from its own site, a request that
carries no ``SameSite=Lax`` session cookie: :func:`_apple_form_post` keeps the name Apple
sends once and turns the POST into the same callback as a GET (303), which does carry it.
"""
from __future__ import annotations

import logging
import os
from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_dance.consumer import OAuth2ConsumerBlueprint, oauth_authorized, oauth_error
from flask_login import current_user, login_user
from oauthlib.oauth2 import OAuth2Error
from requests import RequestException

from app.errors import DomainError
from app.extensions import csrf
from app.gateways import identity_providers
from app.gateways.identity_providers import IdentityProviderError
from app.services import sign_in_sessions, social_sign_in
from app.sign_in_intent import API, CONSOLE, LINK, SHOP, login_endpoint, offered, start, take

log = logging.getLogger(__name__)
PROVIDER_FAILED = ("social.provider_failed",
                   "Signing in with {label} did not work. Please try again.")


def register(app) -> None:
    """A blueprint for each configured provider, and the console's Google start page."""
    if app.config["BOOKWELL_ENV"] != "production":
        # oauthlib refuses plain http, which a development machine (and a local stand-in
        # provider) has; production must be https end to end (PROXY_FIX_HOPS behind a proxy).
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    for provider in identity_providers.configured(app.config):
        app.register_blueprint(_blueprint(provider, app.config))
    if console_google_offered(app.config):
        app.register_blueprint(console_start)
    app.jinja_env.globals["social_sign_ins"] = _buttons
    app.jinja_env.globals["console_google_sign_in"] = console_google_offered


def _buttons() -> list[tuple[str, str]]:
    """(provider, label) for each "Continue with …" button."""
    return [(key, social_sign_in.label(key)) for key in offered()]


def console_google_offered(config=None) -> bool:
    config = config or current_app.config
    return bool(config.get("CONSOLE_GOOGLE_SIGN_IN")) and identity_providers.is_configured(
        "google", config)


def _blueprint(provider: str, config) -> OAuth2ConsumerBlueprint:
    where = identity_providers.spec(provider, config)
    bp = OAuth2ConsumerBlueprint(
        login_endpoint(provider), __name__, url_prefix="/oauth",
        login_url=f"/{provider}", authorized_url=f"/{provider}/authorized",
        client_id=identity_providers.client_id(provider, config),
        client_secret=None if provider == "apple" else identity_providers.client_secret(
            provider, config),
        scope=list(where.scope), authorization_url=where.authorization_url,
        authorization_url_params=dict(where.authorization_params),
        token_url=where.token_url)
    bp.provider = provider
    if provider == "apple":
        # Apple's client secret is a JWT that expires: a current one for each request.
        @bp.before_request
        def fresh_apple_secret():
            bp.client_secret = identity_providers.client_secret("apple", current_app.config)

        view = csrf.exempt(_apple_form_post)
        bp.add_url_rule(f"/{provider}/authorized", endpoint="form_post", view_func=view,
                        methods=["POST"])
    bp.register_error_handler(OAuth2Error, _token_request_failed)
    bp.register_error_handler(RequestException, _token_request_failed)
    oauth_authorized.connect(_authorized, sender=bp)
    oauth_error.connect(_refused, sender=bp)
    return bp


def _apple_form_post():
    """Apple's answer, posted from appleid.apple.com: keep the one-time name, then
    continue as the GET callback Flask-Dance handles (the session cookie comes with it)."""
    form = request.form
    user = identity_providers.apple_user_from_form(form.get("user"))
    if user and form.get("state"):
        social_sign_in.keep_apple_name(form["state"], user)
    fields = {k: form[k] for k in ("code", "state", "error", "error_description") if k in form}
    return redirect(url_for(".authorized", **fields), code=303)


def _authorized(blueprint, token, **_):
    intent = take()
    provider = blueprint.provider
    apple_user = social_sign_in.take_apple_name(request.args.get("state")) \
        if provider == "apple" else None
    try:
        identity = identity_providers.identity_from(provider, token, current_app.config,
                                                    apple_user=apple_user)
    except IdentityProviderError as exc:
        log.warning("social sign-in with %s failed: %s", provider, exc)
        return _failure(intent, provider, *PROVIDER_FAILED)
    handler = {SHOP: _shop, LINK: _link, CONSOLE: _console, API: _api}.get(
        intent.get("purpose"), _shop)
    try:
        return handler(identity, intent)
    except DomainError as exc:
        return _failure(intent, provider, exc.code, exc.message)


def _refused(blueprint, error=None, error_description=None, **_):
    """The person pressed Cancel at the provider (or the provider refused)."""
    intent = take()
    code = "social.cancelled" if error == "access_denied" else "social.provider_failed"
    message = ("You cancelled signing in with {label}." if code == "social.cancelled"
               else PROVIDER_FAILED[1])
    return _failure(intent, blueprint.provider, code, message)


def _token_request_failed(exc):
    log.warning("social sign-in: the token request failed: %s", exc)
    intent = take()
    provider = intent.get("provider") or request.blueprint.removeprefix("oauth_")
    return _failure(intent, provider, *PROVIDER_FAILED)


# What each surface does -------------------------------------------------------------------

def _shop(identity, intent):
    from views.storefront.account import shop_refusal

    account = social_sign_in.account_for(identity, surface=social_sign_in.SHOP)
    refusal = shop_refusal(account)
    if refusal:
        flash(refusal)
        return redirect(url_for("storefront.login", next=intent.get("next")))
    g.sign_in_kind = sign_in_sessions.SHOP
    login_user(account)
    return redirect(intent.get("next") or url_for("storefront.offerings"))


def _link(identity, intent):
    from views.storefront.shop_messages import social_message

    if not current_user.is_authenticated or current_user.id != intent.get("account_id"):
        return _failure(intent, identity.provider, "social.signed_out",
                        "You were signed out meanwhile. Sign in and link again.")
    social_sign_in.link(current_user, identity)
    flash(social_message("social.linked", "", identity.provider))
    return redirect(url_for("storefront.my_sessions"))


def _console(identity, intent):
    from views.console_sign_in import finish_first_factor

    account = social_sign_in.account_for(identity, surface=social_sign_in.CONSOLE)
    return finish_first_factor(account, next_url=intent.get("next"))


def _api(identity, intent):
    account = social_sign_in.account_for(identity, surface=social_sign_in.API)
    code = social_sign_in.issue_app_code(account.id, intent.get("code_challenge"))
    return redirect(_with_query(intent["redirect_uri"], code=code))


def _failure(intent: dict, provider: str, code: str, message: str):
    """Back where the sign-in started, saying why it did not work."""
    text = message.format(label=social_sign_in.label(provider)) if "{label}" in message \
        else message
    purpose = intent.get("purpose")
    if purpose == API and intent.get("redirect_uri"):
        return redirect(_with_query(intent["redirect_uri"], error=code,
                                    error_description=text))
    if purpose == CONSOLE:
        flash(text, "danger")
        return redirect(url_for(current_app.appbuilder.sm.auth_view.endpoint + ".login"))
    from views.storefront.shop_messages import social_message

    flash(social_message(code, text, provider))
    if purpose == LINK:
        return redirect(url_for("storefront.my_sessions"))
    return redirect(url_for("storefront.login", next=intent.get("next")))


def _with_query(uri: str, **params) -> str:
    parts = urlsplit(uri)
    query = urlencode([*parse_qsl(parts.query), *params.items()])
    return urlunsplit(parts._replace(query=query))


# The console's start page ------------------------------------------------------------------

console_start = Blueprint("console_social_sign_in", __name__)


@console_start.route("/login/google")
def console_google():
    """"Sign in with Google" on the console's sign-in page."""
    from views.console_sign_in import safe_next

    return start("google", {"purpose": CONSOLE, "next": safe_next(request.args.get("next"))})
