"""One sweep over every kind of pending work; each kind's own behaviour is tested with
its area (messages, conversions, payment inbox, refunds and their states, receipts,
search indexing)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app import events
from app.extensions import db
from app.models import OutboxEvent
from app.models.events import DONE, QUEUED
from app.models.types import utcnow
from app.services import (
    conversions,
    notifications,
    payment_webhooks,
    receipts,
    refund_rechecks,
    refunds,
    search_indexing,
    sweeps,
    webhook_delivery,
    webhook_fanout,
)
from tests import consumers

TOPIC = "test.swept"


def test_the_sweep_covers_every_kind_of_pending_work():
    by_name = {kind.name: kind.sweep for kind in sweeps.KINDS}
    assert by_name == {
        "outbox": events.sweep,
        "messages": notifications.sweep,
        "conversions": conversions.sweep,
        "payment_inbox": payment_webhooks.process_leftovers,
        "refunds": refunds.retry_due_refunds,
        "refund_states": refund_rechecks.recheck_pending_refunds,
        "receipts": receipts.sweep,
        "search_indexing": search_indexing.sweep,
        "webhooks": webhook_delivery.hand_over_due,
        "webhook_fan_out": webhook_fanout.fan_out_marked,
        "webhook_catch_up": webhook_fanout.catch_up,
    }


def test_kinds_that_need_a_service_are_skipped_without_it(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)
    monkeypatch.setitem(app.config, "OPENSEARCH_URL", None)
    assert set(sweeps.sweep_pending()) == {"outbox", "messages", "conversions", "receipts",
                                           "webhooks", "webhook_fan_out",
                                           "webhook_catch_up"}


@pytest.fixture
def recorded(app):
    consumers.CALLS.clear()
    events.subscribe(TOPIC, consumers.record)
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    yield
    app.config["REDIS_URL"] = saved
    events.unsubscribe(TOPIC, consumers.record)


def test_an_event_a_crash_left_undispatched_is_delivered_by_the_sweep(app_ctx, recorded,
                                                                     monkeypatch):
    with monkeypatch.context() as crash:
        crash.setattr(events, "dispatch", lambda ids: None)  # died right after the commit
        event_id = events.publish(TOPIC, {"n": 1})
        events.commit()
    db.session.execute(OutboxEvent.__table__.update().values(
        created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert db.session.get(OutboxEvent, event_id).status == QUEUED

    assert sweeps.sweep_pending()["outbox"] == 1

    db.session.expire_all()
    assert db.session.get(OutboxEvent, event_id).status == DONE
    assert [call[0] for call in consumers.CALLS] == [event_id]
    assert sweeps.sweep_pending()["outbox"] == 0  # finished: nothing left


def test_one_failing_kind_does_not_hold_up_the_others(app_ctx):
    swept = []

    def broken():
        raise RuntimeError("down")

    kinds = (sweeps.Kind("first", broken),
             sweeps.Kind("second", lambda: swept.append("second") or 1),
             sweeps.Kind("skipped", lambda: swept.append("skipped"), lambda: False))
    with pytest.raises(sweeps.SweepFailed, match="first: RuntimeError: down"):
        sweeps.sweep_pending(kinds)
    assert swept == ["second"]
