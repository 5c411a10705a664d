"""Security headers on every response, and the request body size limit.

Each surface gets its own Content-Security-Policy, built per request with a fresh nonce:

- storefront (``/shop``): scripts and styles only from this site or with the nonce; a
  third party (Stripe.js, the TikTok Pixel, a Google Maps frame, PayPal's approval
  page as a form's destination, PayPal's JS SDK) is allowed only on a page
  whose template asked for it with ``csp_allow(...)``, so a page that does not load one
  does not allow it either;
- console (``/``, Flask-AppBuilder): scripts with the nonce (Flask-AppBuilder's templates
  put ``csp_nonce()`` on every script of theirs);
- API docs (``/api/v1/docs``): Swagger UI from this site, its scripts with the nonce;
- API (``/api/...``): JSON only, so nothing may load at all;
- the RQ dashboard (``/admin/rq``, admins only): rq-dashboard's own inline script and
  underscore templates need inline scripts and eval, allowed on its pages only.

Framing is refused everywhere (``frame-ancestors 'none'`` and ``X-Frame-Options``), MIME
sniffing is off, the referrer is cut to the origin across sites, HSTS is sent in
production, and responses to signed-in users are not stored by any cache.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import abort, current_app, g, request
from flask_login import current_user

API_PREFIX = "/api/"
API_DOCS_PREFIX = "/api/v1/docs"
JOBS_DASHBOARD_PREFIX = "/admin/rq"  # views.jobs_dashboard mounts rq-dashboard here
STOREFRONT_PREFIX = "/shop"
HSTS = "max-age=31536000; includeSubDomains"

# What each third party needs on the storefront pages that use it (from the vendors'
# documentation); keys are the names templates pass to ``csp_allow``.
THIRD_PARTIES = {
    # Stripe.js and its card fields and 3-D Secure frames.
    "stripe": {
        "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
        "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com",
                      "https://hooks.stripe.com"],
        "connect-src": ["https://api.stripe.com"],
    },
    # The TikTok Pixel loads events.js and reports to the same host.
    "tiktok": {
        "script-src": ["https://analytics.tiktok.com"],
        "connect-src": ["https://analytics.tiktok.com"],
        "img-src": ["https://analytics.tiktok.com"],
    },
    # The embedded map of an offering's location.
    "google_maps": {
        "frame-src": ["https://www.google.com"],
    },
    # "Pay with PayPal" is a form whose answer sends the customer on to PayPal's approval
    # page; form-action covers a form's redirects too. (A PayPal-compatible test server
    # set as PAYPAL_API_BASE is added: see storefront_policy.)
    "paypal": {
        "form-action": ["https://www.paypal.com", "https://www.sandbox.paypal.com"],
    },
    # PayPal's JS SDK buttons (PAYPAL_JS_SDK_URL): the hosts PayPal's JS SDK best practices
    # list for script, frame, connect, image and style sources (Venmo's left out: its
    # funding is disabled). Its own inline code takes our nonce (data-csp-nonce) instead
    # of the 'unsafe-inline' PayPal suggests. Another SDK address (the stand-in's minimal
    # double, which opens its approval page in a popup) is allowed as a script source
    # only: see _sources_of.
    "paypal_sdk": {
        directive: ["https://*.paypal.com", "https://*.paypalobjects.com"]
        for directive in ("script-src", "frame-src", "connect-src", "img-src", "style-src")
    },
}


def csp_nonce() -> str:
    """This request's nonce; Flask-AppBuilder's templates call it by this name."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def csp_allow(*third_parties: str) -> str:
    """Called by a template that loads a third party; renders nothing."""
    allowed = g.setdefault("csp_third_parties", set())
    for name in third_parties:
        if name not in THIRD_PARTIES:
            raise KeyError(f"no Content-Security-Policy sources for {name!r}")
        allowed.add(name)
    return ""


def _policy(directives: dict[str, list[str]]) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


def _directives(scripts: list[str], styles: list[str]) -> dict[str, list[str]]:
    """Everything from this site only, no plugins, frames or framing, plus ``scripts``
    and ``styles`` as the surface needs them."""
    return {
        "default-src": ["'self'"],
        "script-src": ["'self'", *scripts],
        "style-src": ["'self'", *styles],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }


def storefront_policy(nonce: str, third_parties=()) -> str:
    directives = _directives([f"'nonce-{nonce}'"], [f"'nonce-{nonce}'"])
    for name in sorted(third_parties):
        for directive, sources in _sources_of(name).items():
            kept = [s for s in directives[directive] if s != "'none'"]
            directives[directive] = kept + [s for s in sources if s not in kept]
    return _policy(directives)


