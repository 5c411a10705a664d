"""Starting a payment and settling it from the gateway's answer (localstripe)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import Conflict
from app.extensions import db
from app.models import Booking, OutboxEvent, Slot
from app.models.payments import Payment
from app.services import payment_reconciliation, payments
from app.services.scopes import Scope
from tests.fakes.stripe import DECLINED, stripe_client
from tests.payments.conftest import pay, place


def _booking(reference):
    db.session.expire_all()
    return db.session.scalar(select(Booking).where(Booking.reference == reference))


def _payment(reference):
    db.session.expire_all()
    return db.session.scalar(select(Payment).join(Booking).where(Booking.reference == reference))


def _topics():
    return [e.topic for e in db.session.scalars(select(OutboxEvent).order_by(
        OutboxEvent.created_at))]


def test_one_intent_per_booking_with_its_amount_and_metadata(app_ctx, build, shop, stripe_on):
    reference = place(build, shop, quantity=2)
    first = payments.start_payment(reference, customer_id=shop["customer"])
    again = payments.start_payment(reference, customer_id=shop["customer"])

    assert again.payment_id == first.payment_id
    assert first.client_secret and first.client_secret == again.client_secret
    assert first.publishable_key == "pk_test_local"
    payment = _payment(reference)
    intent = stripe_client().v1.payment_intents.retrieve(payment.provider_reference)
    assert (intent.amount, intent.currency) == (8400, "eur")
    assert intent.metadata["booking_reference"] == reference
    assert intent.metadata["provider_id"] == str(shop["a"]["provider"])
    assert intent.metadata["payment_id"] == str(payment.id)
    assert (payment.amount_minor, payment.currency, payment.status) == (8400, "EUR",
                                                                        "requires_payment")
    assert db.session.query(Payment).count() == 1


def test_an_unreachable_gateway_keeps_the_stored_payment_and_charges_nothing(
        app, app_ctx, build, shop, stripe_on, monkeypatch):
    reference = place(build, shop)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing there
    app.extensions.pop("bookwell_payment_gateways", None)
    with pytest.raises(payments.GatewayUnavailable):
        payments.start_payment(reference, customer_id=shop["customer"])
    stored = _payment(reference)
    assert stored.status == "created" and stored.provider_reference is None
    assert "unreachable" in stored.failure_reason

    monkeypatch.setitem(app.config, "STRIPE_API_BASE", stripe_on.url)
    app.extensions.pop("bookwell_payment_gateways", None)
    started = payments.start_payment(reference, customer_id=shop["customer"])
    assert started.payment_id == stored.id  # the same row, now with its intent
    assert _payment(reference).provider_reference.startswith("pi_")


def test_only_the_customers_own_pending_online_booking_can_be_paid(app_ctx, build, shop,
                                                                   stripe_on):
    reference = place(build, shop)
    stranger = build.customer()
    with pytest.raises(Exception) as missing:
        payments.start_payment(reference, customer_id=stranger)
    assert getattr(missing.value, "code", "") == "booking.not_found"

    venue = build.offering(shop["a"]["provider"], price_minor=1000, pay_at_venue=True)
    slot = build.future_slot(venue)
    from app.services import bookings

    at_venue = bookings.place_booking(customer_id=shop["customer"], offering_id=venue,
                                      slot_id=slot).reference
    with pytest.raises(Conflict) as venue_only:
        payments.start_payment(at_venue, customer_id=shop["customer"])
    assert venue_only.value.code == "payment.pay_at_venue"
    assert db.session.query(Payment).count() == 0


def test_success_read_back_from_stripe_confirms_once_and_publishes(app_ctx, build, shop,
                                                                   stripe_on):
    reference = place(build, shop)
    intent_id = pay(reference, shop["customer"])
    state = payments.stripe_gateway().retrieve_intent(intent_id)

    payments.settle_by_id(_payment(reference).id, state, reason="test")
    payments.settle_by_id(_payment(reference).id, state, reason="test again")

    payment = _payment(reference)
    assert payment.status == "succeeded" and payment.received_minor == 4200
    assert _booking(reference).status == "confirmed"
    assert _topics().count("payment.succeeded") == 1
    assert _topics().count("booking.confirmed") == 1
    with pytest.raises(Conflict) as paid:
        payments.start_payment(reference, customer_id=shop["customer"])
    assert paid.value.code == "payment.already_paid"


def test_a_declined_card_keeps_the_hold_and_tells_the_customer_once(app_ctx, build, shop,
                                                                    stripe_on):
    reference = place(build, shop, quantity=3)
    intent_id = pay(reference, shop["customer"], card=DECLINED)
    state = payments.stripe_gateway().retrieve_intent(intent_id)
    assert state.status == "requires_payment" and state.failure_reason

    payments.settle_by_id(_payment(reference).id, state, reason="test")
    payments.settle_by_id(_payment(reference).id, state, reason="the same decline again")

    booking = _booking(reference)
    payment = _payment(reference)
    assert (payment.status, payment.failure_reason) == ("requires_payment",
                                                        state.failure_reason)
    assert booking.status == "pending" and booking.hold_expires_at is not None
    assert db.session.get(Slot, booking.slot_id).booked == 3
    assert _topics().count("payment.declined") == 1
    assert "payment.failed" not in _topics()


def test_after_a_decline_another_card_pays_the_same_payment(app_ctx, build, shop, stripe_on):
    reference = place(build, shop)
    declined = pay(reference, shop["customer"], card=DECLINED)
    payments.settle_by_id(_payment(reference).id,
                          payments.stripe_gateway().retrieve_intent(declined), reason="test")

    retried = pay(reference, shop["customer"])  # a new attempt, as Stripe.js would make
    payments.settle_by_id(_payment(reference).id,
                          payments.stripe_gateway().retrieve_intent(retried), reason="test")

    assert retried == declined  # one intent: never a second charge
    payment = _payment(reference)
    assert (payment.status, payment.failure_reason) == ("succeeded", None)
    assert _booking(reference).status == "confirmed"
    assert db.session.query(Payment).count() == 1


def test_a_declined_booking_whose_hold_runs_out_expires(app_ctx, build, shop, stripe_on):
    reference = place(build, shop, quantity=2)
    intent_id = pay(reference, shop["customer"], card=DECLINED)
    payments.settle_by_id(_payment(reference).id,
                          payments.stripe_gateway().retrieve_intent(intent_id), reason="test")
    held_until = _booking(reference).hold_expires_at

    from app.services import bookings
    bookings.expire_holds(scope=Scope.all_providers(), now=held_until)

    booking = _booking(reference)
    assert booking.status == "expired"
    assert db.session.get(Slot, booking.slot_id).booked == 0


def test_an_amount_that_does_not_match_the_booking_is_flagged_not_confirmed(
        app_ctx, build, shop, stripe_on):
    reference = place(build, shop)
    intent_id = pay(reference, shop["customer"])
    booking = _booking(reference)
    booking.total_minor = 9900  # the booking says one thing, the gateway another
    db.session.commit()

    payments.settle_by_id(_payment(reference).id,
                          payments.stripe_gateway().retrieve_intent(intent_id), reason="t")

    payment = _payment(reference)
    assert payment.status == "succeeded" and "9900" in payment.attention
    assert _booking(reference).status == "pending"
    assert "payment.flagged" in _topics() and "payment.succeeded" not in _topics()


def test_reconciliation_confirms_a_paid_booking_whose_webhook_never_came(
        app, app_ctx, build, shop, stripe_on):
    reference = place(build, shop)
    pay(reference, shop["customer"])  # paid at the gateway; no webhook reaches us
    payment = _payment(reference)
    assert payment.status == "requires_payment"

    assert payment_reconciliation.reconcile()["checked"] == 0  # too recent to chase
    from datetime import timedelta

    from app.models.types import utcnow
    old = utcnow() - timedelta(minutes=app.config["PAYMENT_RECONCILE_AFTER_MINUTES"] + 1)
    db.session.query(Payment).filter_by(id=payment.id).update(
        {"updated_at": old, "checked_at": None})
    db.session.commit()

    counts = payment_reconciliation.reconcile()

    assert counts["checked"] == 1 and counts["settled"] == 1
    assert _payment(reference).status == "succeeded"
    assert _booking(reference).status == "confirmed"


def test_paid_after_the_hold_expired_is_flagged_for_a_refund(app_ctx, build, shop,
                                                             stripe_on):
    from app.services import bookings

    reference = place(build, shop)
    intent_id = pay(reference, shop["customer"])
    booking = _booking(reference)
    bookings.transition(booking, "expired", bookings.Actor(None, "hold expired"))
    db.session.commit()

    payments.settle_by_id(_payment(reference).id,
                          payments.stripe_gateway().retrieve_intent(intent_id), reason="t")

    assert "expired" in _payment(reference).attention
    assert _booking(reference).status == "expired"


def test_staff_mark_a_pay_at_venue_booking_paid(app_ctx, build, shop):
    from app.services import bookings

    venue = build.offering(shop["a"]["provider"], price_minor=1500, pay_at_venue=True)
    reference = bookings.place_booking(customer_id=shop["customer"], offering_id=venue,
                                       slot_id=build.future_slot(venue)).reference
    staff = shop["a"]["staff"]
    with pytest.raises(Exception) as foreign:
        payments.mark_paid(reference, actor_id=shop["b"]["staff"],
                           scope=Scope.of_provider(shop["b"]["provider"]))
    assert foreign.value.code == "booking.not_found"

    payment = payments.mark_paid(reference, actor_id=staff,
                                 scope=Scope.of_provider(shop["a"]["provider"]),
                                 method="card terminal")

    assert (payment.gateway, payment.status, payment.received_minor) == ("manual",
                                                                         "succeeded", 1500)
    assert _booking(reference).status == "confirmed"
    assert "payment.succeeded" in _topics()
    with pytest.raises(Conflict):
        payments.mark_paid(reference, actor_id=staff,
                           scope=Scope.of_provider(shop["a"]["provider"]))


def test_a_hold_with_a_payment_on_its_way_waits_for_the_gateway_then_expires(
        app_ctx, build, shop, stripe_on):
    from datetime import timedelta

    from app.models.types import utcnow
    from app.services import bookings

    waiting, plain = place(build, shop), place(build, shop)
    payments.start_payment(waiting, customer_id=shop["customer"])
    db.session.query(Payment).update({"status": "processing"})
    db.session.commit()
    ran_out = _booking(waiting).hold_expires_at + timedelta(minutes=1)

    assert bookings.expire_holds(scope=bookings.Scope.all_providers(), now=ran_out) == 1
    assert (_booking(waiting).status, _booking(plain).status) == ("pending", "expired")

    assert bookings.expire_holds(scope=bookings.Scope.all_providers(),
                                 now=ran_out + bookings.PAYMENT_GRACE) == 1
    assert _booking(waiting).status == "expired"
    assert utcnow() < ran_out  # the clock was only moved for the service


def test_the_declined_message_tells_how_long_the_place_is_held(app, app_ctx, build, shop,
                                                               stripe_on):
    from app.models import Notification
    from tests.notifications.conftest import run_jobs

    reference = place(build, shop)
    intent_id = pay(reference, shop["customer"], card=DECLINED)
    payments.settle_by_id(_payment(reference).id,
                          payments.stripe_gateway().retrieve_intent(intent_id), reason="test")
    run_jobs(app)

    db.session.expire_all()
    messages = db.session.scalars(select(Notification).where(
        Notification.template_key == "payment_declined")).all()
    assert messages and all(m.status != "failed" for m in messages), [
        (m.status, m.error) for m in messages]
    email = next(m for m in messages if m.channel == "email")
    assert "did not go through: Your bank declined the card." in email.body_text
    assert "We hold your place until" in email.body_text and "/shop/b/" in email.body_text


def test_a_card_payment_starts_in_two_short_transactions(app_ctx, build, shop, stripe_on):
    """The start is two transactions around the gateway call, each a few statements; the
    answer is built from what they read (no reload after the commit), the booking locked
    by lock_payment is not locked again by settle, and the provider's name is read only
    for PayPal."""
    from sqlalchemy import event

    reference = place(build, shop)
    db.session.expunge_all()
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        started = payments.start_payment(reference, customer_id=shop["customer"])
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    assert started.status == "requires_payment"
    # Store: the booking (locked), its payment, the provider's gateway, the new row and
    # its audit entry. Record: the payment's booking, both locked, one update, one audit
    # entry.
    assert len(statements) <= 11, statements
    assert statements.count("UPDATE") == 1, statements
