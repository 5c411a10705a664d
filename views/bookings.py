"""Console screens for bookings: the read-only list with its state actions.

The calendar (day and week by time) is in :mod:`views.calendar`.

Bookings are never edited by hand: every change is an action that calls the booking
service (which checks the state machine, records the history, publishes the event and
commits). Staff act on their own provider's bookings only; admins on any.
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import abort, flash, g, redirect, request
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual
from wtforms import StringField

from app.errors import DomainError
from app.models import Booking, BookingHistory
from app.models.bookings import PENDING, STATUSES
from app.services import agenda, payments
from app.services.bookings import (
    Actor,
    Scope,
    cancel_booking,
    complete_booking,
    confirm_booking,
    mark_no_show,
)
from views.base import TenantModelView, console_scope
from views.booking_page import BookingPage
from views.console import (
    ConsoleInterface,
    local_column,
    money_column,
    person,
    status_badge,
    status_field,
    status_text,
    yes_no,
)
from views.filters import (
    FilterAccountEmailContains,
    FilterAccountEmailEqual,
    FilterRelatedNameContains,
    typed_time_zone,
)

CONSOLE_REASON = "console"

# The bookings list's periods: Flask-AppBuilder's own list arguments (the first and second
# search filter of the start time, the order), so the search form shows what is applied.
STARTS_FROM_ARG, STARTS_BEFORE_ARG = "_flt_0_starts_at", "_flt_1_starts_at"
ORDER_ARG, DIRECTION_ARG = "_oc_BookingView", "_od_BookingView"
# Arguments that say the list's state was chosen: anything else opens "Upcoming".
LIST_STATE_PREFIXES = ("_flt_", "_oc_", "page_", "psize_")


def booking_periods() -> dict:
    """Upcoming (from the start of today, soonest first), past (latest first) and all, as
    list arguments on the typed-time wall clock, with the one the request shows."""
    zone = typed_time_zone()
    today = datetime.now(agenda.zone_of(zone)).date().isoformat()
    periods = [
        ("upcoming", "Upcoming", {STARTS_FROM_ARG: today, ORDER_ARG: "starts_at",
                                  DIRECTION_ARG: "asc"}),
        ("past", "Past", {STARTS_BEFORE_ARG: today, ORDER_ARG: "starts_at",
                          DIRECTION_ARG: "desc"}),
        ("all", "All", {ORDER_ARG: "starts_at", DIRECTION_ARG: "desc"}),
    ]
    shown = next((name for name, _label, args in periods
                  if all(request.args.get(key) == value for key, value in args.items())
                  and not any(key.startswith("_flt_") and key not in args
                              for key in request.args)), None)
    return {"zone": zone, "shown": shown,
            "links": [(name, label, urlencode(args)) for name, label, args in periods]}


# --- acting on bookings ------------------------------------------------------------------

class BookingActions:
    """The state actions of the bookings screen: each booking is one service call."""

    def _transition(self, items, service, done: str, check=None):
        rows = [(item.reference, item) for item in (items if isinstance(items, list)
                                                    else [items])]
        refusals = {reference: check(item) for reference, item in rows} if check else {}
        scope = console_scope()
        actor = Actor(g.user.id, CONSOLE_REASON)
        for reference, _item in rows:
            refusal = refusals.get(reference)
            if refusal:
                flash(f"{reference}: {refusal}", "danger")
                continue
            try:
                service(reference, actor=actor, scope=scope)
            except DomainError as exc:  # the service rolled its transaction back
                flash(f"{reference}: {exc.message}", "danger")
            else:
                flash(f"{reference}: {done}", "success")
        self.update_redirect()
        return redirect(self.get_redirect())

    @action("confirm", "Confirm", "Confirm the selected pay-at-venue bookings?",
            "fa-check")
    def confirm(self, items):
        return self._transition(items, confirm_booking, "confirmed.",
                                check=_confirmable_here)

    @action("cancel", "Cancel", "Cancel the selected bookings? Their places are given back.",
            "fa-ban")
    def cancel(self, items):
        return self._transition(items, cancel_booking, "cancelled.")

    @action("complete", "Mark completed", "Mark the selected bookings as completed?",
            "fa-flag-checkered")
    def complete(self, items):
        return self._transition(items, complete_booking, "completed.")

    @action("no_show", "Mark no-show", "Record that these customers did not come?",
            "fa-user-times")
    def no_show(self, items):
        return self._transition(items, mark_no_show, "marked as no-show.")

    @action("mark_paid", "Mark paid", "Record that the selected pay-at-venue bookings were "
            "paid at the venue? Pending ones are confirmed.", "fa-money")
    def mark_paid(self, items):
        return self._transition(items, _mark_paid, "marked paid.")


def _mark_paid(reference: str, *, actor: Actor, scope: Scope):
    return payments.mark_paid(reference, actor_id=actor.user_id, scope=scope)


def _confirmable_here(booking) -> str | None:
    # Online payments confirm their bookings when the payment succeeds; staff confirm
    # only what is paid at the venue. (A rule for the booking service: see the report.)
    if booking.status == PENDING and not booking.pay_at_venue:
        return "waits for its online payment; only pay-at-venue bookings are confirmed here."
    return None


# --- screens -----------------------------------------------------------------------------

class BookingHistoryView(TenantModelView):
    """Every transition of a booking; shown on the booking's page."""

    datamodel = ConsoleInterface(BookingHistory, display={
        "created_at": local_column("created_at"),
        "actor": lambda row: person(row.actor) or "system",
    })
    base_permissions = ["can_list", "can_show"]
    list_title = show_title = "History"
    list_columns = ["booking", "from_status", "to_status", "actor", "reason", "created_at"]
    show_columns = list_columns + ["provider"]
    search_columns = ["to_status", "reason", "created_at"]  # no dropdown of every booking
    order_columns = ["created_at"]
    base_order = ("id", "asc")
    label_columns = {"from_status": "From", "to_status": "To", "created_at": "Time"}
    formatters_columns = {"from_status": status_text, "to_status": status_text}


