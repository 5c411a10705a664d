"""The event log (admins): outbox events, their delivery state, and replay.

Provider staff hold no permission on these screens. They are still tenant-scoped
screens, so a permission granted by mistake would show staff their own provider's
events only.
"""
from __future__ import annotations

from flask import flash, redirect
from flask_appbuilder.actions import action

from app import events
from app.models import ConsumedEvent, OutboxEvent
from app.models.events import DONE, FAILED, QUEUED, RETRYING
from app.services import agenda
from views.base import ConsoleModelView, TenantModelView
from views.console import (
    ConsoleInterface,
    code_name,
    pretty_json,
    preformatted,
    short_id,
    status_badge,
    status_field,
    utc_column,
)

EVENT_STATUSES = (QUEUED, RETRYING, DONE, FAILED)


class OutboxEventView(TenantModelView):
    datamodel = ConsoleInterface(OutboxEvent, display={
        **{column: utc_column(column)
           for column in ("created_at", "dispatched_at", "processed_at")},
        "provider_id": lambda event: agenda.provider_name(event.provider_id)})
    base_permissions = ["can_list", "can_show"]
    method_permission_name = {"replay": "replay"}
    item_name = "event"
    list_title = "Event log"
    show_title = "Event"
    list_columns = ["topic", "status", "attempts", "created_at", "dispatched_at",
                    "processed_at", "last_error"]
    show_columns = ["id", "topic", "status", "attempts", "provider_id", "created_at",
                    "dispatched_at", "processed_at", "last_error", "payload"]
    search_columns = ["topic", "status", "provider_id", "created_at"]
    search_form_extra_fields = {"status": status_field(EVENT_STATUSES)}
    order_columns = ["topic", "status", "attempts", "created_at", "processed_at"]
    base_order = ("created_at", "desc")
    formatters_columns = {"payload": pretty_json, "last_error": preformatted,
                          "status": status_badge}
    label_columns = {"id": "Event id", "provider_id": "Provider",
                     "created_at": "Created (UTC)", "dispatched_at": "Dispatched (UTC)",
                     "processed_at": "Processed (UTC)"}

    @action("replay", "Replay", "Deliver the selected events again? Consumers that "
            "already handled an event skip it.", "fa-repeat")
    def replay(self, items):
        event_ids = [item.id for item in (items if isinstance(items, list) else [items])]
        for event_id in event_ids:
            events.replay(event_id)
        for event_id in event_ids:
            topic, status = events.topic_and_status(event_id)
            category = "danger" if status == FAILED else "success"
            flash(f"Event {event_id[:8]} ({topic}) replayed: "
                  f"{status}.", category)
        self.update_redirect()
        return redirect(self.get_redirect())


class ConsumedEventView(ConsoleModelView):
    """Which consumer handled which event: a consumer handles an event once."""

    datamodel = ConsoleInterface(ConsumedEvent, display={
        "created_at": utc_column("created_at"),
        "consumer": lambda row: code_name(row.consumer)})
    base_permissions = ["can_list"]
    list_title = "Consumed events"
    list_columns = ["event_id", "consumer", "created_at"]
    search_columns = ["event_id", "consumer"]
    order_columns = ["consumer", "created_at"]
    base_order = ("created_at", "desc")
    formatters_columns = {"event_id": short_id}
    label_columns = {"event_id": "Event", "consumer": "Handled by",
                     "created_at": "Handled (UTC)"}


__all__ = ["ConsumedEventView", "OutboxEventView"]
