"""Storefront: the customer's bookings and one booking's page — pay (or retry), cancel
with the refund shown first, move to another time, add to a calendar, download receipts;
the customer's waiting lists, and a place a waiting list holds for them
(``views.storefront.waitlist`` has those actions).

Every action is the same service call as the API's; the customer is the booking's own
(signed in) or whoever opened its manage link (``views.storefront.access``).
"""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from app.errors import DomainError, NotFound
from app.models.payments import REQUIRES_PAYMENT, SUCCEEDED
from app.models.types import utcnow
from app.services import (
    booking_queries,
    bookings,
    browse,
    calendar_feeds,
    calendar_file,
    customer_booking,
    decline_reasons,
    manage_links,
    payments,
    paypal_checkout,
    receipts,
    waitlist,
)
from app.services.conversions import event_id_for
from app.services.scopes import Actor
from views.storefront.access import booking_access
from views.storefront.blueprint import (
    TEST_CARDS,
    bp,
    contents,
    current_customer,
    customer_required,
    money,
    pixel_event,
)
from views.storefront.shop_messages import choose_again_message, shop_message
from views.storefront.time_picker import build_picker

PAST_PAGE_SIZE = 20
STOREFRONT_REASON = "storefront"


def _actor(customer_id: int) -> Actor:
    return Actor(customer_id, STOREFRONT_REASON, request.remote_addr)


# --- the customer's bookings --------------------------------------------------------------

