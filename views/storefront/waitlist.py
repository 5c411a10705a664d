"""Storefront: the waiting list of a full time. Customers join it from the time picker,
leave it from "My bookings", and take or decline the place it offers them on the booking
page that holds it (which the offer's email links to with its manage link).

Every action is the API's service call (``app.services.waitlist``). A refusal the customer
can do something about (places are free again, in line already, too many places) is a
message on the page they came from; a time that is not offered is the shop's 404 page.
"""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext

from app.errors import DomainError
from app.models.bookings import CONFIRMED
from app.services import waitlist
from app.services.scopes import Actor
from views.storefront.access import booking_access
from views.storefront.blueprint import bp, current_customer, customer_required
from views.storefront.shop_messages import shop_message

STOREFRONT_REASON = "storefront"
REFUSALS = (409, 422)  # the customer chooses again; anything else is the error's page


def _actor(customer_id: int) -> Actor:
    return Actor(customer_id, STOREFRONT_REASON, request.remote_addr)


def _form_int(name: str, default: int | None = None) -> int:
    """An integer field of the posted form; a form without it, or with anything else in it,
    was not sent by our page: 400."""
    value = (request.form.get(name) or "").strip()
    if not value and default is not None:
        return default
    try:
        return int(value)
    except ValueError:
        abort(400)


def _picker_path() -> str:
    """The time picker the form was sent from: its offering, day and places."""
    try:
        offering_id = int(request.form.get("offering_id", ""))
    except ValueError:
        return url_for(".offerings")
    try:
        day = date.fromisoformat(request.form.get("day", "")).isoformat()
    except ValueError:
        day = None
    quantity = request.form.get("quantity", type=int)
    return url_for(".offering", offering_id=offering_id, day=day, quantity=quantity)


# --- in line --------------------------------------------------------------------------------

@bp.route("/waitlist", methods=["POST"])
def join_waitlist():
    """Join the line of a full time from the picker (signed in; otherwise sign in first and
    come back to the same picker)."""
    slot_id, quantity = _form_int("slot_id"), _form_int("quantity", default=1)
    back = _picker_path()
    customer = current_customer()
    if customer is None:
        return redirect(url_for(".login", next=back))
    try:
        joined = waitlist.join(customer_id=customer.id, slot_id=slot_id, quantity=quantity)
    except DomainError as exc:
        if exc.status not in REFUSALS:
            raise
        flash(shop_message(exc))
        return redirect(back + "#picker", code=303)
    flash(gettext("You are on the waiting list, number %(num)d in line. We email you when a "
                  "place comes free.", num=joined.position or 1))
    return redirect(url_for(".my_bookings", _anchor="waitlist"), code=303)


@bp.route("/waitlist/<int:entry_id>/leave", methods=["POST"])
@customer_required
def leave_waitlist(entry_id: int):
    """Leave a line; a place held for the customer is declined and goes to the next."""
    customer_id = current_customer().id
    try:
        entry = waitlist.leave(entry_id, customer_id=customer_id, actor=_actor(customer_id))
    except DomainError as exc:
        if exc.status not in REFUSALS:
            raise
        flash(shop_message(exc))
    else:
        flash(gettext("You declined the place; it goes to the next in line.")
              if entry.booking_id is not None else
              gettext("You have left the waiting list."))
    return redirect(url_for(".my_bookings", _anchor="waitlist"), code=303)


# --- a place offered: on the booking that holds it -------------------------------------------

@bp.route("/bookings/<reference>/take-offer", methods=["POST"])
@booking_access
def take_offer(reference: str, *, customer_id: int):
    """Take a place with nothing to pay online (a place to pay for is taken by paying)."""
    taken = _act_on_offer(reference, customer_id, lambda entry_id: waitlist.accept(
        entry_id, customer_id=customer_id, actor=_actor(customer_id)))
    if taken is not None:
        flash(gettext("The place is yours: your booking is confirmed.")
              if taken.status == CONFIRMED else
              gettext("The place is yours. You pay at the venue; the provider confirms your "
                      "booking."))
    return redirect(url_for(".booking", reference=reference), code=303)


@bp.route("/bookings/<reference>/decline-offer", methods=["POST"])
@booking_access
def decline_offer(reference: str, *, customer_id: int):
    """Decline the place: its hold is cancelled and the place goes to the next in line."""
    left = _act_on_offer(reference, customer_id, lambda entry_id: waitlist.leave(
        entry_id, customer_id=customer_id, actor=_actor(customer_id)))
    if left is not None:
        flash(gettext("You declined the place; it goes to the next in line."))
    return redirect(url_for(".booking", reference=reference), code=303)


def _act_on_offer(reference: str, customer_id: int, act):
    """``act(entry_id)`` on the offer this booking holds; an offer gone or a refusal is
    said in a message instead (None)."""
    offer = waitlist.offer_of_booking(reference, customer_id)
    if offer is None:
        flash(gettext("This place is no longer held for you."))
        return None
    try:
        return act(offer.id)
    except DomainError as exc:
        if exc.status not in REFUSALS:
            raise
        flash(shop_message(exc))
        return None
    try:
        waitlist.leave(offer.id, customer_id=customer_id, actor=_actor(customer_id))
    except DomainError as exc:
        if exc.status not in REFUSALS:
            raise
        flash(shop_message(exc))
    else:
        flash(gettext("You declined the place; it goes to the next in line."))
    return redirect(url_for(".booking", reference=reference), code=303)
