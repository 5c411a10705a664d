"""Console screens for availability: weekly rules, closed days, and the slots they make."""
from __future__ import annotations

from flask import current_app, flash, redirect
from flask_appbuilder.actions import action

from app.models import AvailabilityRule, ClosedDay, Slot
from app.services import availability, catalog
from app.services.scopes import Scope
from views.base import TenantModelView, console_scope
from views.catalog_base import CatalogInterface, CatalogRowView
from views.console import ConsoleInterface, local_column
from views.form_fields import ZonedDateField, ZonedTimeField, optional_date, weekday_select


class AvailabilityRuleView(CatalogRowView):
    datamodel = CatalogInterface(AvailabilityRule, catalog.RULE)
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
        column: local_column(column) for column in ("starts_at", "ends_at", "retired_at")})
    base_permissions = ["can_list", "can_show"]
    list_columns = ["offering", "starts_at", "ends_at", "capacity", "booked", "retired_at",
                    "provider"]
    label_columns = {"starts_at": "Starts (local time)", "ends_at": "Ends (local time)",
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