def _sources_of(name: str) -> dict[str, list[str]]:
    sources = THIRD_PARTIES[name]
    if name == "paypal_sdk":
        from app.services.paypal_checkout import is_paypal_host, js_sdk_url

        sdk = js_sdk_url()
        if not sdk:
            return {}
        if not is_paypal_host(sdk):
            parts = urlsplit(sdk)
            return {"script-src": [f"{parts.scheme}://{parts.netloc}"]}
    if name == "paypal":  # the local stand-in's approval page, in the demo and tests
        parts = urlsplit(current_app.config.get("PAYPAL_API_BASE") or "")
        if parts.scheme in ("http", "https") and parts.netloc \
                and not parts.netloc.endswith("paypal.com"):
            sources = {"form-action": [*sources["form-action"],
                                       f"{parts.scheme}://{parts.netloc}"]}
    return sources


def console_policy(nonce: str) -> str:
    # Flask-AppBuilder's templates and widgets carry style="" attributes, which a nonce
    # cannot cover; scripts stay nonce-only.
    return _policy(_directives([f"'nonce-{nonce}'"], ["'unsafe-inline'"]))


def api_docs_policy(nonce: str) -> str:
    # Swagger UI sets styles through the DOM (allowed) and talks to this site only: its
    # online validator badge is switched off (OPENAPI_SWAGGER_UI_CONFIG).
    return _policy(_directives([f"'nonce-{nonce}'"], [f"'nonce-{nonce}'"]))


def jobs_dashboard_policy() -> str:
    # rq-dashboard (a third-party blueprint, admins only) starts from an inline script
    # without a nonce, compiles its row templates with underscore (new Function) and
    # uses style attributes.
    return _policy(_directives(["'unsafe-inline'", "'unsafe-eval'"], ["'unsafe-inline'"]))


# JSON answers: nothing in them may load or run, and nobody may frame them.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
COMMON_HEADERS = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)


def _surface(path: str) -> str:
    if path.startswith(API_DOCS_PREFIX):
        return "api_docs"
    if path.startswith(API_PREFIX):
        return "api"
    if path.startswith(JOBS_DASHBOARD_PREFIX + "/"):
        return "jobs_dashboard"
    if path == STOREFRONT_PREFIX or path.startswith(STOREFRONT_PREFIX + "/"):
        return "storefront"
    return "console"


def _is_static_file() -> bool:
    endpoint = request.endpoint or ""
    return endpoint.endswith("static") or endpoint == "api_docs_assets.swagger_ui_asset"


def _carries_personal_data(surface: str) -> bool:
    """Responses a shared cache or the browser's history must not keep."""
    if surface == "api":
        # Anonymous reads (the public catalog) may be cached; anything signed in, and
        # every sign-in, registration and token answer, may not.
        return bool(request.headers.get("Authorization")) \
            or request.method not in ("GET", "HEAD", "OPTIONS")
    if _is_static_file():
        return False
    return current_user.is_authenticated


UPLOAD_ENDPOINTS = "bookwell.upload_endpoints"
UPLOAD_FORM_ALLOWANCE = 256 * 1024  # the rest of a form sent with a picture


def accept_uploads(app, *endpoints: str) -> None:
    """Let these endpoints (forms with a picture) take bodies up to ``IMAGE_MAX_BYTES``
    plus the rest of their form, instead of ``MAX_CONTENT_LENGTH``."""
    app.extensions.setdefault(UPLOAD_ENDPOINTS, set()).update(endpoints)


def body_limit() -> int | None:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request.endpoint in current_app.extensions.get(UPLOAD_ENDPOINTS, ()):
        upload = current_app.config.get("IMAGE_MAX_BYTES", 0) + UPLOAD_FORM_ALLOWANCE
        limit = max(limit or 0, upload)
    return limit


def refuse_large_body():
    """413 before anything reads a body larger than its limit (``body_limit``)."""
    limit = body_limit()
    if limit != current_app.config.get("MAX_CONTENT_LENGTH"):
        request.max_content_length = limit  # the form parser checks it as it reads
    if limit and request.content_length and request.content_length > limit:
        abort(413, description=f"The request body is larger than {limit} bytes.")


def add_security_headers(response):
    surface = _surface(request.path)
    headers = response.headers
    if surface == "storefront":
        policy = storefront_policy(csp_nonce(), g.get("csp_third_parties", ()))
    elif surface == "console":
        policy = console_policy(csp_nonce())
    elif surface == "api_docs":
        policy = api_docs_policy(csp_nonce())
    elif surface == "jobs_dashboard":
        policy = jobs_dashboard_policy()
    else:
        policy = API_POLICY
    headers["Content-Security-Policy"] = policy
    # Added, not set: a fresh response has none of them, and set() scans every header.
    headers.extend(COMMON_HEADERS)
    if current_app.config.get("BOOKWELL_ENV") == "production":
        headers.add("Strict-Transport-Security", HSTS)
    # A public file (a picture: ``Cache-Control: public``) is the same for everyone.
    if _carries_personal_data(surface) and not response.cache_control.public:
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


def init_app(app) -> None:
    """Register first, so an oversized body is refused before CSRF checks read the form."""
    app.before_request(refuse_large_body)
    app.after_request(add_security_headers)
    app.jinja_env.globals.update(csp_nonce=csp_nonce, csp_allow=csp_allow)
