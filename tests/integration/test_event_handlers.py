"""The handler table is the one place that says who reacts to which event."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

from app import events
from app.services import (
    booking_states,
    event_handlers,
    search_indexing,
    staff_notifications,
    webhook_fanout,
)

APP = Path(__file__).resolve().parents[2] / "app"

# Publishing sites whose topic is not a literal (by the expression they pass), and the
# topics they can publish.
DYNAMIC = {
    # the booking transition: "booking.<target>" for every state a transition leads to
    "f'booking.{target}'": {
        f"booking.{target}" for targets in booking_states.TRANSITIONS.values()
        for target in targets},
    # bookings' placing statement writes its rows itself (events.outbox_row)
    "topic": {"booking.created", "booking.confirmed"},
    "TOPIC": {search_indexing.TOPIC},
}


def _published_topics() -> set[str]:
    """Every topic the code under app/ publishes (``publish`` or ``outbox_row``)."""
    topics = set()
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("publish", "outbox_row") and node.args
                    and path.name != "events.py"):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                topics.add(first.value)
                continue
            site = ast.unparse(first)
            assert site in DYNAMIC, f"{path}:{node.lineno} publishes {site}: list it"
            topics |= DYNAMIC[site]
    return topics


def test_every_published_topic_is_in_the_table():
    published = _published_topics()
    assert {"payment.succeeded", "receipt.generated", "offering.changed"} <= published
    missing = published - set(event_handlers.HANDLERS)
    assert not missing, f"topics published but not in event_handlers.HANDLERS: {missing}"
    stale = set(event_handlers.HANDLERS) - published
    assert not stale, f"topics in the table that nothing publishes: {stale}"


def test_the_table_is_what_start_up_installs(app):
    installed = {topic: names for topic, names in events.CONSUMERS.items() if names}
    assert installed == {
        topic: [events.handler_name(handler) for handler in handlers]
        for topic, handlers in event_handlers.table(app.config).items() if handlers}


def test_no_module_declares_its_own_subscriptions():
    for path in (APP / "services").glob("*.py"):
        text = path.read_text()
        assert "SUBSCRIPTIONS" not in text and "def subscriptions(" not in text, path
    assert not (APP / "consumers.py").exists()


def test_every_handler_takes_the_event_by_keyword():
    handlers = {handler for table in (event_handlers.HANDLERS,
                                      event_handlers.conditional(
                                          {"TIKTOK_SEND_PLACE_AN_ORDER": True,
                                           "OPENSEARCH_URL": "http://search"}))
                for listed in table.values() for handler in listed}
    assert len(handlers) >= 10
    for handler in handlers:
        parameters = inspect.signature(handler).parameters
        assert [name for name, p in parameters.items()
                if p.kind is p.KEYWORD_ONLY] == ["event_id", "topic", "payload"], handler


def test_conditional_handlers_listen_only_with_their_setting():
    plain = event_handlers.table({})
    assert plain["offering.changed"] == ()
    # The webhook fan-out is no handler: it reads the outbox itself.
    assert plain["booking.created"] == (staff_notifications.notify_staff_of_new_booking,)
    assert not any(webhook_fanout.fan_out_marked in listed for listed in plain.values())
    switched_on = event_handlers.table({"OPENSEARCH_URL": "http://search"})
    assert switched_on["offering.changed"] == (search_indexing.index_changed_offerings,)
