"""The storefront's blueprint and what all its pages share: the first touch, consent, the
signed-in customer, money and Pixel helpers, and the error page.

Every page takes the visit's first touch (UTM parameters, ``ttclid``) into the session;
booking carries it, with the consent choice and the request's IP and user agent, into the
booking's attribution (rules in ``app.services.attribution_capture``). The TikTok Pixel is
rendered by ``storefront/_tiktok_pixel.html`` only with a pixel code and consent.
"""
from __future__ import annotations

from decimal import Decimal
from functools import wraps
from urllib.parse import urlsplit

from babel.numbers import get_currency_precision
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user

from app.errors import DomainError
from app.services import account_bookings, attribution_capture, display_formats
from app.services.attribution_capture import CAMPAIGN_PARAMETERS, CONSENT_COOKIE, DENIED, GRANTED
from app.services.conversions import pixel_code_for
from app.services.display_formats import DEFAULT_LOCALE
from app.services.roles import CUSTOMER
from config import BASE_DIR
from views.storefront.shop_messages import shop_message

# The shop's stylesheet and script: /shop/static/ (``url_for("storefront.static", ...)``).
bp = Blueprint("storefront", __name__, url_prefix="/shop",
               static_folder=str(BASE_DIR / "static" / "storefront"), static_url_path="/static")
PAGE_SIZE = 20
FIRST_TOUCH = "bw_first_touch"  # the session key
CONSENT_MAX_AGE = 365 * 24 * 3600
TEST_CARDS = {"visa": "pm_card_visa", "declined": "pm_card_chargeCustomerFail"}


# --- every page: first touch, consent, the Pixel -----------------------------------------

@bp.before_request
def capture_first_touch():
    if FIRST_TOUCH in session or not any(request.args.get(n) for n in CAMPAIGN_PARAMETERS):
        return None
    touch = attribution_capture.first_touch(None, request.args, request.url, request.referrer)
    if touch:
        session[FIRST_TOUCH] = touch
    return None


@bp.context_processor
def storefront_context():
    return {"consent": request.cookies.get(CONSENT_COOKIE),
            "customer": current_customer(), "pixel_code_for": pixel_code_for,
            "guest_bookings_hidden": account_bookings.guest_bookings_hidden}


@bp.route("/consent", methods=["POST"])
def consent():
    choice = GRANTED if request.form.get("choice") == GRANTED else DENIED
    response = redirect(local_path(request.form.get("next")) or url_for(".offerings"))
    response.set_cookie(CONSENT_COOKIE, choice, max_age=CONSENT_MAX_AGE, samesite="Lax",
                        secure=request.is_secure, httponly=False)
    return response


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (no scheme, no host), else None."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def pixel_event(name: str, properties: dict, event_id: str | None = None) -> dict:
    return {"name": name, "properties": properties,
            "options": {"event_id": event_id} if event_id else None}


def major_units(amount_minor: int, currency: str) -> float:
    return float(Decimal(amount_minor).scaleb(-get_currency_precision(currency)))


def current_language() -> str:
    """The language this page is shown in (chosen by :mod:`views.storefront.languages`)."""
    return str(get_locale() or DEFAULT_LOCALE)


def money(amount_minor: int | None, currency: str | None) -> str:
    """4200 EUR → "€42.00" in English, "42,00 €" in German."""
    return display_formats.format_amount(amount_minor, currency, current_language())


def contents(booking) -> dict:
    variant = booking.variant
    return {"content_type": "product", "quantity": booking.quantity,
            "content_id": f"variant-{variant.id}" if variant else
            f"offering-{booking.offering_id}",
            "content_name": booking.offering.name + (f" – {variant.name}" if variant else ""),
            "value": major_units(booking.total_minor, booking.currency),
            "currency": booking.currency}


# --- signing in --------------------------------------------------------------------------

def current_customer():
    """The signed-in customer's account, or None (nobody, or a console account)."""
    if current_user.is_authenticated and CUSTOMER in current_user.role_names:
        return current_user
    return None


def customer_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_customer() is None:
            target = request.full_path if request.method == "GET" else request.referrer
            return redirect(url_for(".login", next=local_path(path_of(target))))
        return view(*args, **kwargs)

    return wrapper


def path_of(url: str | None) -> str | None:
    """The path and query of one of our own URLs (the Referer is absolute)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    return render_template("storefront/message.html", message=shop_message(error)), \
        error.status
