"""The transactional outbox: nothing lost on a crash, nothing handled twice."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import events
from app.extensions import db
from app.models import ConsumedEvent, OutboxEvent, Provider
from app.models.events import DONE, FAILED, QUEUED
from app.models.types import utcnow
from tests import consumers

RECORD = consumers.record
FLAKY = consumers.flaky
TOPIC = "test.happened"


@pytest.fixture
def subscribed(app):
    consumers.CALLS.clear()
    consumers.FAIL_TIMES["count"] = 0
    events.subscribe(TOPIC, RECORD)
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None  # inline delivery unless a test says otherwise
    yield
    app.config["REDIS_URL"] = saved
    events.unsubscribe(TOPIC, RECORD)
    events.unsubscribe(TOPIC, FLAKY)


def _event(event_id: str) -> OutboxEvent:
    db.session.expire_all()
    return db.session.get(OutboxEvent, event_id)


def test_an_event_is_written_with_the_change_and_delivered_after_commit(app_ctx, subscribed,
                                                                       build):
    provider_id = build.provider()
    db.session.get(Provider, provider_id).name = "Renamed"
    event_id = events.publish(TOPIC, {"n": 1}, provider_id=provider_id)
    assert consumers.CALLS == []  # not before the commit

    events.commit()

    assert consumers.CALLS == [(event_id, TOPIC, {"n": 1})]
    assert _event(event_id).status == DONE


def test_a_rolled_back_change_publishes_nothing(app_ctx, subscribed):
    event_id = events.publish(TOPIC, {"n": 2})
    events.rollback()
    assert _event(event_id) is None and consumers.CALLS == []


def test_a_crash_between_commit_and_dispatch_loses_nothing(app_ctx, subscribed):
    event_id = events.publish(TOPIC, {"n": 3})
    db.session.commit()  # committed, but the process "dies" before dispatching
    db.session.info.pop("outbox_pending", None)
    assert consumers.CALLS == [] and _event(event_id).status == QUEUED

    assert events.sweep(now=utcnow()) == 0  # younger than a minute: maybe still on its way
    assert events.sweep(now=utcnow() + timedelta(minutes=2)) == 1

    assert [call[0] for call in consumers.CALLS] == [event_id]
    assert _event(event_id).status == DONE
    assert events.sweep(now=utcnow() + timedelta(hours=1)) == 0  # done: left alone


def test_a_duplicate_delivery_is_handled_once(app_ctx, subscribed):
    event_id = events.publish(TOPIC, {"n": 4})
    events.commit()

    events.deliver(event_id)
    events.deliver(event_id)

    assert [call[0] for call in consumers.CALLS] == [event_id]
    consumed = db.session.scalars(select(ConsumedEvent).where(
        ConsumedEvent.event_id == event_id)).all()
    assert [c.consumer for c in consumed] == ["tests.consumers.record"]  # stored by name


def test_a_failing_consumer_is_recorded_retried_and_replayable(app_ctx, subscribed):
    events.subscribe(TOPIC, FLAKY)
    consumers.FAIL_TIMES["count"] = 1
    event_id = events.publish(TOPIC, {"n": 5})
    events.commit()  # inline: the flaky consumer fails, the other one succeeds

    failed = _event(event_id)
    assert failed.status == FAILED and "downstream unavailable" in failed.last_error
    assert [call[1] for call in consumers.CALLS] == [TOPIC]

    events.replay(event_id)

    assert _event(event_id).status == DONE and _event(event_id).attempts == 2
    assert sorted(call[1] for call in consumers.CALLS) == [f"flaky:{TOPIC}", TOPIC]


def test_with_redis_events_go_to_the_events_queue(app, app_ctx, subscribed):
    from app import jobqueue
    from rq import SimpleWorker

    from app.redis import redis_client

    # The app's Redis client is the run's (real Redis, or fakeredis); the URL only says
    # "Redis is configured".
    app.config["REDIS_URL"] = "redis://configured-for-this-test"
    event_id = events.publish(TOPIC, {"n": 6})
    events.commit()
    assert _event(event_id).status == QUEUED and consumers.CALLS == []  # on the queue

    SimpleWorker([jobqueue.get_queue("events")], connection=redis_client()).work(burst=True)

    assert [call[0] for call in consumers.CALLS] == [event_id]
    assert _event(event_id).status == DONE


def test_an_event_nobody_listens_to_is_stored_done_and_never_dispatched(app, app_ctx):
    from app import jobqueue

    enqueued = []
    original = jobqueue.enqueue
    jobqueue.enqueue = lambda *args, **kwargs: enqueued.append(args)
    try:
        event_id = events.publish("nobody.listens", {"n": 9})
        events.commit()
    finally:
        jobqueue.enqueue = original
    event = _event(event_id)
    assert (event.status, event.attempts) == (DONE, 0) and event.processed_at is not None
    assert enqueued == []
    assert event.payload == {"n": 9}  # kept: replayable once something listens


def test_a_booking_without_listeners_for_booking_created_is_not_dispatched(app, app_ctx,
                                                                           build):
    from app.models import OutboxEvent
    from app.services import bookings, staff_notifications

    # Staff notifications listen to booking.created; without them nobody does (the
    # webhook fan-out reads the outbox itself, and marks nothing without endpoints).
    staff_handler = staff_notifications.notify_staff_of_new_booking
    events.unsubscribe("booking.created", staff_handler)
    try:
        assert events.CONSUMERS.get("booking.created") == []
        offering = build.offering(build.provider())
        placed = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                        slot_id=build.future_slot(offering))
    finally:
        events.subscribe("booking.created", staff_handler)
    created = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "booking.created"))
    assert created.payload["booking_reference"] == placed.reference
    assert created.status == DONE and db.session.info.get("outbox_pending") in (None, [])
    assert created.webhooks_pending is False


def test_booking_created_is_dispatched_only_when_a_handler_would_act(app, app_ctx, build):
    """Staff hear of ``booking.created`` only for a pay-at-venue booking waiting for them:
    the event of a booking paid online is stored done, with no job; a handler without a
    condition (TikTok's Place an Order, when on) takes every one."""
    from app.services import bookings, conversions

    provider = build.provider()

    def created_event(**fields):
        offering = build.offering(provider, **fields)
        placed = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                        slot_id=build.future_slot(offering))
        return db.session.scalar(select(OutboxEvent).where(
            OutboxEvent.topic == "booking.created",
            OutboxEvent.payload["booking_reference"].as_string() == placed.reference))

    paid_online = created_event()
    at_the_venue = created_event(pay_at_venue=True)
    free_at_the_venue = created_event(pay_at_venue=True, price_minor=0)
    assert (paid_online.status, paid_online.processed_at is not None) == (DONE, True)
    assert paid_online.payload["pay_at_venue"] is False
    assert at_the_venue.status != DONE or at_the_venue.attempts > 0
    assert free_at_the_venue.status == DONE and free_at_the_venue.attempts == 0

    events.subscribe("booking.created", conversions.record_place_an_order)
    try:
        with_tiktok = created_event()
    finally:
        events.unsubscribe("booking.created", conversions.record_place_an_order)
    assert with_tiktok.status != DONE or with_tiktok.attempts > 0


def test_a_failed_handler_leaves_no_claim_so_the_next_delivery_runs_it(app_ctx, subscribed):
    """The claim and the handler's work are one unit of work: when the handler fails,
    the claim rolls back with its work, and a retried delivery runs the handler."""
    events.unsubscribe(TOPIC, RECORD)
    events.subscribe(TOPIC, FLAKY)
    consumers.FAIL_TIMES["count"] = 1
    event_id = events.publish(TOPIC, {"n": 7})
    events.commit()  # inline: the handler fails
    assert db.session.scalars(select(ConsumedEvent).where(
        ConsumedEvent.event_id == event_id)).all() == []

    events.deliver(event_id)

    assert [call[1] for call in consumers.CALLS] == [f"flaky:{TOPIC}"]
    assert [c.consumer for c in db.session.scalars(select(ConsumedEvent).where(
        ConsumedEvent.event_id == event_id))] == ["tests.consumers.flaky"]
