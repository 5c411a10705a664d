"""Console screens for money: payments, their refunds, and the Stripe webhook inbox.

All three are read-only lists. Refunds and replays call the payment services, which
check amounts, states and the tenant and own the commit; a refusal is flashed. Staff see
and act on their own provider's rows only; admins on all.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual
from sqlalchemy import or_
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.errors import DomainError, NotFound
from app.models import Payment, PaymentEvent, Refund
from app.models.payments import (
    EVENT_FAILED,
    EVENT_STATUSES,
    GATEWAYS,
    PAYMENT_STATUSES,
    REFUND_FAILED,
    REFUND_RETRYING,
    REFUND_STATUSES,
)
from app.services import payment_queries, payment_webhooks, refunds
from app.services.money import AmountError, format_money, parse_major_units
from views.base import TenantModelView, console_scope
from views.console import (
    ConsoleInterface,
    choice_field,
    gateway_name,
    local_column,
    money_column,
    person,
    pretty_json,
    preformatted,
    status_badge,
    status_field,
    words_column,
)
from views.filters import typed_flag

FULL_REFUND_REASON = "refunded in full from the console"


def _flag(payment) -> str:
    return f"⚑ {payment.attention}" if payment.attention else ""


def _refunded_payment(refund) -> str:
    """The payment a refund is of, as staff tell it apart: "BW-4G2XSK (PayPal, 42.00 EUR)"."""
    payment = refund.payment
    return (f"{payment.booking.reference} ({gateway_name(payment.gateway)}, "
            f"{format_money(payment.amount_minor, payment.currency)})")


class FilterPresent(BaseFilter):
    """Whether a text column holds something: "yes" for rows that have it, else without."""

    name = "Present"
    arg_name = "present"

    def apply(self, query, value):
        column = getattr(self.model, self.column_name)
        if typed_flag(value):
            return query.filter(column.is_not(None), column != "")
        return query.filter(or_(column.is_(None), column == ""))


# --- refunds -------------------------------------------------------------------------------

class RefundView(TenantModelView):
    """Every refund; also the "Refunds" tab of a payment's page."""

    datamodel = ConsoleInterface(
        Refund,
        display={
            "payment": _refunded_payment,
            "amount_minor": money_column("amount_minor"),
            "actor": lambda r: person(r.actor) or "system",
            "created_at": local_column("created_at"),
            "updated_at": local_column("updated_at"),
            "next_attempt_at": local_column("next_attempt_at"),
        },
        column_filters={"status": [FilterEqual, FilterNotEqual]},
    )
    base_permissions = ["can_list", "can_show"]
    list_title = "Refunds"
    show_title = "Refund"
    list_columns = ["payment", "amount_minor", "status", "reason", "actor", "attempts",
                    "last_error", "created_at"]
    show_columns = ["id", "payment", "amount_minor", "status", "reason", "actor",
                    "provider_reference", "attempts", "last_error", "next_attempt_at",
                    "provider", "created_at", "updated_at"]
    search_columns = ["status", "reason", "created_at"]  # no dropdown of every payment
    search_form_extra_fields = {"status": status_field(REFUND_STATUSES)}
    order_columns = ["amount_minor", "status", "attempts", "created_at"]
    base_order = ("created_at", "desc")
    formatters_columns = {"last_error": preformatted, "status": status_badge}
    label_columns = {"amount_minor": "Amount", "actor": "Requested by",
                     "provider_reference": "Gateway reference", "last_error": "Last error",
                     "next_attempt_at": "Next attempt", "created_at": "Created (local time)",
                     "updated_at": "Updated (local time)"}


# --- payments ------------------------------------------------------------------------------

class PartialRefundForm(DynamicForm):
    amount = StringField(
        "Amount (major units, e.g. 12.50)", validators=[DataRequired()],
        widget=BS3TextFieldWidget(),
        description="In the payment's currency, with its usual decimals: 12.50 for "
                    "twelve euros fifty.")
    reason = StringField("Reason", validators=[Length(max=refunds.REASON_LENGTH)],
                         widget=BS3TextFieldWidget())


