"""Console: the TikTok delivery log, and the attribution report with its CSV export.

Staff see their own provider's conversion events and report; admins see every provider
and may send a failed event again (never a sent one).
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import Response, abort, flash, g, redirect, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.actions import action

from app.errors import DomainError
from app.models import ConversionEvent
from app.models.conversions import CONVERSION_STATUSES, FAILED
from app.services import agenda, attribution_report, conversions
from app.services.money import format_money
from app.services.scopes import Scope
from views.base import TenantModelView, console_scope, user_is_admin
from views.console import (
    ConsoleInterface,
    local_column,
    pretty_json,
    preformatted,
    status_badge,
    status_field,
)


class ConversionEventView(TenantModelView):
    datamodel = ConsoleInterface(ConversionEvent, display={
        "created_at": local_column("created_at"), "sent_at": local_column("sent_at")})
    base_permissions = ["can_list", "can_show", "can_resend"]
    method_permission_name = {"resend": "resend"}
    item_name = "TikTok event"
    list_title = "TikTok events"
    show_title = "TikTok event"
    list_columns = ["event_name", "booking", "status", "attempts", "http_status",
                    "response_code", "response_message", "created_at", "sent_at"]
    show_columns = ["event_id", "event_name", "booking", "provider", "status", "attempts",
                    "http_status", "response_code", "response_message", "created_at",
                    "sent_at", "next_attempt_at", "payload"]
    search_columns = ["event_name", "status", "event_id", "created_at"]
    search_form_extra_fields = {"status": status_field(CONVERSION_STATUSES)}
    order_columns = ["event_name", "status", "attempts", "created_at", "sent_at"]
    base_order = ("created_at", "desc")
    formatters_columns = {"payload": pretty_json, "response_message": preformatted,
                          "status": status_badge}
    label_columns = {"event_id": "Event id (shared with the Pixel)", "http_status": "HTTP",
                     "response_code": "TikTok code", "response_message": "TikTok message",
                     "created_at": "Created", "sent_at": "Sent"}

    @action("resend", "Send again", "Send the selected failed events again?", "fa-repeat",
            single=False)
    def resend(self, items):
        rows = [(item.id, item.event_id, item.status)
                for item in (items if isinstance(items, list) else [items])]
        scope = console_scope()
        for row_id, event_id, status in rows:
            if status != FAILED:
                flash(f"{event_id}: {status}, not failed; not sent again.", "warning")
                continue
            try:
                row = conversions.resend(row_id, scope=scope)
            except DomainError as exc:
                flash(f"{event_id}: {exc.message}", "danger")
                continue
            flash(f"{event_id}: {row.status}.", "success" if row.status != FAILED else "danger")
        self.update_redirect()
        return redirect(self.get_redirect())


class AttributionReportView(BaseView):
    """Bookings, paid revenue and refunds by source, campaign, or TikTok vs not."""

    route_base = "/attribution"
    default_view = "report"

    @expose("/report/")
    @has_access
    def report(self):
        params = self._params()
        try:
            rows = _report(params)
        except DomainError as exc:
            flash(exc.message, "danger")
            rows = []
        return self.render_template(
            "console/attribution_report.html", rows=rows, params=params,
            groupings=attribution_report.GROUPINGS, money=format_money,
            providers=agenda.agenda_providers() if user_is_admin(g.user) else None)

    @expose("/report.csv")
    @has_access
    def csv(self):
        params = self._params()
        try:
            rows = _report(params)
        except DomainError as exc:
            return Response(exc.message + "\n", status=422, mimetype="text/plain")
        name = f"attribution-{params['start']}-{params['end']}-{params['group_by']}.csv"
        return Response(attribution_report.to_csv(rows, params["group_by"]),
                        mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}"})

    def _params(self) -> dict:
        scope = console_scope()
        if scope.every_provider:  # an admin may narrow the report to one provider
            provider_id = request.args.get("provider_id", "")
            if provider_id.isdigit():
                scope = Scope.of_provider(int(provider_id))
        provider_id = scope.provider_id
        try:
            zone = agenda.provider_zone(provider_id) if provider_id else "UTC"
        except DomainError:
            abort(404)
        today = agenda.local_today(zone)
        start = _date_arg("from", today - timedelta(days=29))
        end = _date_arg("to", today)
        group_by = request.args.get("group_by", "utm_source")
        if group_by not in attribution_report.GROUPINGS:
            group_by = "utm_source"
        return {"scope": scope, "provider_id": provider_id, "start": start, "end": end,
                "group_by": group_by}


def _report(params: dict):
    return attribution_report.report(scope=params["scope"], start=params["start"],
                                     end=params["end"], group_by=params["group_by"])


def _date_arg(name: str, default: date) -> date:
    value = request.args.get(name, "")
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        flash(f"{value!r} is not a date (YYYY-MM-DD).", "warning")
        return default


__all__ = ["AttributionReportView", "ConversionEventView"]
