"""Console screens for availability: weekly rules, closed days, and the slots they make."""
from __future__ import annotations

from flask import current_app, flash, redirect
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from wtforms import StringField
from wtforms.validators import Length, Optional

from app.models import AvailabilityRule, ClosedDay, Slot, TimeOff
from app.services import availability, catalog
from app.services.scopes import Scope
from views.base import TenantModelView, console_scope
from views.catalog_base import CatalogInterface, CatalogRowView
from views.console import ConsoleInterface, local_column
from views.console_forms import staff_zone
from views.form_fields import (
    LocalMomentField,
    ZonedDateField,
    ZonedTimeField,
    optional_date,
    weekday_select,
)
from views.waitlist import line_link, prefetch_line_counts


class AvailabilityRuleView(CatalogRowView):
    datamodel = CatalogInterface(AvailabilityRule, catalog.RULE)
    item_name, list_title = "opening hours rule", "Opening hours"
    row_kind = catalog.RULE
    list_columns = ["offering", "weekday_name", "start_time", "end_time", "slot_minutes",
                    "capacity", "valid_from", "valid_to", "provider"]
    add_columns = edit_columns = ["provider", "offering", "weekday", "start_time", "end_time",
                                  "slot_minutes", "capacity", "valid_from", "valid_to"]
    search_columns = ["offering", "weekday", "provider"]
    order_columns = ["weekday", "start_time"]
    # Flask-AppBuilder has no form field for Time columns; the browser's pickers are used.
    add_form_extra_fields = edit_form_extra_fields = {
        "weekday": weekday_select(),
        "start_time": ZonedTimeField("Start"), "end_time": ZonedTimeField("End"),
        "valid_from": ZonedDateField("Valid from"), "valid_to": optional_date("Valid until"),
    }
    label_columns = {"weekday_name": "Weekday"}
    description_columns = {
        "slot_minutes": "A slot starts every this many minutes",
        "capacity": "Places per slot",
    }


class ClosedDayView(CatalogRowView):
    datamodel = CatalogInterface(ClosedDay, catalog.CLOSED_DAY)
    row_kind = catalog.CLOSED_DAY
    list_columns = ["day", "offering", "reason", "provider"]
    add_columns = edit_columns = ["provider", "day", "offering", "reason"]
    search_columns = ["day", "offering", "provider"]
    order_columns = ["day"]
    description_columns = {"offering": "Leave empty to close everything that day."}
    add_form_extra_fields = edit_form_extra_fields = {"day": ZonedDateField("Day")}


class SlotView(TenantModelView):
    """Slots are made from the rules: listed, not edited by hand."""

    datamodel = ConsoleInterface(Slot, display={
        **{column: local_column(column) for column in ("starts_at", "ends_at", "retired_at")},
        "waiting_list": line_link,  # a full time's line, on the waiting lists screen
    }, prefetch=prefetch_line_counts)
    base_permissions = ["can_list", "can_show"]
    list_columns = ["offering", "starts_at", "ends_at", "capacity", "booked", "waiting_list",
                    "retired_at", "provider"]
    show_columns = ["offering", "starts_at", "ends_at", "capacity", "booked", "waiting_list",
                    "retired_at", "provider"]
    label_columns = {"starts_at": "Starts (local time)", "ends_at": "Ends (local time)",
                     "waiting_list": "Waiting list",
                     "retired_at": "Retired (no longer offered)"}
    search_columns = ["offering", "starts_at", "provider"]
    order_columns = ["starts_at", "capacity", "booked"]
    base_order = ("starts_at", "asc")
    # Flask-AppBuilder checks an action against the permission named after the action
    # unless this maps it; the roles grant "can_generate".
    method_permission_name = {"generate": "generate"}

    @action("generate", "Generate slots", "Generate slots from the rules now?", "fa-refresh",
            single=False)
    def generate(self, items):
        scope = console_scope()
        # Admins generate for the providers of the selected rows, staff for their own.
        scopes = ({Scope.of_provider(item.provider_id) for item in items}
                  if scope.every_provider else {scope})
        created = 0
        for provider_scope in scopes:
            created += availability.generate_slots(
                scope=provider_scope, days=current_app.config["SLOT_DAYS_AHEAD"]).created
        flash(f"{created} new slots.", "info")
        self.update_redirect()
        return redirect(self.get_redirect())


def _form_zone(form) -> str | None:
    """The zone typed times are in: the picked provider's (admins) or the staff's own."""
    if "provider" in form:
        provider = form["provider"].data
        return provider.timezone if provider is not None else None
    return staff_zone()


def _moment(label: str) -> LocalMomentField:
    return LocalMomentField(label, zone_of_form=_form_zone,
                            zone_of_row=lambda row: row.provider.timezone)


class TimeOffView(CatalogRowView):
    """Periods without slots, from a date and time to another, in the provider's zone."""

    datamodel = CatalogInterface(TimeOff, catalog.TIME_OFF, display={
        column: local_column(column) for column in ("starts_at", "ends_at")})
    row_kind = catalog.TIME_OFF
    list_columns = ["starts_at", "ends_at", "offering", "reason", "provider"]
    add_columns = edit_columns = ["provider", "offering", "starts_at", "ends_at", "reason"]
    show_columns = list_columns
    search_columns = ["offering", "provider"]
    order_columns = ["starts_at", "ends_at"]
    base_order = ("starts_at", "desc")
    label_columns = {"starts_at": "From", "ends_at": "Until"}
    description_columns = {"offering": "Leave empty for time off of the whole provider.",
                           "reason": "For your team: customers are not shown it."}
    add_form_extra_fields = edit_form_extra_fields = {
        "starts_at": _moment("From"), "ends_at": _moment("Until"),
        "reason": StringField("Reason", validators=[Optional(), Length(max=200)],
                              widget=BS3TextFieldWidget())}