def minor_units(amount: str, currency: str) -> int:
    """ "12.50" EUR → 1250. Only the notation is checked here; the refund service checks
    the amount itself (more than zero, within what is left to refund)."""
    try:
        return parse_major_units(amount, currency)
    except AmountError as exc:
        raise ValidationError(str(exc)) from None


class PaymentView(TenantModelView):
    datamodel = ConsoleInterface(
        Payment,
        display={
            "amount_minor": money_column("amount_minor"),
            "received_minor": money_column("received_minor"),
            "refunded_minor": money_column("refunded_minor"),
            "gateway": lambda p: gateway_name(p.gateway),
            "method": words_column("method"),
            "attention": _flag,
            "marked_paid_by_id": lambda p: person(payment_queries.marked_paid_by(p)),
            "created_at": local_column("created_at"),
            "updated_at": local_column("updated_at"),
            "succeeded_at": local_column("succeeded_at"),
            "checked_at": local_column("checked_at"),
        },
        column_filters={
            "status": [FilterEqual, FilterNotEqual],
            "gateway": [FilterEqual, FilterNotEqual],
            "attention": [FilterPresent],
        },
    )
    base_permissions = ["can_list", "can_show", "can_refund"]
    method_permission_name = {"refund_in_full": "refund", "refund_form": "refund"}
    list_title = "Payments"
    show_title = "Payment"
    show_template = "console/payment_show.html"
    related_views = [RefundView]

    list_columns = ["booking", "gateway", "status", "amount_minor", "received_minor",
                    "refunded_minor", "attention", "created_at"]
    show_fieldsets = [
        ("Payment", {"fields": ["booking", "gateway", "method", "status", "amount_minor",
                                "received_minor", "refunded_minor", "provider_reference",
                                "marked_paid_by_id", "provider", "created_at",
                                "succeeded_at", "updated_at"]}),
        ("Problems", {"fields": ["attention", "failure_reason", "checked_at"]}),
    ]
    search_columns = ["status", "gateway", "attention", "created_at"]
    search_form_extra_fields = {
        "status": status_field(PAYMENT_STATUSES),
        "gateway": choice_field("Gateway", GATEWAYS, gateway_name),
        "attention": choice_field("Needs attention", ("yes", "no")),
    }
    order_columns = ["gateway", "status", "amount_minor", "received_minor", "refunded_minor",
                     "created_at"]
    base_order = ("created_at", "desc")
    formatters_columns = {"failure_reason": preformatted, "status": status_badge}
    label_columns = {
        "booking": "Booking", "amount_minor": "Amount", "received_minor": "Received",
        "refunded_minor": "Refunded", "attention": "Attention",
        "failure_reason": "Failure reason", "provider_reference": "Gateway reference",
        "marked_paid_by_id": "Marked paid by",
        "created_at": "Created (local time)", "updated_at": "Updated (local time)",
        "succeeded_at": "Paid (local time)", "checked_at": "Last checked with the gateway",
    }

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        """The page also gets the payment's flag, shown first (payment_show.html)."""
        widgets = super()._get_show_widget(pk, item, widgets, actions, show_fieldsets)
        widgets["show"].template_args["attention"] = item.attention
        return widgets

    @action("refund_in_full", "Refund in full",
            "Refund everything still refundable on the selected payments?", "fa-undo")
    def refund_in_full(self, items):
        rows = [(item.id, item.booking.reference)
                for item in (items if isinstance(items, list) else [items])]
        scope = console_scope()
        for payment_id, reference in rows:
            try:
                refund = refunds.request_refund(
                    payment_id, amount_minor=None, reason=FULL_REFUND_REASON,
                    actor_id=g.user.id, scope=scope)
            except DomainError as exc:
                flash(f"{reference}: {exc.message}", "danger")
            else:
                flash_refund(reference, refund)
        self.update_redirect()
        return redirect(self.get_redirect())

    @expose("/refund/<int:pk>", methods=["GET", "POST"])
    @has_access
    def refund_form(self, pk):
        """A partial refund: an amount and a reason, for one payment."""
        pk = self._deserialize_pk_if_composite(pk)
        payment = self.datamodel.get(pk, self._base_filters)
        if payment is None:
            abort(404)
        form = PartialRefundForm()
        if form.validate_on_submit():
            try:
                amount_minor = minor_units(form.amount.data, payment.currency)
            except ValidationError as exc:
                form.amount.errors = [*form.amount.errors, str(exc)]
            else:
                reference = payment.booking.reference
                try:
                    refund = refunds.request_refund(
                        payment.id, amount_minor=amount_minor, reason=form.reason.data or "",
                        actor_id=g.user.id, scope=console_scope())
                except NotFound:
                    abort(404)
                except DomainError as exc:
                    flash(f"{reference}: {exc.message}", "danger")
                    payment = self.datamodel.get(pk, self._base_filters)
                else:
                    flash_refund(reference, refund)
                    return redirect(url_for(f"{self.endpoint}.show", pk=pk))
        return self.render_template(
            "console/refund.html", title="Refund a payment", form=form, payment=payment,
            amount=format_money(payment.received_minor, payment.currency),
            gateway=gateway_name(payment.gateway),
            refundable=format_money(refunds.refundable(payment), payment.currency),
            show_url=url_for(f"{self.endpoint}.show", pk=pk))


