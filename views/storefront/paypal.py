"""Storefront: paying a booking with PayPal.

"Pay with PayPal" is a plain form (it works without JavaScript): it starts the payment
through the same service as the API (:func:`app.services.payments.start_payment` with
method ``paypal``) and sends the customer to PayPal's approval page. PayPal sends them back
to :func:`paypal_return`, which captures through :mod:`app.services.paypal_checkout` (paid
only from PayPal's completed capture), or to :func:`paypal_cancel` when they changed their
mind.

When PayPal's JS SDK is configured (:func:`app.services.paypal_checkout.js_sdk_url`),
``static/storefront/paypal_buttons.js`` replaces the form with PayPal's buttons: their
``createOrder`` asks :func:`paypal_order` for the order's id and their ``onApprove`` sends
it to :func:`paypal_capture`, which captures exactly as the way back does and names the
booking's page to show next.
"""
from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext

from app.errors import DomainError
from app.models.payments import SUCCEEDED
from app.services import booking_queries, display_formats, paypal_checkout
from app.services.payments import start_payment
from views.storefront.access import booking_access
from views.storefront.blueprint import bp, current_language
from views.storefront.shop_messages import shop_message


@bp.route("/bookings/<reference>/pay-paypal", methods=["POST"])
@booking_access
def pay_paypal(reference: str, *, customer_id: int):
    """Start (or reuse) the booking's PayPal order and go to PayPal to approve it."""
    try:
        # PayPal sends the customer back to paypal_return / paypal_cancel (the defaults).
        started = start_payment(reference, customer_id=customer_id, method="paypal")
    except DomainError as exc:
        flash(gettext("PayPal did not take the payment: %(reason)s", reason=shop_message(exc)))
        return redirect(url_for(".booking", reference=reference))
    if started.status == SUCCEEDED or not started.approval_url:
        return redirect(url_for(".booking", reference=reference))
    return redirect(started.approval_url)


@bp.route("/bookings/<reference>/paypal-return")
@booking_access
def paypal_return(reference: str, *, customer_id: int):
    """PayPal's way back (``?token=<order id>``): capture, then say how it went."""
    order_id = request.args.get("token", "").strip()
    if not _plausible_order_id(order_id):
        flash(gettext("PayPal did not take the payment: %(reason)s",
                      reason=gettext("PayPal sent no order back.")))
    else:
        _capture_and_say(reference, customer_id, order_id)
    return redirect(url_for(".booking", reference=reference))


@bp.route("/bookings/<reference>/paypal-order", methods=["POST"])
@booking_access
def paypal_order(reference: str, *, customer_id: int):
    """PayPal's buttons (createOrder): start (or reuse) the booking's PayPal order; its id."""
    try:
        started = start_payment(reference, customer_id=customer_id, method="paypal")
    except DomainError as exc:
        return jsonify(message=gettext("PayPal did not take the payment: %(reason)s",
                                       reason=shop_message(exc))), exc.status
    if started.status == SUCCEEDED or not started.order_id:
        return jsonify(message=gettext("This booking is paid."),
                       redirect=url_for(".booking", reference=reference)), 409
    return jsonify(id=started.order_id)


@bp.route("/bookings/<reference>/paypal-capture", methods=["POST"])
@booking_access
def paypal_capture(reference: str, *, customer_id: int):
    """PayPal's buttons (onApprove, ``{"order_id": ...}``): capture as the way back does;
    the booking's page (where to go next) then says how it went."""
    body = request.get_json(silent=True)
    order_id = body.get("order_id") if isinstance(body, dict) else None
    if not isinstance(order_id, str) or not _plausible_order_id(order_id.strip()):
        return jsonify(message=gettext("PayPal sent no order back.")), 400
    _capture_and_say(reference, customer_id, order_id.strip())
    return jsonify(redirect=url_for(".booking", reference=reference))


def _plausible_order_id(order_id: str) -> bool:
    return 0 < len(order_id) <= 64


def _capture_and_say(reference: str, customer_id: int, order_id: str) -> None:
    """Capture the approved order; the next page says how it went. A declined funding
    source is told in the booking's Pay section (with what to do), not again here."""
    try:
        returned = paypal_checkout.capture_on_return(reference, customer_id=customer_id,
                                                     order_id=order_id)
    except DomainError as exc:
        flash(gettext("PayPal did not take the payment: %(reason)s", reason=shop_message(exc)))
        return
    if returned.status == SUCCEEDED:
        flash(gettext("Paid with PayPal."), "success")
    elif not returned.failure_code:
        flash(gettext("PayPal did not take the payment: %(reason)s",
                      reason=gettext("It has not been approved at PayPal yet.")))


@bp.route("/bookings/<reference>/paypal-cancel")
@booking_access
def paypal_cancel(reference: str, *, customer_id: int):
    """The customer left PayPal without approving: the booking keeps its hold."""
    item = booking_queries.get_customer_booking(reference, customer_id=customer_id)
    if item.status == "pending" and item.hold_expires_at:
        until = display_formats.format_local_span(
            item.hold_expires_at, None, item.offering.provider.timezone, current_language())
        flash(gettext("PayPal payment cancelled; your booking is still held until %(time)s.",
                      time=until))
    else:
        flash(gettext("PayPal payment cancelled."))
    return redirect(url_for(".booking", reference=reference))