@bp.route("/bookings")
@customer_required
def my_bookings():
    now, customer_id = utcnow(), current_customer().id
    upcoming, _ = booking_queries.list_customer_bookings_by_time(
        customer_id=customer_id, upcoming=True, now=now, page_size=100)
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 1000))
    past, past_total = booking_queries.list_customer_bookings_by_time(
        customer_id=customer_id, upcoming=False, now=now, page=page, page_size=PAST_PAGE_SIZE)
    return render_template("storefront/bookings.html", upcoming=upcoming, past=past,
                           page=page, pages=max(1, -(-past_total // PAST_PAGE_SIZE)),
                           money=money, zone=current_customer().timezone or "UTC",
                           feed=calendar_feeds.customer_feed_status(customer_id),
                           waiting=waitlist.entries_of_customer(customer_id, now=now))


# --- one booking --------------------------------------------------------------------------

@bp.route("/bookings/<reference>")
@booking_access
def booking(reference: str, *, customer_id: int):
    view = customer_booking.customer_booking(reference, customer_id=customer_id)
    item = view.booking
    events = [pixel_event("InitiateCheckout", contents(item))] if view.can_pay else []
    methods = payments.methods_open(view.payment)
    return render_template("storefront/booking.html", view=view, booking=item,
                           payment=view.payment, money=money,
                           offer=waitlist.offer_of_booking(reference, customer_id),
                           test_cards=current_app.config.get("PAYMENT_TEST_CARDS"),
                           methods=methods,
                           paypal_sdk=paypal_checkout.js_sdk_script(item.currency)
                           if view.can_pay and "paypal" in methods else None,
                           maps_key=current_app.config.get("GOOGLE_MAPS_API_KEY"),
                           pixel_provider=item.offering.provider, pixel_events=events)


@bp.route("/bookings/<reference>/pay", methods=["POST"])
@booking_access
def pay(reference: str, *, customer_id: int):
    """The card form: starts (or reuses) the payment, then Stripe.js confirms it. After a
    declined card this is the retry: a new attempt on the same payment."""
    started = payments.start_payment(reference, customer_id=customer_id, method="card")
    item = booking_queries.get_customer_booking(reference, customer_id=customer_id)
    return render_template("storefront/pay.html", booking=item, started=started,
                           money=money, pixel_provider=item.offering.provider)


@bp.route("/bookings/<reference>/pay-test-card", methods=["POST"])
@booking_access
def pay_test_card(reference: str, *, customer_id: int):
    card = TEST_CARDS.get(request.form.get("card", "visa"), TEST_CARDS["visa"])
    payments.pay_with_test_card(reference, customer_id=customer_id, card=card)
    payment = payments.payment_for_customer(reference, customer_id=customer_id)
    if payment.status == SUCCEEDED:
        return redirect(url_for(".paid", reference=reference))
    if payment.status in payments.TERMINAL:  # no retry: nothing on the page says why
        flash(gettext("The payment did not go through: %(reason)s",
                      reason=decline_reasons.customer_reason(payment.failure_code)))
    # A declined card can be retried: the Pay section says why, told there only.
    return redirect(url_for(".booking", reference=reference))


@bp.route("/bookings/<reference>/paid")
@booking_access
def paid(reference: str, *, customer_id: int):
    item = booking_queries.get_customer_booking(reference, customer_id=customer_id)
    try:
        payment = payments.payment_for_customer(reference, customer_id=customer_id)
    except NotFound:
        payment = None
    succeeded = payment is not None and payment.status == SUCCEEDED
    # Failed for good, or declined (the hold stays: the booking page pays again).
    failed = payment is not None and not succeeded and (
        payment.status in payments.TERMINAL
        or (payment.status == REQUIRES_PAYMENT and bool(payment.failure_reason)))
    events = [pixel_event("CompletePayment", contents(item),
                          event_id_for(item.reference, "CompletePayment"))] if succeeded else []
    return render_template("storefront/paid.html", booking=item, payment=payment,
                           succeeded=succeeded, failed=failed, money=money,
                           pixel_provider=item.offering.provider, pixel_events=events)


# --- cancelling and moving ------------------------------------------------------------------

@bp.route("/bookings/<reference>/cancel", methods=["GET", "POST"])
@booking_access
def cancel(reference: str, *, customer_id: int):
    """GET: what cancelling gives back, and the confirm button; POST: cancel."""
    if request.method == "POST":
        bookings.cancel_own_booking(reference, customer_id=customer_id,
                                    actor=_actor(customer_id))
        flash(gettext("Your booking is cancelled."))
        return redirect(url_for(".booking", reference=reference), code=303)
    view = customer_booking.customer_booking(reference, customer_id=customer_id)
    return render_template("storefront/cancel.html", view=view, booking=view.booking,
                           money=money)


@bp.route("/bookings/<reference>/move", methods=["GET", "POST"])
@booking_access
def move(reference: str, *, customer_id: int):
    """GET: the time picker for the same offering and places; POST: move to the chosen
    slot (the same rules and atomicity as the API's reschedule)."""
    if request.method == "POST":
        try:
            slot_id = int(request.form.get("slot_id", ""))
        except ValueError:
            flash(gettext("Choose a time."))
            return redirect(url_for(".move", reference=reference))
        try:
            bookings.reschedule_own_booking(reference, new_slot_id=slot_id,
                                            customer_id=customer_id, actor=_actor(customer_id))
        except DomainError as exc:
            if exc.status != 409:
                raise
            moving = booking_queries.get_customer_booking(reference, customer_id=customer_id)
            flash(choose_again_message(exc, quantity=moving.quantity,
                                       places_left=browse.places_left(slot_id)))
            return redirect(url_for(".move", reference=reference))
        flash(gettext("Your booking has moved."))
        return redirect(url_for(".booking", reference=reference), code=303)
    view = customer_booking.customer_booking(reference, customer_id=customer_id)
    item = view.booking
    if not view.can_move:
        flash(shop_message(view.change_refusal) if view.change_refusal else
              gettext("This booking cannot be moved."))
        return redirect(url_for(".booking", reference=reference))
    zone = item.offering.provider.timezone or "UTC"
    picker = build_picker(item.offering_id, zone, quantity=item.quantity)
    return render_template(
        "storefront/move.html", view=view, booking=item, picker=picker,
        picker_url=lambda **args: url_for(".move", reference=reference,
                                          **{k: v for k, v in args.items() if k != "quantity"}),
        pick_url=lambda free: url_for(".move", reference=reference, slot_id=free.slot_id,
                                      day=free.starts_at.date().isoformat(),
                                      month=free.starts_at.strftime("%Y-%m")) + "#confirm-move",
        chosen=request.args.get("slot_id", type=int), money=money)


# --- files ---------------------------------------------------------------------------------

@bp.route("/bookings/<reference>/calendar.ics")
@booking_access
def calendar(reference: str, *, customer_id: int):
    item = booking_queries.get_customer_booking(reference, customer_id=customer_id)
    if item.starts_at is None:
        raise NotFound("booking.no_time", "This booking has no time to add to a calendar.")
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    body = calendar_file.booking_calendar(
        item, manage_url=base + manage_links.manage_path(item))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f"attachment; filename={item.reference}.ics"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/bookings/<reference>/documents/<int:receipt_id>.pdf")
@booking_access
def document(reference: str, receipt_id: int, *, customer_id: int):
    item = booking_queries.get_customer_booking(reference, customer_id=customer_id)
    receipt = receipts.receipt_for_customer(receipt_id, customer_id=customer_id)
    if receipt.booking_id != item.id:
        raise NotFound("receipt.not_found", f"No receipt {receipt_id}.")
    response = Response(receipts.pdf_of(receipt), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename={receipt.display_number}.pdf"
    response.headers["Cache-Control"] = "private, max-age=0"
    return response
