"""Console screens (Flask-AppBuilder). Thin: business rules live in ``app.services``."""
from __future__ import annotations

from views.audit import AuditLogView
from views.providers import ProviderView


def register_views(appbuilder) -> None:
    appbuilder.add_view(
        ProviderView, "Providers", icon="fa-store", category="Setup",
        category_icon="fa-cogs",
    )
    appbuilder.add_view(
        AuditLogView, "Audit log", icon="fa-history", category="Audit",
        category_icon="fa-list",
    )
