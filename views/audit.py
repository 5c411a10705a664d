"""The audit trail, read-only: admins see all, provider staff their own provider's."""
from __future__ import annotations

from views.console import ConsoleInterface

from app.models import AuditLog
from views.base import TenantModelView


class AuditLogView(TenantModelView):
    datamodel = ConsoleInterface(AuditLog)
    base_permissions = ["can_list", "can_show"]
    list_columns = ["created_at", "actor", "action", "entity", "entity_id", "provider", "ip"]
    show_columns = list_columns + ["changes"]
    search_columns = ["action", "entity", "entity_id", "actor", "provider", "created_at"]
    order_columns = ["created_at", "action", "entity"]
    base_order = ("created_at", "desc")
