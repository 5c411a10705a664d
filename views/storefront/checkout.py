"""Storefront: from a chosen time (or product option) to a booking — the review step,
then the hold, signed in or as a guest — and the manage link that opens a booking."""
from __future__ import annotations

import uuid

from flask import current_app, redirect, render_template, request, session, url_for

from app.errors import DomainError, ValidationFailed
from app.extensions import limiter
from app.services import (
    attribution_capture,
    booking_queries,
    booking_quote,
    bookings,
    browse,
    guest_checkout,
    idempotency,
    manage_links,
)
from app.services.attribution_capture import CONSENT_COOKIE
from views.storefront.access import grant
from views.storefront.people import PersonChoice, busy_message, person_choice
from views.storefront.shop_messages import another_time, choose_again_message, shop_message
from views.storefront.blueprint import (
    FIRST_TOUCH,
    bp,
    current_customer,
    customer_required,
    money,
)

NOTES_MAX_LENGTH = 2000


def _form_int(name: str) -> int | None:
    value = (request.values.get(name) or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed("booking.bad_form", f"{name.replace('_', ' ')} is not a "
                               "number.", {name: ["Not a number."]}) from None


def _choice() -> dict:
    return {"slot_id": _form_int("slot_id"), "variant_id": _form_int("variant_id"),
            "quantity": _form_int("quantity") or 1}


# --- review -------------------------------------------------------------------------------

@bp.route("/offerings/<int:offering_id>/review")
def review(offering_id: int):
    """What will be booked, for how much, on which terms; then the hold (signed in) or the
    guest's details. A time taken meanwhile: the message, and the picker again."""
    return _review_page(offering_id)


def _review_page(offering_id: int, *, form=None, error: ValidationFailed | None = None):
    """The review of the request's choice; with the guest's form and its errors (422)."""
    choice = _choice()
    try:
        quote = booking_quote.quote(offering_id, **choice)
    except DomainError as gone:
        return _choose_again(offering_id, gone, choice["quantity"])
    person = person_choice(offering_id) if quote.slot else PersonChoice((), None)
    if person.problem:  # not one of its staff: the picker says so, with everyone's times
        return _choose_again_with(offering_id, None, 422)
    page = render_template(
        "storefront/review.html", quote=quote, choice=choice, person=person, money=money,
        guest=error is not None, form=form or {},
        errors=(error.errors or {}) if error else {},
        message=shop_message(error) if error else None,
        submission=(form or {}).get("submission") or _submission())
    return (page, 422) if error else page


def _submission() -> str:
    return uuid.uuid4().hex


def _choose_again(offering_id: int, error: DomainError, quantity: int, status: int = 409):
    """The offering page with the reason on top and the picker for other times."""
    slot_id = _choice()["slot_id"]
    notice = choose_again_message(
        error, quantity=quantity,
        places_left=browse.places_left(slot_id) if slot_id else 0)
    return _choose_again_with(offering_id, notice, error.status or status)


def _choose_again_with(offering_id: int, notice: str | None, status: int):
    from views.storefront.browse import offering_page

    return offering_page(offering_id, notice=notice, status=status)


# --- placing the hold ---------------------------------------------------------------------

def _attribution() -> dict:
    return attribution_capture.booking_attribution(
        session.get(FIRST_TOUCH), request.cookies, request.cookies.get(CONSENT_COOKIE),
        request.remote_addr, request.user_agent.string)


def _notes() -> str:
    return (request.form.get("notes") or "").strip()[:NOTES_MAX_LENGTH]


def _place(customer_id: int, offering_id: int, *, as_guest: bool = False):
    """Place the hold once per submitted page (a double click, or a resubmitted form, books
    once: the page's submission token is claimed like an API Idempotency-Key)."""
    choice = _choice()
    person = person_choice(offering_id) if choice["slot_id"] else PersonChoice((), None)
    if person.problem:
        return _choose_again_with(offering_id, None, 422)
    claim = None
    submission = request.form.get("submission", "")[:64]
    if submission:
        claim = idempotency.claim(
            user_id=customer_id,
            key=f"shop:{submission}:{choice['slot_id']}:{choice['variant_id']}",
            endpoint="storefront.book", fingerprint=idempotency.request_fingerprint(
                "POST", request.path, str(choice["quantity"]).encode()))
        if claim.is_replay:
            return _booked(None, claim.replay_body["reference"], customer_id)
        if claim.is_takeover:  # the first submission's process died: did it book?
            placed = booking_queries.booking_placed_under(claim.record_id)
            if placed is not None:
                return _booked(claim, placed.reference, customer_id)
    try:
        placed = bookings.place_booking(
            customer_id=customer_id, offering_id=offering_id, notes=_notes(),
            attribution=_attribution(),
            idempotency_record_id=claim.record_id if claim else None, as_guest=as_guest,
            resource_id=person.resource_id, **choice)
    except idempotency.AlreadyCommitted:
        return _booked(claim, booking_queries.booking_placed_under(claim.record_id).reference,
                       customer_id)
    except DomainError as exc:
        if claim is not None:
            idempotency.release(claim)
        if exc.code == "booking.resource_busy":  # the person (or everyone) booked meanwhile
            return _choose_again_with(offering_id, another_time(busy_message(person)), 409)
        if exc.status == 409:  # taken meanwhile: other times, not a dead end
            return _choose_again(offering_id, exc, choice["quantity"])
        raise
    except Exception:
        if claim is not None:
            idempotency.release(claim)
        raise
    return _booked(claim, placed.reference, customer_id)


def _booked(claim, reference: str, customer_id: int):
    if claim is not None:
        idempotency.complete(claim, status_code=303, body={"reference": reference})
    grant(reference, customer_id)
    return redirect(url_for(".booking", reference=reference))


@bp.route("/offerings/<int:offering_id>/book", methods=["POST"])
@customer_required
def book(offering_id: int):
    return _place(current_customer().id, offering_id)


def _guest_rate_limit() -> str:
    return current_app.config["GUEST_BOOKING_RATE_LIMIT"]


def _guest_email_key() -> str:
    return "guest-email:" + (request.form.get("email") or "").strip().lower()


@bp.route("/offerings/<int:offering_id>/book-as-guest", methods=["POST"])
@limiter.limit(_guest_rate_limit, methods=["POST"])  # per address
@limiter.limit(_guest_rate_limit, methods=["POST"], key_func=_guest_email_key)
def book_as_guest(offering_id: int):
    form = request.form
    try:
        details = guest_checkout.checked_guest(
            email=form.get("email", ""), first_name=form.get("first_name", ""),
            last_name=form.get("last_name", ""), phone=form.get("phone", ""),
            locale=form.get("locale") or "en")
        customer_id = guest_checkout.guest_customer_id(details)
    except ValidationFailed as exc:
        return _review_page(offering_id, form=form, error=exc)
    return _place(customer_id, offering_id, as_guest=True)


# --- the manage link ----------------------------------------------------------------------

@bp.route("/b/<token>")
def manage_link(token: str):
    """The link in every booking message: opens the booking, signed in or not."""
    granted = manage_links.read_manage_token(token)
    grant(granted.reference, granted.customer_id)
    return redirect(url_for(".booking", reference=granted.reference))


__all__ = ["book", "book_as_guest", "manage_link", "review"]
