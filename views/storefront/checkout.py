"""Storefront: booking a time or a product, paying, and the customer's bookings."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for

from app.errors import NotFound, ValidationFailed
from app.models.bookings import PENDING
from app.models.payments import MANUAL, SUCCEEDED
from app.services import attribution_capture, booking_queries, bookings, idempotency, payments
from app.services.attribution_capture import CONSENT_COOKIE
from app.services.conversions import event_id_for
from views.storefront.blueprint import (
    FIRST_TOUCH,
    TEST_CARDS,
    bp,
    contents,
    current_customer,
    customer_required,
    money,
    pixel_event,
)

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
            user_id=current_customer().id, key=f"shop:{submission}:{slot_id}:{variant_id}",
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
            customer_id=current_customer().id, offering_id=offering_id, slot_id=slot_id,
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
    rows, total = booking_queries.list_customer_bookings(customer_id=current_customer().id,
                                                         page_size=50)
    return render_template("storefront/bookings.html", bookings=rows, total=total,
                           money=money)


def _own_booking(reference: str):
    try:
        return booking_queries.get_customer_booking(reference, customer_id=current_customer().id)
    except NotFound:
        abort(404)


def _payment_of(booking):
    try:
        return payments.payment_for_customer(booking.reference, customer_id=current_customer().id)
    except NotFound:
        return None


@bp.route("/bookings/<reference>")
@customer_required
def booking(reference: str):
    item = _own_booking(reference)
    payable = item.status == PENDING and item.total_minor > 0 \
        and payments.gateway_name_for(item) != MANUAL
    events = [pixel_event("InitiateCheckout", contents(item))] if payable else []
    return render_template("storefront/booking.html", booking=item, payable=payable,
                           payment=_payment_of(item), money=money,
                           test_cards=current_app.config.get("PAYMENT_TEST_CARDS"),
                           pixel_provider=item.offering.provider, pixel_events=events)


@bp.route("/bookings/<reference>/pay", methods=["POST"])
@customer_required
def pay(reference: str):
    """The card form: starts (or reuses) the payment, then Stripe.js confirms it."""
    reference, customer_id = _own_booking(reference).reference, current_customer().id
    started = payments.start_payment(reference, customer_id=customer_id)
    item = _own_booking(reference)  # read after the service's commits
    return render_template("storefront/pay.html", booking=item, started=started,
                           money=money, pixel_provider=item.offering.provider)


@bp.route("/bookings/<reference>/pay-test-card", methods=["POST"])
@customer_required
def pay_test_card(reference: str):
    # Plain values only: the service commits and closes the session it was given.
    reference, customer_id = _own_booking(reference).reference, current_customer().id
    card = TEST_CARDS.get(request.form.get("card", "visa"), TEST_CARDS["visa"])
    payments.pay_with_test_card(reference, customer_id=customer_id, card=card)
    payment = payments.payment_for_customer(reference, customer_id=customer_id)
    if payment.status == SUCCEEDED:
        return redirect(url_for(".paid", reference=reference))
    reason = (payment.failure_reason or "").strip().rstrip(".")
    flash(f"The payment did not go through: {reason}." if reason else
          "The payment did not go through.")
    return redirect(url_for(".booking", reference=reference))


@bp.route("/bookings/<reference>/paid")
@customer_required
def paid(reference: str):
    item = _own_booking(reference)
    payment = _payment_of(item)
    succeeded = payment is not None and payment.status == SUCCEEDED
    failed = payment is not None and payment.status in payments.TERMINAL and not succeeded
    events = [pixel_event("CompletePayment", contents(item),
                           event_id_for(item.reference, "CompletePayment"))] if succeeded else []
    return render_template("storefront/paid.html", booking=item, payment=payment,
                           succeeded=succeeded, failed=failed, money=money,
                           pixel_provider=item.offering.provider, pixel_events=events)


