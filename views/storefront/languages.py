"""The storefront's language: English, plus one for every catalogue in ``translations/``.

Each storefront request picks the first that applies:

1. the language cookie, set by the switcher in the page header (this browser's latest
   explicit choice);
2. the signed-in customer's account language (stored at registration and by the switcher;
   their emails and text messages use it too);
3. the browser's ``Accept-Language``;
4. English.

Flask-AppBuilder sets up Flask-Babel for the whole app; the storefront puts its choice in
front of Flask-AppBuilder's locale selector, which still decides for the console and the
API (English: the console offers no other language).
"""
from __future__ import annotations

from babel import Locale
from flask import current_app, has_request_context, redirect, request, url_for
from flask_babel import get_babel

from app.message_catalogues import catalogue_languages
from app.services import accounts
from app.services.display_formats import DEFAULT_LOCALE
from config import TRANSLATIONS_DIR
from views.storefront.blueprint import bp, current_customer, current_language, local_path

SOURCE_LANGUAGE = DEFAULT_LOCALE  # the language of the templates and the code
LANGUAGE_COOKIE = "bw_language"
COOKIE_MAX_AGE = 365 * 24 * 3600
_EXTENSION = "bookwell.storefront_languages"


def install(app) -> None:
    """Put the storefront's choice in front of the locale selector Flask-AppBuilder gave
    Flask-Babel (call after Flask-AppBuilder's ``init_app``)."""
    app.extensions[_EXTENSION] = (SOURCE_LANGUAGE, *(
        code for code in catalogue_languages(TRANSLATIONS_DIR) if code != SOURCE_LANGUAGE))
    babel = get_babel(app)
    console_choice = babel.locale_selector

    def select_locale():
        if has_request_context() and _is_storefront(request.path):
            return storefront_language()
        return console_choice() if console_choice else None

    babel.locale_selector = select_locale


def _is_storefront(path: str) -> bool:
    return path == bp.url_prefix or path.startswith(bp.url_prefix + "/")


def languages() -> tuple[str, ...]:
    """The storefront's languages, English first."""
    return current_app.extensions[_EXTENSION]


def supported(code: str | None) -> str | None:
    """The storefront language for a locale code ('de-AT' → 'de'), or None."""
    if not code:
        return None
    code = code.replace("-", "_")
    for candidate in (code, code.split("_")[0]):
        if candidate in languages():
            return candidate
    return None


def storefront_language() -> str:
    choice = supported(request.cookies.get(LANGUAGE_COOKIE))
    if choice:
        return choice
    customer = current_customer()
    if customer is not None and supported(customer.locale):
        return supported(customer.locale)
    return request.accept_languages.best_match(languages()) or SOURCE_LANGUAGE


def language_name(code: str) -> str:
    """A language named in itself: 'English', 'Deutsch'."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


@bp.context_processor
def language_context():
    return {"current_language": current_language(),
            "language_choices": [(code, language_name(code)) for code in languages()]}


@bp.after_request
def vary_by_language(response):
    # The same address answers in another language for another browser or cookie.
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


@bp.route("/language", methods=["POST"])
def choose_language():
    """The switcher: remember the choice in this browser and, for a signed-in customer,
    in their account, so their messages use it too."""
    code = supported(request.form.get("language"))
    response = redirect(local_path(request.form.get("next")) or url_for(".offerings"))
    if code is None:
        return response
    customer = current_customer()
    if customer is not None and customer.locale != code:
        accounts.update_profile(user=customer, changes={"locale": code})
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax",
                        secure=request.is_secure, httponly=True)
    return response
