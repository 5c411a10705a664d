"""Storefront: paying a booking with PayPal, without PayPal's JavaScript.

"Pay with PayPal" is a plain form: it starts the payment through the same service as the
API (:func:`app.services.payments.start_payment` with method ``paypal``) and sends the
customer to PayPal's approval page. PayPal sends them back to :func:`paypal_return`, which
captures through :mod:`app.services.paypal_checkout` (paid only from PayPal's completed
capture), or to :func:`paypal_cancel` when they changed their mind.
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext

from app.errors import DomainError
from app.models.payments import SUCCEEDED
from app.services import booking_queries, decline_reasons, display_formats, paypal_checkout
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
    if not order_id or len(order_id) > 64:
        flash(gettext("PayPal did not take the payment: %(reason)s",
                      reason=gettext("PayPal sent no order back.")))
        return redirect(url_for(".booking", reference=reference))
    try:
        returned = paypal_checkout.capture_on_return(reference, customer_id=customer_id,
                                                     order_id=order_id)
    except DomainError as exc:
        flash(gettext("PayPal did not take the payment: %(reason)s", reason=shop_message(exc)))
        return redirect(url_for(".booking", reference=reference))
    if returned.status == SUCCEEDED:
        flash(gettext("Paid with PayPal."))
    elif returned.failure_code:
        flash(gettext("PayPal did not take the payment: %(reason)s",
                      reason=decline_reasons.customer_reason(returned.failure_code)))
    else:
        flash(gettext("PayPal did not take the payment: %(reason)s",
                      reason=gettext("It has not been approved at PayPal yet.")))
    return redirect(url_for(".booking", reference=reference))


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
