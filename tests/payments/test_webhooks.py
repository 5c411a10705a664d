"""POST /api/v1/webhooks/stripe: verified, stored once, processed from Stripe's truth."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Booking
from app.models.payments import Payment, PaymentEvent
from app.services import payment_webhooks
from tests.fakes.stripe import stripe_client
from tests.helpers import assert_error_shape
from tests.payments.conftest import (
    WEBHOOK_SECRET,
    pay,
    place,
    post_webhook,
    run_payment_jobs,
    signed_event,
)


def _state(reference):
    db.session.expire_all()
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking.id))
    return booking, payment


def _intent_object(intent_id):
    return stripe_client().v1.payment_intents.retrieve(intent_id).to_dict()


@pytest.mark.parametrize("tamper", ["body", "secret", "stale", "missing", "garbage"])
def test_a_bad_signature_is_refused_and_nothing_is_stored(app_ctx, client, stripe_on, tamper):
    body, header = signed_event("payment_intent.succeeded", {"id": "pi_x", "object":
                                                            "payment_intent"})
    if tamper == "body":
        body = body.replace("pi_x", "pi_y")
    elif tamper == "secret":
        body, header = signed_event("payment_intent.succeeded", {"id": "pi_x"},
                                    secret="whsec_someone_else")
    elif tamper == "stale":
        body, header = signed_event("payment_intent.succeeded", {"id": "pi_x"},
                                    timestamp=int(time.time()) - 301)
    elif tamper == "missing":
        header = None
    else:
        header = "t=1,v1=00"

    response = post_webhook(client, body, header)

    error = assert_error_shape(response, 400)
    assert error["code"] in ("webhook.signature_invalid", "webhook.signature_missing")
    assert db.session.query(PaymentEvent).count() == 0


def test_a_signature_timestamped_a_day_ahead_is_refused_and_nothing_is_stored(
        app_ctx, client, stripe_on):
    body, header = signed_event("payment_intent.succeeded", {"id": "pi_x"},
                                timestamp=int(time.time()) + 24 * 3600)

    response = post_webhook(client, body, header)

    assert_error_shape(response, 400, "webhook.signature_invalid")
    assert db.session.query(PaymentEvent).count() == 0


def test_a_signature_slightly_ahead_within_the_tolerance_is_accepted(
        app, app_ctx, client, stripe_on):
    # Stripe's clock and ours differ a little; the tolerance covers that both ways.
    body, header = signed_event("customer.created", {"id": "cus_x"},
                                timestamp=int(time.time()) + 60)

    response = post_webhook(client, body, header)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert db.session.query(PaymentEvent).count() == 1


def test_a_signed_event_that_is_not_json_is_refused(app_ctx, client, stripe_on):
    import stripe

    body = "not json"
    header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    assert_error_shape(post_webhook(client, body, header), 400, "webhook.malformed")
    assert db.session.query(PaymentEvent).count() == 0


def test_succeeded_event_confirms_the_booking_and_a_repeat_changes_nothing(
        app, app_ctx, client, build, shop, stripe_on):
    reference = place(build, shop)
    intent_id = pay(reference, shop["customer"])
    body, header = signed_event("payment_intent.succeeded", _intent_object(intent_id),
                                event_id="evt_once")

    first = post_webhook(client, body, header)
    run_payment_jobs(app)
    repeat = post_webhook(client, body, header)
    run_payment_jobs(app)

    assert first.status_code == 200 and first.get_json()["duplicate"] is False
    assert repeat.status_code == 200 and repeat.get_json()["duplicate"] is True
    booking, payment = _state(reference)
    assert booking.status == "confirmed" and payment.status == "succeeded"
    event = db.session.scalar(select(PaymentEvent))
    assert db.session.query(PaymentEvent).count() == 1
    assert (event.status, event.attempts, event.provider_id) == ("processed", 1,
                                                                 shop["a"]["provider"])
    assert "booking confirmed" in event.outcome
    from app.models import OutboxEvent

    assert db.session.query(OutboxEvent).filter_by(topic="payment.succeeded").count() == 1


def test_events_out_of_order_end_in_stripes_current_state(app, app_ctx, client, build, shop,
                                                          stripe_on):
    reference = place(build, shop)
    started_intent = pay(reference, shop["customer"])
    paid = _intent_object(started_intent)
    stale_failure = dict(paid, status="requires_payment_method",
                         last_payment_error={"message": "declined earlier"})

    post_webhook(client, *signed_event("payment_intent.succeeded", paid))
    post_webhook(client, *signed_event("payment_intent.payment_failed", stale_failure))
    run_payment_jobs(app)

    booking, payment = _state(reference)
    assert payment.status == "succeeded" and booking.status == "confirmed"
    assert db.session.query(PaymentEvent).filter_by(status="processed").count() == 2


def test_a_success_event_for_an_intent_stripe_says_is_unpaid_confirms_nothing(
        app, app_ctx, client, build, shop, stripe_on):
    from app.services import payments

    reference = place(build, shop)
    payments.start_payment(reference, customer_id=shop["customer"])
    _, payment = _state(reference)
    forged = dict(_intent_object(payment.provider_reference), status="succeeded")

    post_webhook(client, *signed_event("payment_intent.succeeded", forged))
    run_payment_jobs(app)

    booking, payment = _state(reference)
    assert booking.status == "pending" and payment.status == "requires_payment"


def test_an_event_for_a_payment_that_is_not_ours_is_stored_and_ignored(app, app_ctx, client,
                                                                        stripe_on):
    response = post_webhook(client, *signed_event("payment_intent.succeeded",
                                                  {"id": "pi_elsewhere", "metadata": {}}))
    run_payment_jobs(app)
    assert response.status_code == 200
    event = db.session.scalar(select(PaymentEvent))
    db.session.refresh(event)
    assert event.status == "ignored" and event.provider_id is None


def test_a_charge_refunded_at_stripe_is_recorded_as_a_refund(app, app_ctx, client, build,
                                                             shop, stripe_on):
    from app.services import payments

    reference = place(build, shop)
    intent_id = pay(reference, shop["customer"])
    payments.settle_by_id(_state(reference)[1].id,
                          payments.stripe_gateway().retrieve_intent(intent_id), reason="t")
    client_ = stripe_client()
    charge_id = client_.v1.payment_intents.retrieve(intent_id).to_dict()["latest_charge"]
    charge_id = charge_id if isinstance(charge_id, str) else charge_id["id"]
    client_.v1.refunds.create(params={"charge": charge_id, "amount": 1200})
    charge = client_.v1.charges.retrieve(charge_id).to_dict()

    post_webhook(client, *signed_event("charge.refunded", charge))
    post_webhook(client, *signed_event("charge.refunded", charge))  # another delivery
    run_payment_jobs(app)

    booking, payment = _state(reference)
    assert payment.refunded_minor == 1200
    assert [(r.amount_minor, r.status, r.reason) for r in payment.refunds] == [
        (1200, "succeeded", "refunded at the payment provider")]
    assert booking.status == "confirmed"  # partly refunded only


def test_a_dispute_flags_the_payment_for_staff(app, app_ctx, client, build, shop, stripe_on):
    from app.services import payments

    reference = place(build, shop)
    intent_id = pay(reference, shop["customer"])
    payments.settle_by_id(_state(reference)[1].id,
                          payments.stripe_gateway().retrieve_intent(intent_id), reason="t")

    post_webhook(client, *signed_event("charge.dispute.created", {
        "id": "dp_1", "object": "dispute", "payment_intent": intent_id, "amount": 4200,
        "reason": "fraudulent"}))
    run_payment_jobs(app)

    _, payment = _state(reference)
    assert "dp_1" in payment.attention and "fraudulent" in payment.attention


def test_an_event_stored_but_never_processed_is_picked_up_by_the_sweep(
        app, app_ctx, build, shop, stripe_on, monkeypatch):
    from datetime import timedelta

    from app.models.types import utcnow
    from app.services import sweeps

    reference = place(build, shop)
    intent_id = pay(reference, shop["customer"])
    monkeypatch.setattr(payment_webhooks, "_hand_over", lambda row_id: None)  # a crash
    body, header = signed_event("payment_intent.succeeded", _intent_object(intent_id))
    with app.test_request_context():
        payment_webhooks.receive(body.encode(), header)
    db.session.query(PaymentEvent).update(
        {"received_at": utcnow() - timedelta(minutes=2)})
    db.session.commit()
    assert _state(reference)[0].status == "pending"

    counts = sweeps.sweep_pending()

    assert counts["payment_inbox"] == 1
    assert _state(reference)[0].status == "confirmed"


def test_localstripe_delivers_a_signed_webhook_that_confirms_the_booking(
        app, app_ctx, build, shop, stripe_on):
    """The whole path: Stripe (the local server) posts a signed event over HTTP to the
    running app, which stores it and confirms the booking."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"bw-test-{time.time_ns()}"
    try:
        stripe_on.register_webhook(endpoint, f"http://127.0.0.1:{server.server_port}"
                                   "/api/v1/webhooks/stripe", WEBHOOK_SECRET)
        reference = place(build, shop)
        pay(reference, shop["customer"])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            run_payment_jobs(app)
            if _state(reference)[0].status == "confirmed":
                break
            time.sleep(0.2)
    finally:
        stripe_on.register_webhook(endpoint, "http://127.0.0.1:9/", WEBHOOK_SECRET,
                                   events=["nothing.matches"])
        server.shutdown()
    booking, payment = _state(reference)
    assert booking.status == "confirmed" and payment.status == "succeeded"
    received = db.session.scalars(select(PaymentEvent.type)).all()
    assert "payment_intent.succeeded" in received


def test_replay_reopens_only_failed_events(app, app_ctx, client, stripe_on):
    post_webhook(client, *signed_event("customer.created", {"id": "cus_1"}))
    run_payment_jobs(app)
    event = db.session.scalar(select(PaymentEvent))
    db.session.refresh(event)
    assert event.status == "ignored"
    assert payment_webhooks.replay(event.id) is False  # not failed: left alone

    event.status = "failed"
    db.session.commit()
    assert payment_webhooks.replay(event.id) is True
    run_payment_jobs(app)
    db.session.refresh(event)
    assert event.status == "ignored"