LIST_COUNT_LIMIT = 10_000
ATTRIBUTION_COLUMNS = [f"attribution_row.{name}" for name in (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "ttclid", "ttp",
    "landing_url", "referrer", "consent")]


class BookingView(BookingPage, BookingActions, TenantModelView):
    datamodel = ConsoleInterface(
        Booking,
        count_limit=LIST_COUNT_LIMIT,
        display={
            "customer": lambda b: person(b.customer),
            "starts_at": local_column("starts_at"),
            "ends_at": local_column("ends_at"),
            "hold_expires_at": local_column("hold_expires_at"),
            "created_at": local_column("created_at"),
            "updated_at": local_column("updated_at"),
            "total_minor": money_column("total_minor"),
            "unit_price_minor": money_column("unit_price_minor"),
            "pay_at_venue": yes_no("pay_at_venue"),
            "attribution_row.consent": yes_no("attribution_row.consent"),
        },
        column_filters={
            "customer": [FilterAccountEmailContains, FilterAccountEmailEqual],
            "offering": [FilterRelatedNameContains],
            "status": [FilterEqual, FilterNotEqual],
        },
    )
    base_permissions = ["can_list", "can_show", "can_reschedule"]
    list_title = "Bookings"
    show_title = "Booking"
    method_permission_name = {"confirm": "confirm", "cancel": "cancel",
                              "complete": "complete", "no_show": "no_show",
                              "mark_paid": "mark_paid", "show": "show",
                              # each checks the action's own permission inside
                              "page_action": "show", "page_refund": "show",
                              "page_move": "reschedule"}
    page_actions = {"confirm": confirm_booking, "cancel": cancel_booking,
                    "complete": complete_booking, "no_show": mark_no_show,
                    "mark_paid": _mark_paid}
    page_done = {"confirm": "confirmed.", "cancel": "cancelled.", "complete": "completed.",
                 "no_show": "marked as no-show.", "mark_paid": "marked paid."}

    list_columns = ["reference", "customer", "offering", "starts_at", "quantity", "status",
                    "total_minor", "provider"]
    show_fieldsets = [
        ("Booking", {"fields": ["reference", "status", "customer", "offering", "variant",
                                "starts_at", "ends_at", "quantity", "unit_price_minor",
                                "total_minor", "pay_at_venue", "hold_expires_at", "notes",
                                "provider", "created_at", "updated_at"]}),
        ("Attribution", {"fields": ATTRIBUTION_COLUMNS, "expanded": True}),
    ]
    search_columns = ["reference", "status", "offering", "starts_at", "customer", "provider"]
    search_form_extra_fields = {
        "status": status_field(STATUSES),
        "customer": StringField("Customer email", widget=BS3TextFieldWidget()),
        "offering": StringField("Offering name", widget=BS3TextFieldWidget()),
    }
    order_columns = ["reference", "starts_at", "quantity", "status", "total_minor"]
    formatters_columns = {"status": status_badge}
    base_order = ("starts_at", "desc")
    list_template = "console/bookings_list.html"
    label_columns = {
        "starts_at": "Starts (local time)", "ends_at": "Ends (local time)",
        "hold_expires_at": "Hold expires", "total_minor": "Total",
        "unit_price_minor": "Unit price", "pay_at_venue": "Pay at venue",
        "attribution_row.utm_source": "UTM source", "attribution_row.utm_medium": "UTM medium",
        "attribution_row.utm_campaign": "UTM campaign", "attribution_row.utm_term": "UTM term",
        "attribution_row.utm_content": "UTM content",
        "attribution_row.ttclid": "TikTok click id (ttclid)",
        "attribution_row.ttp": "TikTok cookie (_ttp)",
        "attribution_row.landing_url": "Landing URL", "attribution_row.referrer": "Referrer",
        "attribution_row.consent": "Tracking consent",
    }

    @expose("/list/")
    @has_access
    def list(self):
        """Opens on upcoming bookings, soonest first; a chosen filter, order or page stays."""
        if not any(key.startswith(LIST_STATE_PREFIXES) for key in request.args):
            upcoming = booking_periods()["links"][0][2]
            return redirect(f"{request.script_root}{request.path}?{upcoming}")
        return super().list()

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["periods"] = booking_periods()
        return super().render_template(template, **kwargs)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """The booking page (replaces the stock show screen; same address)."""
        return self.booking_page(pk, console_scope())

    @expose("/page-action/<pk>/<name>", methods=["POST"])
    @has_access
    def page_action(self, pk, name):
        return self.perform_action(pk, name, console_scope())

    @expose("/move/<pk>", methods=["POST"])
    @has_access
    def page_move(self, pk):
        return self.perform_move(pk, console_scope())

    @expose("/refund/<pk>/<int:payment_id>", methods=["POST"])
    @has_access
    def page_refund(self, pk, payment_id):
        if not self.appbuilder.sm.has_access("can_refund", "PaymentView"):
            abort(403)
        return self.perform_refund(pk, payment_id, console_scope())


__all__ = ["BookingHistoryView", "BookingView"]
