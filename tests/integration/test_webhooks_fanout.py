"""The webhook fan-out reads the outbox itself: a booking of a provider with endpoints
marks its events and hands the fan-out over (at most twice a window per process), never
a job per event; a lost wake-up is made good by the periodic hand-over."""
from __future__ import annotations

import logging

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from app import events, job_registry, jobqueue
from app.extensions import db
from app.models import OutboxEvent, WebhookDelivery
from app.services import staff_notifications, webhook_fanout
from tests.integration.webhook_support import (
    add_endpoint,
    deliveries_of,
    place_booking,
    publish,
    run_jobs,
    studio,
)


@pytest.fixture
def queues_on(app, cache_on):
    """RQ on Redis as configured for the run, or on the fakeredis stand-in: jobs are
    queued, not run inline, so what a commit hands over can be counted."""
    yield


@pytest.fixture
def fresh_window(monkeypatch):
    monkeypatch.setattr(webhook_fanout, "_window", webhook_fanout._WakeWindow())


def _queued(name: str) -> list[str]:
    return [job.func_name for job in jobqueue.get_queue(name).get_jobs()]


def _scheduled(name: str) -> int:
    return ScheduledJobRegistry(queue=jobqueue.get_queue(name)).count


def test_a_booking_marks_its_events_and_no_job_per_event(app, build, receiver, queues_on,
                                                         fresh_window, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_FAN_OUT_WAKE_SECONDS", 0)
    # Without staff notifications nobody handles booking.created: only webhooks want it.
    events.unsubscribe("booking.created", staff_notifications.notify_staff_of_new_booking)
    try:
        alpha = studio(build)
        endpoint_id = add_endpoint(receiver, alpha, "/alpha", topics=["booking.created"])
        offering = build.offering(alpha, pay_at_venue=True)
        from app.services import bookings

        placed = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                        slot_id=build.future_slot(offering))
    finally:
        events.subscribe("booking.created", staff_notifications.notify_staff_of_new_booking)
    created = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "booking.created"))
    assert (created.status, created.webhooks_pending) == ("done", True)
    # The request handed over the fan-out once, and no delivery job of the event itself.
    assert _queued("events").count("app.job_registry.fan_out_webhooks") == 1
    assert "app.job_registry.deliver_event" not in _queued("events")

    run_jobs(app)
    assert db.session.get(OutboxEvent, created.id, populate_existing=True).webhooks_pending \
        is False
    [delivery] = deliveries_of(endpoint_id)
    assert delivery.event_id == created.id and delivery.status == "succeeded"
    assert [item.json["data"]["reference"] for item in receiver.at("/alpha")] == [
        placed.reference]


def test_a_burst_hands_the_fan_out_over_twice_per_window(app, build, receiver, queues_on,
                                                         fresh_window, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_FAN_OUT_WAKE_SECONDS", 60)
    alpha = studio(build)
    add_endpoint(receiver, alpha, "/alpha", topics=["booking.no_show"])
    for n in range(5):
        publish("booking.no_show", {"booking_reference": f"BK{n}", "provider_id": alpha},
                provider_id=alpha)
    # The first commit of the window at once, the other four once, at the window's end.
    assert _queued("events").count("app.job_registry.fan_out_webhooks") == 1
    assert _scheduled("events") == 1
    assert db.session.scalar(select(func.count()).where(
        OutboxEvent.webhooks_pending.is_(True))) == 5


def test_without_endpoints_nothing_is_marked_or_handed_over(app, build, receiver, queues_on,
                                                            fresh_window):
    alpha = studio(build)
    beta = studio(build, staff=(), name="Beta")
    add_endpoint(receiver, beta, "/beta")  # another provider's endpoint
    publish("booking.no_show", {"booking_reference": "BK1", "provider_id": alpha},
            provider_id=alpha)
    publish("account.password_reset_requested", {"account_id": 1}, provider_id=None)
    assert db.session.scalar(select(func.count()).where(
        OutboxEvent.webhooks_pending.is_(True))) == 0
    assert "app.job_registry.fan_out_webhooks" not in _queued("events")


def test_a_lost_wake_up_is_made_good_by_the_periodic_hand_over(app, build, receiver,
                                                                monkeypatch, caplog):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/alpha")
    reference = place_booking(app, build, alpha)
    before = len(deliveries_of(endpoint_id))

    def redis_down():
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(events, "_webhooks", events._Webhooks(webhook_fanout.wants,
                                                                redis_down))
    with caplog.at_level(logging.ERROR, logger="app.events"):
        event_id = publish("booking.no_show", {"booking_reference": reference,
                                               "provider_id": alpha}, provider_id=alpha)
    assert "waking the webhook fan-out failed" in caplog.text  # the commit stands
    assert db.session.get(OutboxEvent, event_id).webhooks_pending is True
    assert len(deliveries_of(endpoint_id)) == before

    assert job_registry.hand_over_due_webhooks() >= 1
    run_jobs(app)
    assert db.session.get(OutboxEvent, event_id, populate_existing=True).webhooks_pending \
        is False
    delivery = db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.event_id == event_id))
    assert delivery.status == "succeeded"
    assert job_registry.hand_over_due_webhooks() == 0  # once
