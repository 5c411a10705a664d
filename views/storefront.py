"""Storefront pages: server-rendered browsing, booking and paying for customers, on the same
services as the API.

Every page takes the visit's first touch (UTM parameters, ``ttclid``) into the session;
booking carries it, with the consent choice and the request's IP and user agent, into the
booking's attribution (rules in ``app.services.attribution_capture``). The TikTok Pixel is
rendered by ``storefront/_tiktok_pixel.html`` only with a pixel code and consent.
"""
from __future__ import annotations

import uuid
from decimal import Decimal
from functools import wraps
from urllib.parse import urlsplit

from babel.numbers import get_currency_precision
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from app.errors import DomainError, NotFound, ValidationFailed
from app.extensions import limiter
from app.models.bookings import PENDING
from app.models.payments import MANUAL, SUCCEEDED
from app.services import (
    accounts,
    attribution_capture,
    booking_queries,
    bookings,
    browse,
    idempotency,
    payments,
)
from app.services.attribution_capture import CAMPAIGN_PARAMETERS, CONSENT_COOKIE, DENIED, GRANTED
from app.services.conversions import event_id_for, pixel_code_for
from app.services.roles import CUSTOMER
from app.services.search import OfferingQuery

bp = Blueprint("storefront", __name__, url_prefix="/shop")
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
            "customer": _customer(), "pixel_code_for": pixel_code_for}


@bp.route("/consent", methods=["POST"])
def consent():
    choice = GRANTED if request.form.get("choice") == GRANTED else DENIED
    response = redirect(_local(request.form.get("next")) or url_for(".offerings"))
    response.set_cookie(CONSENT_COOKIE, choice, max_age=CONSENT_MAX_AGE, samesite="Lax",
                        secure=request.is_secure, httponly=False)
    return response


def _local(target: str | None) -> str | None:
    """``target`` if it is a path on this site (no scheme, no host), else None."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _pixel_event(name: str, properties: dict, event_id: str | None = None) -> dict:
    return {"name": name, "properties": properties,
            "options": {"event_id": event_id} if event_id else None}


def _decimal(amount_minor: int, currency: str) -> float:
    return float(Decimal(amount_minor).scaleb(-get_currency_precision(currency)))


def _money(amount_minor: int, currency: str) -> str:
    digits = get_currency_precision(currency)
    return f"{Decimal(amount_minor).scaleb(-digits):.{digits}f} {currency}"


def _contents(booking) -> dict:
    variant = booking.variant
    return {"content_type": "product", "quantity": booking.quantity,
            "content_id": f"variant-{variant.id}" if variant else
            f"offering-{booking.offering_id}",
            "content_name": booking.offering.name + (f" – {variant.name}" if variant else ""),
            "value": _decimal(booking.total_minor, booking.currency),
            "currency": booking.currency}


# --- browsing ----------------------------------------------------------------------------

def _float(name: str) -> float | None:
    try:
        return float(request.args[name])
    except (KeyError, ValueError):
        return None


def _query() -> OfferingQuery:
    lat, lng = _float("lat"), _float("lng")
    near = (lat, lng) if lat is not None and lng is not None and abs(lat) <= 90 \
        and abs(lng) <= 180 else None
    radius = _float("radius_km")
    kind = request.args.get("kind") if request.args.get("kind") in ("service", "product") \
        else None
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 1000))
    return OfferingQuery(q=(request.args.get("q") or "").strip()[:200] or None, kind=kind,
                         near=near, radius_km=radius if near and radius and radius > 0 else None,
                         page=page, page_size=PAGE_SIZE)


@bp.route("/")
def offerings():
    query = _query()
    rows, total = browse.find_offerings(query)
    return render_template("storefront/offerings.html", rows=rows, total=total, query=query,
                           pages=max(1, -(-total // PAGE_SIZE)))


@bp.route("/offerings/<int:offering_id>")
def offering(offering_id: int):
    try:
        item = browse.get_offering(offering_id)
    except NotFound:
        abort(404)
    slots = browse.next_free_slots(offering_id, limit=10)
    view_content = _pixel_event("ViewContent", {
        "content_type": "product", "content_id": f"offering-{item.id}",
        "content_name": item.name, "value": _decimal(item.price_minor, item.currency),
        "currency": item.currency})
    return render_template("storefront/offering.html", offering=item, slots=slots,
                           maps_key=current_app.config.get("GOOGLE_MAPS_API_KEY"),
                           pixel_provider=item.provider, pixel_events=[view_content],
                           submission=uuid.uuid4().hex)


# --- signing in --------------------------------------------------------------------------

def _customer():
    """The signed-in customer's account, or None (nobody, or a console account)."""
    if current_user.is_authenticated and CUSTOMER in current_user.role_names:
        return current_user
    return None


