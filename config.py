"""Configuration, read from environment variables only (12-factor).

Every variable is listed in the README's configuration table. Embedded mode (no
environment at all) runs on SQLite under ``instance/`` with jobs inline; production
mode (``BOOKWELL_ENV=production``) refuses to start without real secrets.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("BOOKWELL_INSTANCE_DIR", BASE_DIR / "instance"))
TRANSLATIONS_DIR = BASE_DIR / "translations"  # the storefront's message catalogues

REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL")


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable application."""


def _development_secret(name: str) -> str:
    """A random secret kept in instance/ so sessions and tokens survive restarts."""
    path = INSTANCE_DIR / f".{name.lower()}"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _normalise_database_url(url: str) -> str:
    # Accept the plain postgres:// forms that hosting platforms hand out.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings shared by every mode, resolved from the environment at construction."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.BOOKWELL_ENV = env.get("BOOKWELL_ENV", "development")
        production = self.BOOKWELL_ENV == "production"
        if production:
            missing = [name for name in REQUIRED_IN_PRODUCTION if not env.get(name)]
            if missing:
                raise ConfigurationError(
                    "BOOKWELL_ENV=production needs " + ", ".join(missing)
                )

        self.SECRET_KEY = env.get("SECRET_KEY") or _development_secret("SECRET_KEY")
        self.JWT_SECRET_KEY = env.get("JWT_SECRET_KEY") or _development_secret(
            "JWT_SECRET_KEY"
        )
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(
            minutes=_env_int_from(env, "JWT_ACCESS_MINUTES", 15)
        )
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(
            days=_env_int_from(env, "JWT_REFRESH_DAYS", 30)
        )
        self.JWT_TOKEN_LOCATION = ["headers"]
        # Header tokens need no CSRF claim, and "not before" would only repeat "issued at":
        # a shorter token is decoded faster on every authenticated request.
        self.JWT_COOKIE_CSRF_PROTECT = False
        self.JWT_ENCODE_NBF = False

        default_db = f"sqlite:///{INSTANCE_DIR / 'bookwell.db'}"
        self.SQLALCHEMY_DATABASE_URI = _normalise_database_url(
            env.get("DATABASE_URL") or default_db
        )
        self.DB_LOCK_TIMEOUT_MS = _env_int_from(env, "DB_LOCK_TIMEOUT_MS", 3000)
        self.DB_RANDOM_PAGE_COST = _env_float_from(env, "DB_RANDOM_PAGE_COST", 1.1)
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(
            self.SQLALCHEMY_DATABASE_URI, self.DB_LOCK_TIMEOUT_MS, self.DB_RANDOM_PAGE_COST)
        self.REDIS_URL = env.get("REDIS_URL") or None

        # Flask-AppBuilder: the schema comes from Alembic only, and permissions are
        # synced by `flask bookwell sync-roles` as a release step, never by web workers.
        self.APP_NAME = env.get("APP_NAME", "Bookwell")
        self.FAB_CREATE_DB = False
        self.FAB_UPDATE_PERMS = _env_bool_from(env, "FAB_UPDATE_PERMS", False)
        # One hashing method for every stored password (app/services/password_hashing.py).
        self.FAB_PASSWORD_HASH_METHOD = env.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
        self.FAB_ADD_SECURITY_API = False
        self.FAB_API_SWAGGER_UI = False
        self.FAB_SECURITY_MANAGER_CLASS = "views.security.BookwellSecurityManager"
        # The console's layout: Flask-AppBuilder's, plus its stylesheet, favicon and tab titles.
        self.FAB_BASE_TEMPLATE = "console/base.html"
        self.FAB_INDEX_VIEW = "views.dashboard.DashboardIndexView"  # the home dashboards
        self.AUTH_TYPE = 1  # AUTH_DB
        self.AUTH_ROLE_ADMIN = "Admin"
        self.AUTH_ROLE_PUBLIC = "Public"
        self.AUTH_USER_REGISTRATION = False
        self.AUTH_USERNAME_CI = True
        # Flask-AppBuilder sets up Flask-Babel from these. The console stays English (one
        # entry in LANGUAGES, so it shows no language menu); the storefront's languages are
        # the catalogues in translations/ (see docs/storefront.md, "Languages").
        self.BABEL_DEFAULT_LOCALE = "en"
        self.LANGUAGES = {"en": {"flag": "gb", "name": "English"}}
        self.BABEL_TRANSLATION_DIRECTORIES = str(TRANSLATIONS_DIR)

        # One Flask-Limiter for the whole app (FAB's and ours); FAB turns it off unless set.
        self.RATELIMIT_ENABLED = _env_bool_from(env, "RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        # Redis unreachable: count in this process's memory (Flask-Limiter logs the switch
        # and returns to Redis once it answers) rather than failing every sign-in.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        # Give up on an unreachable Redis quickly, as the app's own client does.
        self.RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
        self.RATELIMIT_HEADERS_ENABLED = True
        # A limit on every route and address, e.g. "600 per minute" (empty: none).
        self.RATELIMIT_DEFAULT = env.get("RATELIMIT_DEFAULT", "")
        self.AUTH_RATE_LIMIT = env.get("AUTH_RATE_LIMIT", "10 per minute")
        self.GUEST_BOOKING_RATE_LIMIT = env.get("GUEST_BOOKING_RATE_LIMIT", "10 per hour")
        # How long a mailed link to choose a new password works.
        self.PASSWORD_RESET_MAX_AGE_MINUTES = int(env.get("PASSWORD_RESET_MAX_AGE_MINUTES",
                                                          "60"))
        # How long a mailed link to verify an email address works, and how often a
        # signed-in holder may ask for it again.
        self.EMAIL_VERIFICATION_MAX_AGE_HOURS = int(env.get("EMAIL_VERIFICATION_MAX_AGE_HOURS",
                                                            "48"))
        self.EMAIL_VERIFICATION_RATE_LIMIT = env.get("EMAIL_VERIFICATION_RATE_LIMIT",
                                                     "3 per hour")
        self.AUTH_RATE_LIMITED = True  # the console's login form, with the same limit
        # Actions that wait for a verified email address (comma-separated; empty: none).
        # Known: link_guest_bookings, link_social, change_email.
        self.VERIFIED_EMAIL_REQUIRED_FOR = tuple(
            a.strip() for a in env.get("VERIFIED_EMAIL_REQUIRED_FOR",
                                       "link_guest_bookings,link_social,change_email"
                                       ).split(",") if a.strip())

        # Two-factor sign-in (authenticator app) for the console: admins must set it up
        # when on (by default in production); staff may. The secrets are encrypted with a
        # key derived from TOTP_ENCRYPTION_KEY, else from SECRET_KEY (changing the one in
        # use makes every authenticator unreadable: its holders must be reset).
        self.CONSOLE_REQUIRE_2FA = _env_bool_from(env, "CONSOLE_REQUIRE_2FA", production)
        self.TOTP_ENCRYPTION_KEY = env.get("TOTP_ENCRYPTION_KEY") or None

        # Console forms are CSRF-protected; the JSON API is exempt (it uses bearer tokens).
        self.WTF_CSRF_ENABLED = True
        self.WTF_CSRF_TIME_LIMIT = None

        # Larger request bodies are refused with 413 before they are read (1 MiB default).
        self.MAX_CONTENT_LENGTH = _env_int_from(env, "MAX_CONTENT_LENGTH", 1024 * 1024)

        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = production
        self.REMEMBER_COOKIE_SECURE = production

        # flask-smorest; FAB owns /api/v1/_openapi and /swagger/v1, we stay clear of both.
        self.API_TITLE = "Bookwell API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api/v1"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "docs"
        self.OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/assets/"
        # No online validator badge: it would send the spec's URL to validator.swagger.io.
        self.OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None}
        self.API_SPEC_OPTIONS = {
            "info": {
                "description": "Bookwell customer, provider and public REST API. "
                "Errors always have the shape {code, message, errors}."
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                    },
                    "apiKey": {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "bwk_<prefix>_<secret>",
                        "description": "A provider API key made in the console "
                        "(Integrations → API keys). Accepted on provider endpoints only; "
                        "each endpoint names the scope the key needs.",
                    },
                }
            },
        }

        # Browser origins allowed to call /api/* (comma-separated); empty: same origin only.
        self.CORS_ORIGINS = [o.strip() for o in env.get("CORS_ORIGINS", "").split(",")
                             if o.strip()]

        # Sign in with Google, Facebook and Apple. A provider is offered only when its
        # client id and secret (Apple: service id, team id, key id and private key) are set.
        self.GOOGLE_OAUTH_CLIENT_ID = env.get("GOOGLE_OAUTH_CLIENT_ID") or None
        self.GOOGLE_OAUTH_CLIENT_SECRET = env.get("GOOGLE_OAUTH_CLIENT_SECRET") or None
        self.FACEBOOK_OAUTH_CLIENT_ID = env.get("FACEBOOK_OAUTH_CLIENT_ID") or None
        self.FACEBOOK_OAUTH_CLIENT_SECRET = env.get("FACEBOOK_OAUTH_CLIENT_SECRET") or None
        self.APPLE_CLIENT_ID = env.get("APPLE_CLIENT_ID") or None  # the Services ID
        self.APPLE_TEAM_ID = env.get("APPLE_TEAM_ID") or None
        self.APPLE_KEY_ID = env.get("APPLE_KEY_ID") or None
        self.APPLE_PRIVATE_KEY = (env.get("APPLE_PRIVATE_KEY") or "").replace("\\n", "\n") or None
        # Staff and admins may sign in to the console with Google (never Facebook or Apple).
        self.CONSOLE_GOOGLE_SIGN_IN = _env_bool_from(env, "CONSOLE_GOOGLE_SIGN_IN", True)
        # Behind a reverse proxy that ends TLS: how many proxies' X-Forwarded-Proto/-Host to
        # trust, so that links and sign-in callbacks are built as https on the public host.
        self.PROXY_FIX_HOPS = _env_int_from(env, "PROXY_FIX_HOPS", 0)
        # One base URL in place of every identity provider's hosts (a local stand-in).
        self.SOCIAL_SIGN_IN_BASE_URL = env.get("SOCIAL_SIGN_IN_BASE_URL") or None
        # Reads of one calendar feed address per client address (calendar apps poll).
        self.CALENDAR_FEED_RATE_LIMIT = env.get("CALENDAR_FEED_RATE_LIMIT", "60 per minute")
        # Calls per provider API key, counted across all provider endpoints (429 past it).
        self.API_KEY_RATE_LIMIT = env.get("API_KEY_RATE_LIMIT", "600 per minute")
        # How long each call made with an API key is kept (the key's "Recent calls").
        self.API_KEY_CALL_RETENTION_DAYS = _env_int_from(env, "API_KEY_CALL_RETENTION_DAYS",
                                                         30)
        # Where an app may receive its one-time sign-in code (comma-separated, exact URIs).
        self.SOCIAL_APP_REDIRECT_URIS = tuple(
            u.strip() for u in env.get("SOCIAL_APP_REDIRECT_URIS", "").split(",") if u.strip())

        # Google Maps: geocoding of locations and the maps in console and storefront.
        self.GOOGLE_MAPS_API_KEY = env.get("GOOGLE_MAPS_API_KEY") or None
        self.GOOGLE_MAPS_BASE_URL = env.get("GOOGLE_MAPS_BASE_URL") or None  # a stand-in server
        self.GOOGLE_MAPS_TIMEOUT = _env_float_from(env, "GOOGLE_MAPS_TIMEOUT", 5.0)
        # Places typed into the storefront's search, looked up per client address.
        self.PLACE_SEARCH_RATE_LIMIT = env.get("PLACE_SEARCH_RATE_LIMIT", "20 per minute")
        if production and self.GOOGLE_MAPS_API_KEY and not self.GOOGLE_MAPS_API_KEY.startswith(
                "AIza"):
            raise ConfigurationError("GOOGLE_MAPS_API_KEY is not a Google API key (AIza…)")

        # Payments. Online payments go through PAYMENT_GATEWAY (a provider may choose its
        # own); offerings paid at the venue use the manual gateway. STRIPE_API_BASE points
        # stripe-python at a Stripe-compatible test server (make run starts one).
        self.PAYMENT_GATEWAY = env.get("PAYMENT_GATEWAY", "stripe")
        self.STRIPE_SECRET_KEY = env.get("STRIPE_SECRET_KEY") or None
        self.STRIPE_PUBLISHABLE_KEY = env.get("STRIPE_PUBLISHABLE_KEY") or None
        self.STRIPE_WEBHOOK_SECRET = env.get("STRIPE_WEBHOOK_SECRET") or None
        self.STRIPE_API_BASE = env.get("STRIPE_API_BASE") or None
        self.STRIPE_TIMEOUT = _env_float_from(env, "STRIPE_TIMEOUT", 10.0)
        # Seconds a webhook's signature timestamp may be old (Stripe's own default: 300).
        self.STRIPE_WEBHOOK_TOLERANCE = _env_int_from(env, "STRIPE_WEBHOOK_TOLERANCE", 300)
        # PayPal (Orders v2): PAYPAL_API_BASE is PayPal's sandbox unless set (its live
        # address, https://api-m.paypal.com, or a local stand-in). The webhook id is the
        # one PayPal gave the webhook: its verify call needs it.
        self.PAYPAL_CLIENT_ID = env.get("PAYPAL_CLIENT_ID") or None
        self.PAYPAL_CLIENT_SECRET = env.get("PAYPAL_CLIENT_SECRET") or None
        self.PAYPAL_WEBHOOK_ID = env.get("PAYPAL_WEBHOOK_ID") or None
        self.PAYPAL_API_BASE = env.get("PAYPAL_API_BASE") or "https://api-m.sandbox.paypal.com"
        self.PAYPAL_TIMEOUT = _env_float_from(env, "PAYPAL_TIMEOUT", 10.0)
        # PayPal's JS SDK for the storefront's PayPal button. Unset (None): PayPal's own,
        # https://www.paypal.com/sdk/js, when PAYPAL_API_BASE is PayPal's, none for a
        # stand-in (app.services.paypal_checkout.js_sdk_url decides per request). Set empty:
        # none (the plain form to the approval page). Set: that SDK (the stand-in's /sdk/js).
        self.PAYPAL_JS_SDK_URL = env.get("PAYPAL_JS_SDK_URL")
        # A payment still unsettled after this long is re-read from the gateway.
        self.PAYMENT_RECONCILE_AFTER_MINUTES = _env_int_from(
            env, "PAYMENT_RECONCILE_AFTER_MINUTES", 10)
        # A refund the gateway left pending is re-read after this long (then less often).
        self.REFUND_RECHECK_AFTER_MINUTES = _env_int_from(
            env, "REFUND_RECHECK_AFTER_MINUTES", 10)
        # The server-side "pay with a test card" step: on with a local test server only.
        self.PAYMENT_TEST_CARDS = _env_bool_from(
            env, "PAYMENT_TEST_CARDS", bool(self.STRIPE_API_BASE and (
                self.STRIPE_API_BASE.startswith(("http://127.0.0.1", "http://localhost")))))
        if self.PAYMENT_GATEWAY not in ("stripe", "manual", "paypal"):
            raise ConfigurationError("PAYMENT_GATEWAY must be stripe, manual or paypal")
        if production and self.STRIPE_SECRET_KEY and not self.STRIPE_WEBHOOK_SECRET:
            raise ConfigurationError("STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY")

        # Where customers reach this deployment: links in messages, Twilio status callbacks.
        # Unset, the address `make run` serves (127.0.0.1 on PORT); behind a proxy or a
        # public host name it must be set.
        self.PUBLIC_BASE_URL = (env.get("PUBLIC_BASE_URL") or (
            f"http://127.0.0.1:{_env_int_from(env, 'PORT', 5000)}")).rstrip("/")
        # PayPal wants invoice ids unique for good per PayPal account: ours are this prefix
        # and the payment id (installations sharing an account, or a database reset, must
        # not collide). By default the app's name and public host.
        self.PAYPAL_INVOICE_PREFIX = env.get("PAYPAL_INVOICE_PREFIX") or _invoice_prefix(
            self.APP_NAME, self.PUBLIC_BASE_URL)

        # Receipts: PDFs in a local folder, or S3-compatible object storage when a bucket
        # is given.
        self.RECEIPT_STORAGE_DIR = env.get("RECEIPT_STORAGE_DIR") or None  # <instance>/receipts
        self.S3_BUCKET = env.get("S3_BUCKET") or None
        self.S3_ENDPOINT_URL = env.get("S3_ENDPOINT_URL") or None
        self.S3_REGION = env.get("S3_REGION") or None
        self.S3_ACCESS_KEY_ID = env.get("S3_ACCESS_KEY_ID") or None
        self.S3_SECRET_ACCESS_KEY = env.get("S3_SECRET_ACCESS_KEY") or None
        self.S3_PREFIX = env.get("S3_PREFIX", "receipts/")
        # Pictures of offerings and providers' logos (app/services/images.py).
        self.IMAGE_STORAGE_DIR = env.get("IMAGE_STORAGE_DIR") or None  # <instance>/images
        self.S3_IMAGE_PREFIX = env.get("S3_IMAGE_PREFIX", "images/")
        self.IMAGE_MAX_BYTES = _env_int_from(env, "IMAGE_MAX_BYTES", 5 * 1024 * 1024)
        self.IMAGE_MAX_PIXELS = _env_int_from(env, "IMAGE_MAX_PIXELS", 40_000_000)

        # Email over SMTP (Flask-Mail); without MAIL_SERVER, messages are written to
        # <instance>/outbox/ instead.
        self.MAIL_SERVER = env.get("MAIL_SERVER") or None
        self.MAIL_PORT = _env_int_from(env, "MAIL_PORT", 587)
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.MAIL_USE_TLS = _env_bool_from(env, "MAIL_USE_TLS", self.MAIL_PORT == 587)
        self.MAIL_USE_SSL = _env_bool_from(env, "MAIL_USE_SSL", False)
        self.MAIL_DEFAULT_SENDER = env.get("MAIL_DEFAULT_SENDER", "Bookwell <no-reply@bookwell.example>")
        self.MAIL_TIMEOUT = _env_float_from(env, "MAIL_TIMEOUT", 10.0)
        self.NOTIFICATION_OUTBOX_DIR = env.get("NOTIFICATION_OUTBOX_DIR") or None  # <instance>/outbox

        # SMS through Twilio; TWILIO_API_BASE points the client at a stand-in server.
        self.TWILIO_ACCOUNT_SID = env.get("TWILIO_ACCOUNT_SID") or None
        self.TWILIO_AUTH_TOKEN = env.get("TWILIO_AUTH_TOKEN") or None
        self.TWILIO_FROM_NUMBER = env.get("TWILIO_FROM_NUMBER") or None
        self.TWILIO_API_BASE = env.get("TWILIO_API_BASE") or None
        self.REMINDER_HOURS_BEFORE = _env_int_from(env, "REMINDER_HOURS_BEFORE", 24)

        # TikTok: the Pixel on storefront pages and the Events API after payment. Sent only
        # with the customer's consent and an access token.
        self.TIKTOK_PIXEL_CODE = env.get("TIKTOK_PIXEL_CODE") or None
        self.TIKTOK_ACCESS_TOKEN = env.get("TIKTOK_ACCESS_TOKEN") or None
        self.TIKTOK_API_BASE = (env.get("TIKTOK_API_BASE")
                                or "https://business-api.tiktok.com").rstrip("/")
        self.TIKTOK_TIMEOUT = _env_float_from(env, "TIKTOK_TIMEOUT", 10.0)
        self.TIKTOK_SEND_PLACE_AN_ORDER = _env_bool_from(env, "TIKTOK_SEND_PLACE_AN_ORDER",
                                                         False)
        # Raw IP address and user agent of a booking request are cleared after this many days.
        self.ATTRIBUTION_RETENTION_DAYS = _env_int_from(env, "ATTRIBUTION_RETENTION_DAYS", 30)

        # Search: the database by default; OpenSearch when a URL is given.
        self.OPENSEARCH_URL = env.get("OPENSEARCH_URL") or None
        self.OPENSEARCH_INDEX = env.get("OPENSEARCH_INDEX", "bookwell-offerings")
        self.OPENSEARCH_TIMEOUT = _env_float_from(env, "OPENSEARCH_TIMEOUT", 10.0)

        # Public catalog reads are cached in Redis (when configured) for this many seconds.
        self.CATALOG_CACHE_SECONDS = _env_int_from(env, "CATALOG_CACHE_SECONDS", 60)
        self.DASHBOARD_CACHE_SECONDS = _env_int_from(env, "DASHBOARD_CACHE_SECONDS", 60)
        self.SLOT_DAYS_AHEAD = _env_int_from(env, "SLOT_DAYS_AHEAD", 60)

        # Outside calendars of staff and rooms (iCal addresses whose busy times block
        # them): how often each is fetched, the time allowed to connect and for the whole
        # answer (seconds), the largest body read, and how many busy times are kept.
        self.OUTSIDE_CALENDAR_REFRESH_MINUTES = _env_int_from(
            env, "OUTSIDE_CALENDAR_REFRESH_MINUTES", 15)
        self.OUTSIDE_CALENDAR_CONNECT_TIMEOUT = _env_float_from(
            env, "OUTSIDE_CALENDAR_CONNECT_TIMEOUT", 5.0)
        self.OUTSIDE_CALENDAR_READ_TIMEOUT = _env_float_from(
            env, "OUTSIDE_CALENDAR_READ_TIMEOUT", 15.0)
        self.OUTSIDE_CALENDAR_MAX_BYTES = _env_int_from(
            env, "OUTSIDE_CALENDAR_MAX_BYTES", 5 * 1024 * 1024)
        self.OUTSIDE_CALENDAR_MAX_BUSY_TIMES = _env_int_from(
            env, "OUTSIDE_CALENDAR_MAX_BUSY_TIMES", 2000)
        # Calendars are never fetched from private, loopback or link-local addresses,
        # except these hosts, addresses or networks (comma-separated, e.g.
        # "calendar.intranet.example,10.1.0.0/16").
        self.OUTSIDE_CALENDAR_ALLOWED_HOSTS = tuple(
            h.strip() for h in env.get("OUTSIDE_CALENDAR_ALLOWED_HOSTS", "").split(",")
            if h.strip())

        # Outgoing webhooks: time allowed to connect and to answer (seconds), how long a
        # delivery is retried (hours), the back-off (first delay, longest delay, the most
        # of a receiver's Retry-After honoured), when a failing endpoint is disabled
        # (failures in a row, spanning at least so many hours), how long a rotated secret
        # keeps signing, and how often a process re-reads which providers have endpoints.
        self.WEBHOOK_CONNECT_TIMEOUT = _env_float_from(env, "WEBHOOK_CONNECT_TIMEOUT", 3.0)
        self.WEBHOOK_READ_TIMEOUT = _env_float_from(env, "WEBHOOK_READ_TIMEOUT", 10.0)
        self.WEBHOOK_RETRY_FOR_HOURS = _env_float_from(env, "WEBHOOK_RETRY_FOR_HOURS", 72.0)
        self.WEBHOOK_RETRY_BASE_SECONDS = _env_float_from(env, "WEBHOOK_RETRY_BASE_SECONDS",
                                                          15.0)
        self.WEBHOOK_RETRY_MAX_SECONDS = _env_float_from(env, "WEBHOOK_RETRY_MAX_SECONDS",
                                                         12 * 3600.0)
        self.WEBHOOK_RETRY_AFTER_MAX_SECONDS = _env_float_from(
            env, "WEBHOOK_RETRY_AFTER_MAX_SECONDS", 6 * 3600.0)
        self.WEBHOOK_DISABLE_AFTER_FAILURES = _env_int_from(
            env, "WEBHOOK_DISABLE_AFTER_FAILURES", 15)
        self.WEBHOOK_DISABLE_AFTER_HOURS = _env_float_from(
            env, "WEBHOOK_DISABLE_AFTER_HOURS", 24.0)
        self.WEBHOOK_SECRET_OVERLAP_HOURS = _env_float_from(
            env, "WEBHOOK_SECRET_OVERLAP_HOURS", 24.0)
        # Finished deliveries (and their attempts) are kept this many days.
        self.WEBHOOK_LOG_DAYS = _env_float_from(env, "WEBHOOK_LOG_DAYS", 30.0)
        # An endpoint whose attempt took longer than this (or timed out) is delivered to
        # on the ``webhooks_slow`` queue for an hour, apart from the quick ones.
        self.WEBHOOK_SLOW_AFTER_SECONDS = _env_float_from(env, "WEBHOOK_SLOW_AFTER_SECONDS",
                                                          2.0)
        self.WEBHOOK_ENDPOINT_CACHE_SECONDS = _env_float_from(
            env, "WEBHOOK_ENDPOINT_CACHE_SECONDS", 10.0)
        # A process hands the webhook fan-out over at most twice per this many seconds
        # (0: after every commit that marked an event).
        self.WEBHOOK_FAN_OUT_WAKE_SECONDS = _env_float_from(
            env, "WEBHOOK_FAN_OUT_WAKE_SECONDS", 1.0)
        # Webhooks are never sent to private, loopback or link-local addresses, except
        # these hosts, addresses or networks (comma-separated), which may also use http.
        self.WEBHOOK_ALLOWED_HOSTS = tuple(
            h.strip() for h in env.get("WEBHOOK_ALLOWED_HOSTS", "").split(",") if h.strip())
        # https only (production's default); elsewhere http is accepted too.
        self.WEBHOOK_REQUIRE_HTTPS = _env_bool_from(env, "WEBHOOK_REQUIRE_HTTPS", production)

        # Prometheus metrics at /metrics (app/metrics.py). Off: nothing is counted. With a
        # token, a scrape must send "Authorization: Bearer <token>"; without one, /metrics
        # answers only 127.0.0.1 (development) or no one (production).
        self.METRICS_ENABLED = _env_bool_from(env, "METRICS_ENABLED", True)
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or None
        # Traces (app/tracing.py): exported over OTLP/HTTP to this collector's base
        # address (http://collector:4318); unset: tracing is off and costs nothing.
        self.OTEL_EXPORTER_OTLP_ENDPOINT = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
        self.OTEL_SERVICE_NAME = env.get("OTEL_SERVICE_NAME") or "bookwell"

        self.HOLD_MINUTES = _env_int_from(env, "HOLD_MINUTES", 15)
        # How long a place offered to the next on a waiting list is held for them.
        self.WAITLIST_OFFER_MINUTES = _env_int_from(env, "WAITLIST_OFFER_MINUTES", 30)
        # How long a request holds its Idempotency-Key before a retry may take it over
        # (the first request's process may have died).
        self.IDEMPOTENCY_LEASE_SECONDS = _env_int_from(env, "IDEMPOTENCY_LEASE_SECONDS", 30)
        self.DEMO_PASSWORD = env.get("DEMO_PASSWORD", "bookwell-demo")
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        # plain: a line of text per record; json: one JSON object per line (app/logging.py)
        self.LOG_FORMAT = (env.get("LOG_FORMAT") or "plain").strip().lower()
        if self.LOG_FORMAT not in ("plain", "json"):
            raise ConfigurationError(f"LOG_FORMAT must be plain or json, not {self.LOG_FORMAT!r}")
        self.INSTANCE_DIR = str(INSTANCE_DIR)
        self.TESTING = False

    def as_dict(self) -> dict:
        return {key: value for key, value in vars(self).items() if key.isupper()}