def flash_refund(reference: str, refund: Refund) -> None:
    amount = format_money(refund.amount_minor, refund.currency)
    if refund.status == REFUND_RETRYING:
        flash(f"{reference}: refund of {amount} not through yet, it will be retried "
              f"({refund.last_error}).", "warning")
    elif refund.status == REFUND_FAILED:
        flash(f"{reference}: refund of {amount} failed: {refund.last_error}", "danger")
    else:
        flash(f"{reference}: refund of {amount} {refund.status}.", "success")


# --- the webhook inbox ---------------------------------------------------------------------

class PaymentEventView(TenantModelView):
    """Stripe's webhooks as received; staff see the ones matched to their payments."""

    datamodel = ConsoleInterface(
        PaymentEvent,
        display={"received_at": local_column("received_at"),
                 "processed_at": local_column("processed_at")},
        column_filters={"status": [FilterEqual, FilterNotEqual]},
    )
    base_permissions = ["can_list", "can_show"]
    method_permission_name = {"replay": "replay"}
    item_name = "webhook event"
    list_title = "Webhook inbox"
    show_title = "Webhook event"
    list_columns = ["type", "event_id", "status", "attempts", "outcome", "received_at"]
    show_columns = ["id", "gateway", "type", "event_id", "status", "attempts", "outcome",
                    "payment", "provider", "received_at", "processed_at", "payload"]
    search_columns = ["type", "event_id", "status", "received_at"]
    search_form_extra_fields = {"status": status_field(EVENT_STATUSES)}
    order_columns = ["type", "status", "attempts", "received_at"]
    base_order = ("received_at", "desc")
    formatters_columns = {"payload": pretty_json, "outcome": preformatted,
                          "status": status_badge}
    label_columns = {"event_id": "Event id", "received_at": "Received",
                     "processed_at": "Processed"}

    @action("replay", "Replay", "Process the selected failed events again?", "fa-repeat")
    def replay(self, items):
        rows = [(item.id, item.event_id, item.status)
                for item in (items if isinstance(items, list) else [items])]
        for row_id, event_id, status in rows:
            if status != EVENT_FAILED:
                flash(f"{event_id}: {status}, not failed; nothing to replay.", "warning")
                continue
            payment_webhooks.replay(row_id)
            event_type, event_status = payment_webhooks.type_and_status(row_id)
            category = "danger" if event_status == EVENT_FAILED else "success"
            flash(f"{event_id} ({event_type}) replayed: {event_status}.", category)
        self.update_redirect()
        return redirect(self.get_redirect())


__all__ = ["PaymentEventView", "PaymentView", "RefundView", "flash_refund", "minor_units"]
