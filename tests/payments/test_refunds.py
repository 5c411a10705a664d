"""Refunds: never more than was paid, checked locally, also under concurrency."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Booking, OutboxEvent, Slot
from app.models.payments import Payment, Refund
from app.services import bookings, payments, refunds
from app.services.scopes import Scope
from tests.payments.conftest import pay, place


def _paid(build, shop, **kwargs):
    reference = place(build, shop, **kwargs)
    intent_id = pay(reference, shop["customer"])
    payment_id = db.session.scalar(select(Payment.id).join(Booking).where(
        Booking.reference == reference))
    payments.settle_by_id(payment_id, payments.stripe_gateway().retrieve_intent(intent_id),
                          reason="paid")
    return reference, payment_id


def _fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def test_partial_refunds_add_up_and_the_last_one_refunds_the_booking(app_ctx, build, shop,
                                                                     stripe_on):
    reference, payment_id = _paid(build, shop)
    staff = shop["a"]["staff"]

    first = refunds.request_refund(payment_id, amount_minor=1000, reason="late start",
                                   actor_id=staff, scope=Scope.of_provider(shop["a"]["provider"]))
    assert first.status == "succeeded" and first.provider_reference.startswith("re_")
    assert _fresh(Payment, payment_id).refunded_minor == 1000
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert booking.status == "confirmed"

    with pytest.raises(ValidationFailed) as too_much:
        refunds.request_refund(payment_id, amount_minor=3201, reason="", actor_id=staff,
                               scope=Scope.all_providers())
    assert too_much.value.code == "refund.exceeds_paid"
    assert too_much.value.errors == {"amount_minor": ["At most 3200."]}

    rest = refunds.request_refund(payment_id, amount_minor=None, reason="cancelled by us",
                                  actor_id=staff, scope=Scope.all_providers())
    assert rest.amount_minor == 3200 and rest.status == "succeeded"
    payment = _fresh(Payment, payment_id)
    assert payment.refunded_minor == 4200 and payment.refundable_minor == 0
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert booking.status == "refunded"
    assert db.session.get(Slot, booking.slot_id).booked == 0  # places given back
    assert [h.to_status for h in booking.history][-2:] == ["cancelled", "refunded"]
    refunded = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "payment.refunded").order_by(OutboxEvent.created_at)).all()
    assert [e.payload["refund_amount_minor"] for e in refunded] == [1000, 3200]
    assert refunded[-1].payload["fully_refunded"] is True
    assert {r.actor_id for r in payment.refunds} == {staff}

    with pytest.raises(ValidationFailed):
        refunds.request_refund(payment_id, amount_minor=1, reason="", actor_id=staff,
                               scope=Scope.all_providers())


def test_a_refund_of_nothing_or_of_an_unpaid_payment_is_refused(app_ctx, build, shop,
                                                                stripe_on):
    _, payment_id = _paid(build, shop)
    with pytest.raises(ValidationFailed) as zero:
        refunds.request_refund(payment_id, amount_minor=0, reason="", actor_id=None,
                               scope=Scope.all_providers())
    assert zero.value.code == "refund.bad_amount"

    reference = place(build, shop)
    started = payments.start_payment(reference, customer_id=shop["customer"])
    with pytest.raises(Exception) as unpaid:
        refunds.request_refund(started.payment_id, amount_minor=100, reason="", actor_id=None,
                               scope=Scope.all_providers())
    assert unpaid.value.code == "refund.not_paid"
    assert db.session.query(Refund).count() == 0


def test_another_providers_payment_cannot_be_refunded(app_ctx, build, shop, stripe_on):
    _, payment_id = _paid(build, shop)
    with pytest.raises(Exception) as foreign:
        refunds.request_refund(payment_id, amount_minor=100, reason="",
                               actor_id=shop["b"]["staff"],
                               scope=Scope.of_provider(shop["b"]["provider"]))
    assert foreign.value.code == "payment.not_found"
    assert db.session.query(Refund).count() == 0


def test_concurrent_refunds_never_exceed_what_was_paid(app, app_ctx, build, shop, stripe_on,
                                                       is_postgres):
    if not is_postgres:
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises the whole file")
    _, payment_id = _paid(build, shop)
    outcomes, barrier = [], threading.Barrier(10)

    def refund_1000():
        with app.app_context():
            barrier.wait()
            try:
                outcomes.append(refunds.request_refund(
                    payment_id, amount_minor=1000, reason="race", actor_id=None,
                    scope=Scope.all_providers()).status)
            except ValidationFailed as exc:
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=refund_1000) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refund.exceeds_paid"] * 6 + ["succeeded"] * 4
    payment = _fresh(Payment, payment_id)
    assert payment.refunded_minor == 4000
    assert sum(r.amount_minor for r in payment.refunds if r.status == "succeeded") == 4000


def test_a_refund_the_gateway_cannot_take_now_is_retried_then_succeeds(
        app, app_ctx, build, shop, stripe_on, monkeypatch):
    _, payment_id = _paid(build, shop)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    app.extensions.pop("bookwell_payment_gateways", None)

    refund = refunds.request_refund(payment_id, amount_minor=500, reason="", actor_id=None,
                                    scope=Scope.all_providers())

    refund = _fresh(Refund, refund.id)
    assert refund.status == "retrying" and "unreachable" in refund.last_error
    assert refund.next_attempt_at is not None and refund.attempts == 1
    with pytest.raises(ValidationFailed):  # the pending 500 counts against the rest
        refunds.request_refund(payment_id, amount_minor=3701, reason="", actor_id=None,
                               scope=Scope.all_providers())

    monkeypatch.setitem(app.config, "STRIPE_API_BASE", stripe_on.url)
    app.extensions.pop("bookwell_payment_gateways", None)
    refund.next_attempt_at = refund.created_at  # due now
    db.session.commit()
    from app.services import sweeps

    assert sweeps.sweep_pending()["refunds"] == 1  # the refunds kind of the one sweep

    refund = _fresh(Refund, refund.id)
    assert refund.status == "succeeded" and refund.last_error is None
    assert _fresh(Payment, payment_id).refunded_minor == 500


def test_a_refused_refund_fails_and_flags_the_payment(app, app_ctx, build, shop, stripe_on,
                                                      monkeypatch):
    from app.gateways.payments import GatewayError

    _, payment_id = _paid(build, shop)

    def refuse(self, **kwargs):
        raise GatewayError("Stripe refused: charge already refunded", retryable=False)

    # localstripe never refuses a refund; a refusal is what the gateway says, not a network
    # condition a local server can be put into, so this one call is replaced.
    monkeypatch.setattr("app.gateways.payments.StripeGateway.refund", refuse)
    refund = refunds.request_refund(payment_id, amount_minor=700, reason="", actor_id=None,
                                    scope=Scope.all_providers())

    assert _fresh(Refund, refund.id).status == "failed"
    payment = _fresh(Payment, payment_id)
    assert "Refund" in payment.attention and payment.refunded_minor == 0
    assert payments.Payment  # the failed refund no longer counts:
    assert refunds.refundable(payment) == 4200


def test_free_cancellation_by_the_customer_refunds_automatically(app, app_ctx, build, shop,
                                                                 stripe_on):
    from tests.payments.conftest import run_payment_jobs

    reference, payment_id = _paid(build, shop, days=5)  # well inside the 24 h window

    bookings.cancel_own_booking(reference, customer_id=shop["customer"],
                                actor=bookings.Actor(shop["customer"], "cancelled by customer"))
    run_payment_jobs(app)

    payment = _fresh(Payment, payment_id)
    assert [(r.amount_minor, r.status) for r in payment.refunds] == [(4200, "succeeded")]
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert booking.status == "refunded"


def test_staff_cancellation_does_not_refund_by_itself(app, app_ctx, build, shop, stripe_on):
    from tests.payments.conftest import run_payment_jobs

    reference, payment_id = _paid(build, shop, days=5)
    bookings.cancel_booking(reference, scope=bookings.Scope.of_provider(shop["a"]["provider"]),
                            actor=bookings.Actor(shop["a"]["staff"], "venue closed"))
    run_payment_jobs(app)
    assert _fresh(Payment, payment_id).refunds == []


def test_a_refund_stripe_left_pending_is_re_read_by_the_sweep(app, app_ctx, build, shop,
                                                             stripe_on):
    from datetime import timedelta

    from app.models.types import utcnow
    from app.services import refund_rechecks

    _, payment_id = _paid(build, shop)
    refund = refunds.request_refund(payment_id, amount_minor=900, reason="", actor_id=None,
                                    scope=Scope.all_providers())
    # localstripe completes every refund at once; Stripe may answer "pending" and send
    # the outcome later. As if it had, and that event were lost:
    row = db.session.get(Refund, refund.id)
    row.status = "pending"
    db.session.get(Payment, payment_id).refunded_minor = 0
    db.session.commit()

    read = refund_rechecks.recheck_pending_refunds(now=utcnow() + timedelta(minutes=11))

    assert read == 1
    assert _fresh(Refund, refund.id).status == "succeeded"
    assert _fresh(Payment, payment_id).refunded_minor == 900


def test_a_gateway_refund_beyond_what_is_left_counts_only_the_rest_and_flags_it(
        app_ctx, build, shop, stripe_on):
    """The gateway says it gave back more than is left here (a refund we never asked for):
    only what is left is counted, and staff read the difference in major units."""
    from app.gateways.payments import RefundState
    from app.services.payments import lock_payment

    reference, payment_id = _paid(build, shop)
    refunds.request_refund(payment_id, amount_minor=4000, reason="", actor_id=None,
                           scope=Scope.all_providers())

    payment = lock_payment(payment_id)
    moved = refunds.apply_gateway_refund(payment, RefundState(
        reference="re_outside_1", status="succeeded", amount_minor=500))
    db.session.commit()

    assert moved == "succeeded"
    payment = _fresh(Payment, payment_id)
    assert payment.refunded_minor == 4200
    assert "gave back 5.00 EUR (re_outside_1) but only 2.00 EUR was left" in payment.attention
    outside = db.session.scalar(select(Refund).where(Refund.provider_reference == "re_outside_1"))
    assert (outside.amount_minor, outside.status) == (200, "succeeded")