def engine_options(database_uri: str, lock_timeout_ms: int, random_page_cost: float) -> dict:
    """SQLAlchemy engine options for a database URL (create_app recomputes them when a
    caller overrides the URL)."""
    # Idle connections are pinged at checkout by app/pool_checks.py, not every checkout.
    options: dict = {}
    if database_uri.startswith("postgresql"):
        # A request never waits long for a row lock (a held slot): it answers 409 busy.
        # PostgreSQL's default random_page_cost (4.0) prices random reads for spinning
        # disks; on SSDs or a cached catalog it picks a full scan over the search index
        # for broad words.
        options["connect_args"] = {"options": f"-c lock_timeout={lock_timeout_ms} "
                                              f"-c random_page_cost={random_page_cost}"}
    return options


def _env_number(env, name: str, default, kind=int):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        noun = "an integer" if kind is int else "a number"
        raise ConfigurationError(f"{name} must be {noun}, got {raw!r}") from exc


def _env_int_from(env, name: str, default: int) -> int:
    return _env_number(env, name, default, int)


def _env_float_from(env, name: str, default: float) -> float:
    return _env_number(env, name, default, float)


def _env_bool_from(env, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _invoice_prefix(app_name: str, public_base_url: str) -> str:
    """"Bookwell", "https://book.example.com" → "bookwell-book.example.com-"."""
    from urllib.parse import urlsplit

    host = urlsplit(public_base_url).netloc or "local"
    name = "".join(c if c.isalnum() else "-" for c in app_name.lower()).strip("-")
    return f"{name or 'bookwell'}-{host}-"[:80]