def customer_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if _customer() is None:
            target = request.full_path if request.method == "GET" else request.referrer
            return redirect(url_for(".login", next=_local(_path_of(target))))
        return view(*args, **kwargs)

    return wrapper


def _path_of(url: str | None) -> str | None:
    """The path and query of one of our own URLs (the Referer is absolute)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _auth_rate_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def _after_sign_in():
    return redirect(_local(request.values.get("next")) or url_for(".offerings"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_auth_rate_limit, methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            account = accounts.authenticate(email=request.form.get("email", ""),
                                            password=request.form.get("password", ""))
        except DomainError as exc:
            error = exc.message
        else:
            if CUSTOMER not in account.role_names:
                error = "This is a staff account: sign in to the console instead."
            else:
                login_user(account)
                return _after_sign_in()
    return render_template("storefront/login.html", error=error,
                           next=_local(request.values.get("next"))), 401 if error else 200


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_auth_rate_limit, methods=["POST"])
def register():
    error = None
    if request.method == "POST":
        form = request.form
        try:
            accounts.register_customer(
                email=form.get("email", ""), password=form.get("password", ""),
                first_name=form.get("first_name", ""), last_name=form.get("last_name", ""))
        except DomainError as exc:
            error = exc.message + "".join(
                f" {' '.join(messages)}" for messages in (exc.errors or {}).values())
        else:
            # Not signed in here: that would tell a new address from a registered one.
            flash(accounts.REGISTRATION_RECEIVED)
            return redirect(url_for(".login", next=_local(request.values.get("next"))))
    return render_template("storefront/register.html", error=error, form=request.form,
                           next=_local(request.values.get("next"))), 422 if error else 200


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    return redirect(url_for(".offerings"))


# --- booking and paying ------------------------------------------------------------------

def _form_int(name: str) -> int | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed("booking.bad_form", f"{name.replace('_', ' ')} is not a "
                               "number.", {name: ["Not a number."]}) from None


@bp.route("/offerings/<int:offering_id>/book", methods=["POST"])
@customer_required
def book(offering_id: int):
    attribution = attribution_capture.booking_attribution(
        session.get(FIRST_TOUCH), request.cookies, request.cookies.get(CONSENT_COOKIE),
        request.remote_addr, request.user_agent.string)
    slot_id, variant_id = _form_int("slot_id"), _form_int("variant_id")
    quantity = _form_int("quantity") or 1
    # A double click, or a resubmitted page, books once: each form of an offering page
    # carries the page's submission token, claimed like an API Idempotency-Key.
    claim = None
    submission = request.form.get("submission", "")[:64]
    if submission:
        claim = idempotency.claim(
            user_id=_customer().id, key=f"shop:{submission}:{slot_id}:{variant_id}",
            endpoint="storefront.book", fingerprint=idempotency.request_fingerprint(
                "POST", request.path, str(quantity).encode()))
        if claim.is_replay:
            return redirect(url_for(".booking", reference=claim.replay_body["reference"]))
        if claim.is_takeover:  # the first submission's process died: did it book?
            placed = booking_queries.booking_placed_under(claim.record_id)
            if placed is not None:
                return _booked(claim, placed.reference)
    try:
        placed = bookings.place_booking(
            customer_id=_customer().id, offering_id=offering_id, slot_id=slot_id,
            variant_id=variant_id, quantity=quantity, attribution=attribution,
            idempotency_record_id=claim.record_id if claim else None)
    except idempotency.AlreadyCommitted:
        return _booked(claim, booking_queries.booking_placed_under(claim.record_id).reference)
    except Exception:
        if claim is not None:
            idempotency.release(claim)
        raise
    return _booked(claim, placed.reference)


def _booked(claim, reference: str):
    if claim is not None:
        idempotency.complete(claim, status_code=303, body={"reference": reference})
    return redirect(url_for(".booking", reference=reference))


@bp.route("/bookings")
@customer_required
def my_bookings():
    rows, total = booking_queries.list_customer_bookings(customer_id=_customer().id,
                                                         page_size=50)
    return render_template("storefront/bookings.html", bookings=rows, total=total,
                           money=_money)


def _own_booking(reference: str):
    try:
        return booking_queries.get_customer_booking(reference, customer_id=_customer().id)
    except NotFound:
        abort(404)


def _payment_of(booking):
    try:
        return payments.payment_for_customer(booking.reference, customer_id=_customer().id)
    except NotFound:
        return None


@bp.route("/bookings/<reference>")
@customer_required
def booking(reference: str):
    item = _own_booking(reference)
    payable = item.status == PENDING and item.total_minor > 0 \
        and payments.gateway_name_for(item) != MANUAL
    events = [_pixel_event("InitiateCheckout", _contents(item))] if payable else []
    return render_template("storefront/booking.html", booking=item, payable=payable,
                           payment=_payment_of(item), money=_money,
                           test_cards=current_app.config.get("PAYMENT_TEST_CARDS"),
                           pixel_provider=item.offering.provider, pixel_events=events)


@bp.route("/bookings/<reference>/pay", methods=["POST"])
@customer_required
def pay(reference: str):
    """The card form: starts (or reuses) the payment, then Stripe.js confirms it."""
    reference, customer_id = _own_booking(reference).reference, _customer().id
    started = payments.start_payment(reference, customer_id=customer_id)
    item = _own_booking(reference)  # read after the service's commits
    return render_template("storefront/pay.html", booking=item, started=started,
                           money=_money, pixel_provider=item.offering.provider)


@bp.route("/bookings/<reference>/pay-test-card", methods=["POST"])
@customer_required
def pay_test_card(reference: str):
    # Plain values only: the service commits and closes the session it was given.
    reference, customer_id = _own_booking(reference).reference, _customer().id
    card = TEST_CARDS.get(request.form.get("card", "visa"), TEST_CARDS["visa"])
    payments.pay_with_test_card(reference, customer_id=customer_id, card=card)
    payment = payments.payment_for_customer(reference, customer_id=customer_id)
    if payment.status == SUCCEEDED:
        return redirect(url_for(".paid", reference=reference))
    flash(f"The payment did not go through: {payment.failure_reason or payment.status}.")
    return redirect(url_for(".booking", reference=reference))


@bp.route("/bookings/<reference>/paid")
@customer_required
def paid(reference: str):
    item = _own_booking(reference)
    payment = _payment_of(item)
    succeeded = payment is not None and payment.status == SUCCEEDED
    failed = payment is not None and payment.status in payments.TERMINAL and not succeeded
    events = [_pixel_event("CompletePayment", _contents(item),
                           event_id_for(item.reference, "CompletePayment"))] if succeeded else []
    return render_template("storefront/paid.html", booking=item, payment=payment,
                           succeeded=succeeded, failed=failed, money=_money,
                           pixel_provider=item.offering.provider, pixel_events=events)


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    return render_template("storefront/message.html", message=error.message), error.status
