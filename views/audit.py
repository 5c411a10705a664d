"""The audit trail, read-only: admins see all, provider staff their own provider's.

The list opens with a period filter in view (from, before; quick links for today and the
last 7 and 30 days): typed dates are read on the wall clock the console's filters use
(views.filters.typed_time_zone). An entry's changes read as "field: before → after".
"""
from __future__ import annotations

from datetime import datetime, timedelta

from dateutil import parser as date_parser
from markupsafe import Markup, escape

from app.models import AuditLog
from app.services import agenda
from views.base import TenantModelView
from views.console import ConsoleInterface, local_column, person
from views.filters import typed_time_zone

# The created_at filters' positions in the search form: From, then Before (views.filters).
FROM_ARG, BEFORE_ARG = "_flt_0_created_at", "_flt_1_created_at"


def _readable_change_value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:  # an ISO timestamp as the audit trail stores it (UTC)
            return date_parser.isoparse(value).strftime("%Y-%m-%d %H:%M:%S UTC")
        except ValueError:
            return value
    if isinstance(value, (list, dict)):
        return ", ".join(_readable_change_value(v) for v in value) if isinstance(
            value, list) else ", ".join(f"{k}: {_readable_change_value(v)}"
                                        for k, v in value.items())
    return str(value)


def readable_changes(changes) -> Markup:
    """``{"status": ["pending", "confirmed"], "active": true}`` as a two-column table."""
    if not changes:
        return Markup("")
    rows = []
    for field, value in sorted(changes.items()):
        if isinstance(value, list) and len(value) == 2:
            shown = (f"{_readable_change_value(value[0])} → "
                     f"{_readable_change_value(value[1])}")
        else:
            shown = _readable_change_value(value)
        label = field.replace("_", " ").capitalize()
        rows.append(f"<tr><th>{escape(label)}</th><td>{escape(shown)}</td></tr>")
    return Markup('<table class="table table-condensed audit-changes">'
                  + "".join(rows) + "</table>")


def actor_of(entry) -> str:
    """Who made the change: the person, or the API key it was made with."""
    if entry.actor is not None:
        return person(entry.actor)
    return entry.api_key.label if entry.api_key is not None else ""


class AuditLogView(TenantModelView):
    datamodel = ConsoleInterface(AuditLog, display={"created_at": local_column("created_at"),
                                                    "actor": actor_of})
    item_name, items_name = "audit entry", "audit entries"
    list_title = "Audit log"
    list_template = "console/audit_list.html"
    base_permissions = ["can_list", "can_show"]
    list_columns = ["created_at", "actor", "action", "entity", "entity_id", "provider", "ip"]
    show_columns = list_columns + ["changes"]
    search_columns = ["action", "entity", "entity_id", "actor", "provider", "created_at"]
    order_columns = ["created_at", "action", "entity"]
    base_order = ("created_at", "desc")
    formatters_columns = {"changes": readable_changes}
    label_columns = {"created_at": "Time", "actor": "By", "action": "Action",
                     "entity": "Record", "entity_id": "Record id", "provider": "Provider",
                     "ip": "IP address", "changes": "What changed"}

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["period"] = period_choices()
        return super().render_template(template, **kwargs)


def period_choices() -> dict:
    """The period form's zone and quick links, as dates on the typed-time wall clock."""
    zone = typed_time_zone()
    today = datetime.now(agenda.zone_of(zone)).date()
    tomorrow = today + timedelta(days=1)
    return {
        "zone": zone, "from_arg": FROM_ARG, "before_arg": BEFORE_ARG,
        "links": [("Today", today, tomorrow),
                  ("Last 7 days", today - timedelta(days=6), tomorrow),
                  ("Last 30 days", today - timedelta(days=29), tomorrow)],
    }
