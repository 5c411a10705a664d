"""Delivering webhooks that can be trusted: retries with growing, jittered delays on a
fixed clock (no sleeping), giving up after three days, disabling an endpoint that keeps
failing (its staff emailed), redelivery, secret rotation, ordered endpoints and an
idempotent fan-out."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app import events
from app.extensions import db
from app.models import Notification, OutboxEvent, WebhookAttempt, WebhookDelivery
from app.models.types import utcnow
from app.services import webhook_delivery, webhook_endpoints, webhook_fanout
from app.services.scopes import Scope
from app.services.transactions import unit_of_work
from tests.fakes.webhook_receiver import Answer
from tests.integration.webhook_support import (
    add_endpoint,
    delivery_row,
    deliveries_of,
    endpoint_row,
    place_booking,
    publish,
    run_jobs,
    studio,
)
from tests.mail_server import recording_smtp


def _first_attempt(app, endpoint_id: int, provider_id: int | None) -> int:
    """A test event for the endpoint, its first attempt made (by the worker, or inline)."""
    scope = Scope.of_provider(provider_id) if provider_id else Scope.all_providers()
    delivery = webhook_endpoints.send_test_event(endpoint_id, scope=scope)
    run_jobs(app)
    assert delivery_row(delivery.id).attempts == 1
    return delivery.id


def _attempts(delivery_id: int) -> list[WebhookAttempt]:
    return list(db.session.scalars(select(WebhookAttempt).where(
        WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)))


@pytest.fixture
def patient(app, monkeypatch):
    """Failures never disable the endpoint in these tests."""
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER_FAILURES", 10_000)


def test_a_500_is_retried_with_growing_jittered_delays_then_given_up(app, build, receiver,
                                                                     patient):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/down")
    receiver.answers["/down"] = Answer(status=500, body=b"database down")
    delivery_id = _first_attempt(app, endpoint_id, alpha)
    row = delivery_row(delivery_id)
    assert row.status == "pending"
    first = _attempts(delivery_id)[0]
    assert first.response_status == 500 and first.response_excerpt == "database down"
    assert "500" in first.error and first.duration_ms is not None
    assert "webhook-signature" in first.request_headers  # shortened, never the secret
    assert receiver.secrets[0] not in str(first.request_headers)

    created = row.created_at
    delays = []
    clock = row.next_attempt_at
    delays.append((row.next_attempt_at - row.last_attempt_at).total_seconds())
    while True:
        outcome = webhook_delivery.deliver(delivery_id, now=clock)
        row = delivery_row(delivery_id)
        if row.status != "pending":
            break
        delays.append((row.next_attempt_at - clock).total_seconds())
        clock = row.next_attempt_at
    # base 15 s, three times longer each time, at most 12 h, each within ±20 %
    for number, delay in enumerate(delays, start=1):
        nominal = min(15 * 3 ** (number - 1), 12 * 3600)
        assert nominal * 0.8 <= delay <= nominal * 1.2, (number, delay)
    assert delays[1] > delays[0] and delays[3] > delays[2]
    assert outcome == "failed" and row.status == "failed" and row.next_attempt_at is None
    assert timedelta(hours=72) <= clock - created <= timedelta(hours=72 + 15)
    assert row.attempts == len(_attempts(delivery_id)) == len(delays) + 1
    assert 10 <= row.attempts <= 16  # about three days of attempts
    # nothing more is sent once given up
    assert webhook_delivery.deliver(delivery_id, now=clock + timedelta(days=1)) == "skipped"


def test_a_timeout_and_a_429_are_retried_honouring_retry_after(app, build, receiver, patient):
    alpha = studio(build)
    slow = add_endpoint(receiver, alpha, "/slow")
    receiver.answers["/slow"] = Answer(sleep=1.5)  # past the 0.5 s read timeout
    delivery_id = _first_attempt(app, slow, alpha)
    (attempt,) = _attempts(delivery_id)
    assert attempt.response_status is None and attempt.error.startswith("Timed out")
    assert delivery_row(delivery_id).status == "pending"
    # A slow receiver is delivered to apart from the quick ones from now on.
    assert webhook_delivery.is_slow(endpoint_row(slow))
    quick = add_endpoint(receiver, alpha, "/quick")
    if app.config.get("REDIS_URL"):
        from app import jobqueue

        scope = Scope.of_provider(alpha)
        webhook_endpoints.send_test_event(slow, scope=scope)
        webhook_endpoints.send_test_event(quick, scope=scope)
        assert jobqueue.get_queue("webhooks_slow").count == 1
        assert jobqueue.get_queue("webhooks").count == 1
        receiver.answers.pop("/slow")
        run_jobs(app)
        assert len(receiver.at("/quick")) == 1 and len(receiver.at("/slow")) == 2
    # A delivery queued in the quick lane before its receiver turned slow moves over.
    with unit_of_work():
        waiting = webhook_delivery.add_test_delivery(endpoint_row(slow))
    receiver.answers.pop("/slow", None)
    assert webhook_delivery.deliver(waiting.id, lane=webhook_delivery.QUICK) == "moved"
    run_jobs(app)
    assert delivery_row(waiting.id).status == "succeeded"

    busy = add_endpoint(receiver, alpha, "/busy")
    receiver.answers["/busy"] = Answer(status=429, headers={"Retry-After": "3600"})
    delivery_id = _first_attempt(app, busy, alpha)
    row = delivery_row(delivery_id)
    wait = (row.next_attempt_at - row.last_attempt_at).total_seconds()
    assert 3600 <= wait <= 3600 * 1.01  # the receiver's wish, not our 15 s
    # an absurd Retry-After is honoured only within reason (6 hours)
    receiver.answers["/busy"] = Answer(status=429, headers={"Retry-After": "9999999"})
    clock = row.next_attempt_at
    webhook_delivery.deliver(delivery_id, now=clock)
    row = delivery_row(delivery_id)
    assert (row.next_attempt_at - clock) == timedelta(hours=6)


def test_a_4xx_fails_at_once_and_a_410_disables_the_endpoint(app, build, receiver, patient):
    alpha = studio(build)
    refused = add_endpoint(receiver, alpha, "/bad")
    receiver.answers["/bad"] = Answer(status=400, body=b"bad signature?")
    delivery_id = _first_attempt(app, refused, alpha)
    assert delivery_row(delivery_id).status == "failed"
    assert endpoint_row(refused).active

    gone = add_endpoint(receiver, alpha, "/gone")
    receiver.answers["/gone"] = Answer(status=410)
    _first_attempt(app, gone, alpha)
    endpoint = endpoint_row(gone)
    assert not endpoint.active and "410" in endpoint.disabled_reason


def test_an_endpoint_failing_again_and_again_is_disabled_and_its_staff_emailed(
        app, build, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER_FAILURES", 3)
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER_HOURS", 0)
    alpha = studio(build, staff=("desk@alpha.example", "owner@alpha.example"))
    beta = studio(build, staff=("desk@beta.example",), name="Beta Gym")
    endpoint_id = add_endpoint(receiver, alpha, "/down", description="Door lock")
    receiver.answers["/down"] = Answer(status=503)
    with recording_smtp(app, monkeypatch) as smtp:
        waiting = _first_attempt(app, endpoint_id, alpha)  # a later one, still pending
        delivery_id = _first_attempt(app, endpoint_id, alpha)
        assert endpoint_row(endpoint_id).consecutive_failures == 2
        assert endpoint_row(endpoint_id).active
        webhook_delivery.deliver(delivery_id, now=delivery_row(delivery_id).next_attempt_at)
        endpoint = endpoint_row(endpoint_id)
        assert not endpoint.active and endpoint.disabled_at is not None
        assert "3 failed attempts in a row" in endpoint.disabled_reason
        assert "503" in endpoint.disabled_reason
        # what was still to go is cancelled, and nothing more is sent
        assert delivery_row(waiting).status == "cancelled"
        assert delivery_row(delivery_id).status == "cancelled"
        run_jobs(app)
        for address in ("desk@alpha.example", "owner@alpha.example"):
            (message,) = smtp.to(address)
            assert message["Subject"] == f"Webhook endpoint disabled: Door lock ({receiver.url('/down')})"
            text = message.get_body(("plain",)).get_content()
            assert "Alpha Spa" in text and "503" in text
        assert smtp.to("desk@beta.example") == []
        # re-enabling forgets the failures; the email went once
        webhook_endpoints.enable_endpoint(endpoint_id, scope=Scope.of_provider(alpha))
        endpoint = endpoint_row(endpoint_id)
        assert endpoint.active and endpoint.consecutive_failures == 0
        assert endpoint.disabled_reason is None
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.template_key == "staff_webhook_disabled")) == 2
    assert beta


def test_a_failing_platform_endpoint_emails_the_admins(app, build, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER_FAILURES", 1)
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER_HOURS", 0)
    build.admin(email="root@bookwell.example")
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, None, "/platform")
    receiver.answers["/platform"] = Answer(status=500)
    with recording_smtp(app, monkeypatch) as smtp:
        _first_attempt(app, endpoint_id, None)
        run_jobs(app)
        assert not endpoint_row(endpoint_id).active
        (message,) = smtp.to("root@bookwell.example")
        assert message["Subject"].startswith("Webhook endpoint disabled:")
        assert smtp.to("desk@alpha.example") == []
    assert alpha


def test_redelivery_sends_the_same_message_again(app, build, receiver):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/ok")
    delivery_id = _first_attempt(app, endpoint_id, alpha)
    assert delivery_row(delivery_id).status == "succeeded"
    redelivered = webhook_endpoints.redeliver(endpoint_id, delivery_id,
                                              scope=Scope.of_provider(alpha))
    assert redelivered.id == delivery_id
    run_jobs(app)
    first, second = receiver.at("/ok")
    assert first.body == second.body and second.verified
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    row = delivery_row(delivery_id)
    assert row.status == "succeeded" and row.attempts == 2 and len(_attempts(delivery_id)) == 2

    # a failed one too, a new attempt now
    receiver.answers["/ok"] = Answer(status=404)
    failed_id = _first_attempt(app, endpoint_id, alpha)
    assert delivery_row(failed_id).status == "failed"
    receiver.answers.pop("/ok")
    webhook_endpoints.redeliver(endpoint_id, failed_id, scope=Scope.of_provider(alpha))
    run_jobs(app)
    assert delivery_row(failed_id).status == "succeeded"


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(app, build, receiver):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/rot")
    old = receiver.secrets[0]
    rotated = webhook_endpoints.rotate_secret(endpoint_id, scope=Scope.of_provider(alpha),
                                              overlap_hours=24)
    new = rotated.secret
    assert new != old and new.startswith("whsec_")
    receiver.secrets.append(new)
    _first_attempt(app, endpoint_id, alpha)
    (during,) = receiver.at("/rot")
    assert during.verified_by == [old, new]
    assert len(during.headers["webhook-signature"].split(" ")) == 2

    # the overlap is over (a day later): only the new secret signs
    endpoint = endpoint_row(endpoint_id)
    assert webhook_delivery.signing_secrets(endpoint, utcnow() + timedelta(hours=25)) == [new]
    with unit_of_work():
        endpoint_row(endpoint_id).previous_secret_expires_at = utcnow() - timedelta(minutes=1)
    _first_attempt(app, endpoint_id, alpha)
    after = receiver.at("/rot")[1]
    assert after.verified_by == [new]
    assert len(after.headers["webhook-signature"].split(" ")) == 1


def test_an_ordered_endpoint_delivers_in_the_order_things_happened(app, build, receiver,
                                                                   patient):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/ordered", topics=["booking.confirmed"],
                               ordered=True)
    receiver.answers["/ordered"] = Answer(status=500)
    references = [place_booking(app, build, alpha, starts_at=start) for start in (
        utcnow() + timedelta(days=3), utcnow() + timedelta(days=4), utcnow() + timedelta(days=5))]
    for reference in references:
        publish("booking.confirmed", {"booking_reference": reference, "provider_id": alpha,
                                      "status": "confirmed"}, provider_id=alpha)
    run_jobs(app)
    first, second, third = deliveries_of(endpoint_id)
    # the first failed; the later ones wait for it, untried
    assert (first.attempts, second.attempts, third.attempts) == (1, 0, 0)
    assert webhook_delivery.hand_over_due(now=utcnow() + timedelta(seconds=1)) == 0
    assert webhook_delivery.deliver(second.id) == "waiting"

    receiver.answers.pop("/ordered")  # the receiver is back
    webhook_delivery.deliver(first.id, now=first.next_attempt_at)
    run_jobs(app)
    got = [item.json["data"]["reference"] for item in receiver.at("/ordered")]
    assert got == [references[0], references[0], references[1], references[2]]
    assert [d.status for d in deliveries_of(endpoint_id)] == ["succeeded"] * 3


def test_fan_out_is_idempotent(app, build, receiver):
    alpha = studio(build)
    one = add_endpoint(receiver, alpha, "/one", topics=["booking.confirmed"])
    two = add_endpoint(receiver, None, "/platform", topics=["*"])
    reference = place_booking(app, build, alpha)
    payload = {"booking_reference": reference, "provider_id": alpha, "status": "confirmed"}
    event_id = publish("booking.confirmed", payload, provider_id=alpha)
    run_jobs(app)
    events.deliver(event_id)  # delivered again: its handlers skip it
    with unit_of_work():  # marked again (as after a crash before the mark was cleared)
        db.session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id)
                           .values(webhooks_pending=True))
    assert webhook_fanout.fan_out_marked() == 0  # the fan-out run again adds nothing
    assert db.session.get(OutboxEvent, event_id, populate_existing=True).webhooks_pending is False
    run_jobs(app)
    for endpoint_id in (one, two):
        assert db.session.scalar(select(func.count(WebhookDelivery.id)).where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.event_id == event_id)) == 1
    assert len(receiver.at("/one")) == 1


def test_events_of_a_provider_reach_its_endpoints_and_the_platforms_only(app, build,
                                                                         receiver):
    alpha, beta = studio(build), studio(build, staff=("b@beta.example",), name="Beta")
    add_endpoint(receiver, alpha, "/alpha")
    add_endpoint(receiver, beta, "/beta")
    add_endpoint(receiver, None, "/platform")
    reference_a = place_booking(app, build, alpha)
    reference_b = place_booking(app, build, beta)
    run_jobs(app)
    refs = lambda path: {item.json["data"]["reference"] for item in receiver.at(path)}  # noqa: E731
    assert refs("/alpha") == {reference_a}
    assert refs("/beta") == {reference_b}
    assert refs("/platform") == {reference_a, reference_b}


def test_without_endpoints_an_event_costs_no_job(app, build, receiver):
    alpha = studio(build)
    beta = studio(build, staff=(), name="Beta")
    add_endpoint(receiver, beta, "/beta")  # another provider's endpoint changes nothing
    webhook_fanout.forget_endpoints()
    with unit_of_work():
        event_id = events.publish("booking.no_show", {
            "booking_reference": "BKNONE", "provider_id": alpha}, provider_id=alpha)
    event = db.session.get(OutboxEvent, event_id)
    assert event.status == "done" and event.webhooks_pending is False  # stored, no job


def test_events_a_stale_note_skipped_reach_a_new_endpoint_once(app, build, receiver,
                                                               monkeypatch):
    """Another process, whose note still says the provider has no endpoints, stores an
    event as done; the catch-up fans it out to the endpoint that had just started."""
    monkeypatch.setitem(app.config, "WEBHOOK_ENDPOINT_CACHE_SECONDS", 10)
    alpha = studio(build)
    reference = place_booking(app, build, alpha)
    webhook_fanout.forget_endpoints()
    stale = webhook_fanout._current_note()  # read now: no endpoints anywhere
    endpoint_id = add_endpoint(receiver, alpha, "/new", topics=["booking.no_show"])
    webhook_fanout._note = stale  # as in a process that did not make the endpoint
    event_id = publish("booking.no_show", {"booking_reference": reference,
                                           "provider_id": alpha}, provider_id=alpha)
    run_jobs(app)
    event = db.session.get(OutboxEvent, event_id)
    assert event.status == "done" and event.webhooks_pending is False  # not marked: skipped
    assert deliveries_of(endpoint_id) == []

    assert webhook_fanout.catch_up() == 1
    run_jobs(app)
    assert webhook_fanout.catch_up() == 0  # once
    [delivery] = deliveries_of(endpoint_id)
    assert delivery.event_id == event_id and delivery.status == "succeeded"
    assert [item.json["data"]["reference"] for item in receiver.at("/new")] == [reference]
    # Long after the endpoint started, its first moments are no longer looked at.
    assert webhook_fanout.catch_up(now=utcnow() + timedelta(minutes=5)) == 0


def test_the_periodic_hand_over_takes_due_retries_and_lost_jobs_only(app, build, receiver,
                                                                     patient):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/due")
    receiver.answers["/due"] = Answer(status=502)
    retried = _first_attempt(app, endpoint_id, alpha)
    with unit_of_work():  # a new delivery whose job is (say) still waiting in the queue
        fresh = webhook_delivery.add_test_delivery(endpoint_row(endpoint_id)).id
    now = utcnow()
    assert webhook_delivery.hand_over_due(now=now) == 0  # the retry is not due yet
    due_at = delivery_row(retried).next_attempt_at
    assert webhook_delivery.hand_over_due(now=due_at) == 1  # the retry; not the new one
    # Never tried two minutes on: its job was lost; handed over again.
    assert webhook_delivery.hand_over_due(now=now + timedelta(minutes=3)) == 2
    assert delivery_row(fresh).status == "pending"


def test_the_log_keeps_finished_deliveries_for_the_configured_days(app, build, receiver,
                                                                   patient):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/log")
    done = _first_attempt(app, endpoint_id, alpha)
    receiver.answers["/log"] = Answer(status=500)
    still_trying = _first_attempt(app, endpoint_id, alpha)
    assert delivery_row(done).status == "succeeded"
    assert webhook_delivery.purge_log(now=utcnow() + timedelta(days=29)) == 0
    assert webhook_delivery.purge_log(now=utcnow() + timedelta(days=31), batch=1) == 1
    assert delivery_row(done) is None and _attempts(done) == []
    assert delivery_row(still_trying).status == "pending"  # pending ones stay
