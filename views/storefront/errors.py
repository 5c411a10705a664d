"""The shop's own error pages: 400, 403, 404, 405, 413, 429 and 500 under ``/shop`` in the
shop's layout and language, with the right status. The console and the API keep theirs.

Errors raised by a storefront page reach the blueprint's handler. An address under
``/shop`` that matches no page (or not with that method) belongs to no blueprint, so
Flask would answer with Werkzeug's bare page: a hook that runs before routing errors are
raised answers those in the shop's layout instead.
"""
from __future__ import annotations

import logging

from flask import current_app, g, render_template, request
from flask_babel import lazy_gettext
from werkzeug.exceptions import HTTPException

from views.storefront.blueprint import bp

log = logging.getLogger(__name__)

# status → (title, what happened and what to do)
PAGES = {
    400: (lazy_gettext("Something was wrong with that request"),
          lazy_gettext("The form could not be read, perhaps because the page was open for a "
                       "long time. Go back, reload the page and try again.")),
    403: (lazy_gettext("Not available to you"),
          lazy_gettext("You are not allowed to open this page. If it belongs to your account, "
                       "sign in with that account.")),
    404: (lazy_gettext("Page not found"),
          lazy_gettext("We could not find that page. It may have moved, or the link may be "
                       "incomplete.")),
    405: (lazy_gettext("Page not found"),
          lazy_gettext("This address cannot be used that way. Go back and try again.")),
    413: (lazy_gettext("Too much to send"),
          lazy_gettext("What you sent is larger than we accept. Try again with less.")),
    429: (lazy_gettext("Too many attempts"),
          lazy_gettext("That was tried too often in a short time. Wait a minute, then try "
                       "again.")),
    500: (lazy_gettext("Something went wrong"),
          lazy_gettext("Something went wrong on our side, and nothing was changed by it. "
                       "Please try again in a moment.")),
}
FALLBACK = """<!doctype html><html lang="en"><meta charset="utf-8"><title>{code}</title>
<p>Something went wrong ({code}). Please try again in a moment.</p></html>"""


def is_storefront_path(path: str) -> bool:
    return path == bp.url_prefix or path.startswith(bp.url_prefix + "/")


def error_page(error: HTTPException):
    if error.code is None or error.code < 400:  # redirects and the like pass through
        return error
    title, explanation = PAGES.get(error.code, (error.name, error.description))
    headers = {name: value for name, value in error.get_headers()
               if name in ("Allow", "Retry-After")}
    try:
        body = render_template("storefront/error.html", code=error.code, title=title,
                               explanation=explanation,
                               request_id=getattr(g, "request_id", None),
                               **_shop_context())
    except Exception:  # the page itself failed (the database is down, say): plain words
        log.exception("the %s page of the shop could not be rendered", error.code)
        body = FALLBACK.format(code=error.code)
    return body, error.code, headers


# By class for every HTTP error, and by code for those the app registers handlers for by
# code (a code's handler is looked for before a class's, here and app-wide).
bp.register_error_handler(HTTPException, error_page)
for _code in PAGES:
    bp.register_error_handler(_code, error_page)


def _shop_context() -> dict:
    """What the shop's pages get from its context processors, which Flask runs only for
    requests routed to the blueprint (an unrouted address is not)."""
    if request.blueprint == bp.name:
        return {}
    context: dict = {}
    for processor in current_app.template_context_processors.get(bp.name, ()):
        context.update(processor())
    return context


@bp.before_app_request
def unrouted_shop_address():
    """An address under /shop that no page answers: the shop's 404 (or 405) page."""
    failed = request.routing_exception
    if isinstance(failed, HTTPException) and (failed.code or 0) >= 400 \
            and is_storefront_path(request.path):
        return error_page(failed)
    return None

