"""The audit trail, read-only: admins see all, provider staff their own provider's."""
from __future__ import annotations

from app.models import AuditLog
from views.base import TenantModelView
from views.console import ConsoleInterface, local_column


class AuditLogView(TenantModelView):
    datamodel = ConsoleInterface(AuditLog, display={"created_at": local_column("created_at")})
    base_permissions = ["can_list", "can_show"]
    list_columns = ["created_at", "actor", "action", "entity", "entity_id", "provider", "ip"]
    show_columns = list_columns + ["changes"]
    search_columns = ["action", "entity", "entity_id", "actor", "provider", "created_at"]
    order_columns = ["created_at", "action", "entity"]
    base_order = ("created_at", "desc")
    label_columns = {"created_at": "Time (local time)"}
