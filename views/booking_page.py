"""The console's booking page: everything about one booking, and what staff can do to it.

Read through :mod:`app.services.booking_details`; every action is a POST form (CSRF) that
calls the same service as the API, flashes the outcome and comes back to the page. The
actions offered are the ones the staff-actions table allows in the booking's state.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import abort, flash, g, redirect, request, url_for
from markupsafe import Markup

from app.errors import DomainError, NotFound
from app.models.types import MAX_ID
from app.services import booking_details, refunds, reschedule_options
from app.services.booking_lifecycle import reschedule_booking
from app.services.booking_states import STATUS_LABELS
from app.services.money import AmountError, format_money, parse_major_units
from app.services.scopes import Actor
from views.console import gateway_name, status_badge
from views.payments import flash_refund
from views.waitlist import booking_line_note

CHANNEL_LABELS = {"email": "Email", "sms": "SMS"}
KIND_LABELS = {"receipt": "Receipt", "credit_note": "Credit note"}
# Payment, refund and message statuses read as words; booking statuses use STATUS_LABELS.
OTHER_LABELS = {"requires_payment": "Awaiting payment", "requires_action": "Awaiting the bank",
                "succeeded": "Paid", "retrying": "Retrying", "created": "Started"}
REFUND_LABELS = {**OTHER_LABELS, "succeeded": "Refunded"}


def when(moment: datetime | None) -> str:
    """ "Fri 04 Dec 2026, 14:30 CET" (already on the provider's wall clock)."""
    if moment is None:
        return ""
    return moment.strftime("%a %d %b %Y, %H:%M %Z")


def slot_span(starts_at: datetime | None, ends_at: datetime | None) -> str:
    """ "Fri 04 Dec 2026, 14:30–15:30 CET"; the end's day too when it is another day."""
    if starts_at is None:
        return ""
    if ends_at is None:
        return when(starts_at)
    if ends_at.date() == starts_at.date():
        return (f"{starts_at.strftime('%a %d %b %Y, %H:%M')}–{ends_at.strftime('%H:%M')} "
                f"{ends_at.strftime('%Z')}")
    return f"{when(starts_at)} – {when(ends_at)}"


def words(value: str | None) -> str:
    """A stored name as a word: "payment_refunded" → "Payment refunded"."""
    if not value:
        return ""
    return value.replace("_", " ").capitalize()


def badge(status: str | None) -> Markup:
    return status_badge(status, None) if status in STATUS_LABELS else \
        status_badge(status, OTHER_LABELS)


def refund_badge(status: str | None) -> Markup:
    """A refund's status: a succeeded refund is "Refunded", not the payment's "Paid"."""
    return status_badge(status, REFUND_LABELS)


def contact_links(customer) -> Markup:
    parts = []
    if customer.email:
        parts.append(Markup('<a href="mailto:{0}"><i class="fa fa-envelope"></i> {0}</a>')
                     .format(customer.email))
    if customer.phone:
        parts.append(Markup('<a href="tel:{0}"><i class="fa fa-phone"></i> {0}</a>')
                     .format(customer.phone))
    return Markup("<br>").join(parts) if parts else Markup("")



TEMPLATE_HELPERS = {"when": when, "slot_span": slot_span, "money": format_money,
                    "words": words, "badge": badge, "refund_badge": refund_badge,
                    "contact_links": contact_links, "gateway_name": gateway_name,
                    "channel_labels": CHANNEL_LABELS,
                    "kind_labels": KIND_LABELS, "timedelta_week": timedelta(days=7)}


def booking_pk(pk: str) -> int:
    if not str(pk).isdigit() or not 0 < int(pk) <= MAX_ID:
        abort(404)
    return int(pk)


def start_day_arg() -> date | None:
    value = request.args.get("day", "")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        flash(f"{value!r} is not a day (YYYY-MM-DD): showing the booking's days.", "warning")
        return None


class BookingPage:
    """The page, the state actions, the move and the refund, mixed into BookingView."""

    page_actions: dict  # action name → the service that performs it (BookingView's)

    def booking_page(self, pk, scope):
        booking_id = booking_pk(pk)
        try:
            details = booking_details.booking_details(booking_id, scope=scope)
        except NotFound:
            abort(404)
        options = None
        if details.movable:
            options = reschedule_options.move_targets(
                details.reference, scope=scope, start_day=start_day_arg(), days=7)
        permitted = {a.name for a in details.actions
                     if self.appbuilder.sm.has_access(f"can_{a.name}",
                                                      self.class_permission_name)}
        return self.render_template(
            "console/booking.html", title=f"Booking {details.reference}", b=details,
            actions=[a for a in details.actions if a.name in permitted],
            options=options, may_refund=self.appbuilder.sm.has_access("can_refund",
                                                                      "PaymentView"),
            may_move=self.appbuilder.sm.has_access("can_reschedule",
                                                   self.class_permission_name),
            may_see_calendar=self.appbuilder.sm.has_access("can_calendar",
                                                           "BookingCalendarView"),
            waitlist_note=booking_line_note(booking_id, scope),
            **TEMPLATE_HELPERS)

    def _back(self, booking_id: int):
        return redirect(url_for(f"{self.endpoint}.show", pk=booking_id))

    def _reference(self, booking_id: int, scope) -> str:
        try:
            return booking_details.booking_details(booking_id, scope=scope).reference
        except NotFound:
            abort(404)

    def perform_action(self, pk, name: str, scope):
        booking_id = booking_pk(pk)
        service = self.page_actions.get(name)
        if service is None or not self.appbuilder.sm.has_access(
                f"can_{name}", self.class_permission_name):
            abort(404 if service is None else 403)
        reference = self._reference(booking_id, scope)
        try:
            service(reference, actor=Actor(g.user.id, "console"), scope=scope)
        except DomainError as exc:  # the service rolled back: nothing changed
            flash(f"{reference}: {exc.message}", "danger")
        else:
            flash(f"{reference}: {self.page_done[name]}", "success")
        return self._back(booking_id)

    def perform_move(self, pk, scope):
        booking_id = booking_pk(pk)
        reference = self._reference(booking_id, scope)
        slot = request.form.get("slot_id", "")
        if not slot.isdigit() or not 0 < int(slot) <= MAX_ID:
            flash(f"{reference}: choose a slot to move it to.", "danger")
            return self._back(booking_id)
        try:
            moved = reschedule_booking(reference, new_slot_id=int(slot),
                                       actor=Actor(g.user.id, "console"), scope=scope)
        except NotFound:
            flash(f"{reference}: that slot is not available.", "danger")
        except DomainError as exc:
            flash(f"{reference}: {exc.message}", "danger")
        else:
            details = booking_details.booking_details(moved.id, scope=scope)
            flash(f"{reference}: moved to {slot_span(details.starts_at, details.ends_at)}.",
                  "success")
        return self._back(booking_id)

    def perform_refund(self, pk, payment_id: int, scope):
        booking_id = booking_pk(pk)
        try:
            details = booking_details.booking_details(booking_id, scope=scope)
        except NotFound:
            abort(404)
        payment = next((p for p in details.payments if p.payment_id == payment_id), None)
        if payment is None:
            abort(404)
        reference = details.reference
        try:
            amount_minor = parse_major_units(request.form.get("amount", ""), payment.currency)
        except AmountError as exc:
            flash(f"{reference}: {exc}", "danger")
            return self._back(booking_id)
        try:
            refund = refunds.request_refund(
                payment_id, amount_minor=amount_minor,
                reason=(request.form.get("reason") or "")[:refunds.REASON_LENGTH],
                actor_id=g.user.id, scope=scope)
        except NotFound:
            abort(404)
        except DomainError as exc:
            flash(f"{reference}: {exc.message}", "danger")
        else:
            flash_refund(reference, refund)
        return self._back(booking_id)
