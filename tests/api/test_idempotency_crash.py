"""An Idempotency-Key whose request died is a lease that runs out, never a stuck key.

The fault tests run the booking request in a forked child process that dies (``os._exit``,
no clean-up, no response) at a chosen point, against the real PostgreSQL database; the
parent then retries with the same key. The points of death are injected by replacing a
function in the child only: nothing of it exists in the product.
"""
from __future__ import annotations

import multiprocessing
import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, IdempotencyRecord, Slot
from app.models.payments import Payment, Refund
from app.models.types import utcnow
from app.services import booking_placing, bookings, idempotency, payments, refunds
from app.services.scopes import Scope
from tests.helpers import assert_error_shape, bearer, token_for

DIED = 86  # the child's exit status when it died where the test meant it to
KEY = "crash-test-1"


@pytest.fixture
def shop(build):
    offering = build.offering(build.provider(), price_minor=2500)
    customer = build.customer()
    return {"offering": offering, "slot": build.future_slot(offering, capacity=5),
            "customer": customer,
            "headers": {**bearer(token_for(customer)), "Idempotency-Key": KEY}}


def _body(shop):
    return {"offering_id": shop["offering"], "slot_id": shop["slot"]}


def _request_dying(app, shop, module, name, *, path="/api/v1/bookings", body=None,
                   headers=None):
    """POST (the booking) in a child process that dies when it calls ``module.name``."""

    def child():
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)  # the parent's connections stay the parent's
        setattr(module, name, lambda *args, **kwargs: os._exit(DIED))
        app.test_client().post(path, json=body or _body(shop),
                               headers=headers or shop["headers"])
        os._exit(1)  # answered: it was meant to die first

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(timeout=60)
    assert process.exitcode == DIED


def _paid_at_the_venue(build):
    """(provider, staff, payment id) of a 30.00 booking paid at the venue: refundable."""
    provider = build.provider()
    offering = build.offering(provider, price_minor=3000, pay_at_venue=True)
    staff = build.staff(provider)
    reference = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                       slot_id=build.future_slot(offering)).reference
    return provider, staff, payments.mark_paid(reference, actor_id=staff,
                                               scope=Scope.of_provider(provider)).id


def _bookings():
    db.session.expire_all()
    return db.session.scalars(select(Booking)).all()


def _after_the_lease(app, monkeypatch):
    later = utcnow() + timedelta(seconds=app.config["IDEMPOTENCY_LEASE_SECONDS"] + 1)
    monkeypatch.setattr(idempotency, "utcnow", lambda: later)


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("the fault tests fork a process against a shared database: PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs them")


@pytest.mark.postgres
def test_a_request_that_died_after_its_commit_is_answered_by_the_retry(
        app, client, shop, postgres_only, monkeypatch):
    _request_dying(app, shop, idempotency, "complete")  # booked, then died unanswered
    [committed] = _bookings()

    within = client.post("/api/v1/bookings", json=_body(shop), headers=shop["headers"])
    assert_error_shape(within, 409, "idempotency.in_progress")
    assert 1 <= int(within.headers["Retry-After"]) <= app.config["IDEMPOTENCY_LEASE_SECONDS"]

    _after_the_lease(app, monkeypatch)
    retry = client.post("/api/v1/bookings", json=_body(shop), headers=shop["headers"])
    again = client.post("/api/v1/bookings", json=_body(shop), headers=shop["headers"])

    assert retry.status_code == again.status_code == 201
    assert retry.get_json()["reference"] == committed.reference
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == retry.get_json()
    assert [b.reference for b in _bookings()] == [committed.reference]
    assert db.session.get(Slot, shop["slot"]).booked == 1
    detail = client.get(f"/api/v1/bookings/{committed.reference}",
                        headers=shop["headers"]).get_json()
    assert {k: detail[k] for k in retry.get_json()} == retry.get_json()


@pytest.mark.postgres
def test_a_request_that_died_before_its_commit_runs_again_after_the_lease(
        app, client, shop, postgres_only, monkeypatch):
    # Dies with the offering read and the placing statement not yet sent.
    _request_dying(app, shop, booking_placing, "place_with_statement")
    assert _bookings() == []

    within = client.post("/api/v1/bookings", json=_body(shop), headers=shop["headers"])
    assert_error_shape(within, 409, "idempotency.in_progress")
    assert "Retry-After" in within.headers

    _after_the_lease(app, monkeypatch)
    retry = client.post("/api/v1/bookings", json=_body(shop), headers=shop["headers"])
    again = client.post("/api/v1/bookings", json=_body(shop), headers=shop["headers"])

    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert again.status_code == 201 and again.get_json() == retry.get_json()
    assert [b.reference for b in _bookings()] == [retry.get_json()["reference"]]
    assert db.session.get(Slot, shop["slot"]).booked == 1


@pytest.mark.postgres
def test_a_refund_request_that_died_after_its_commit_is_answered_by_the_retry(
        app, client, build, postgres_only, monkeypatch):
    provider, staff, payment_id = _paid_at_the_venue(build)
    path = f"/api/v1/provider/payments/{payment_id}/refunds"
    headers = {**bearer(token_for(staff)), "Idempotency-Key": "refund-1"}
    body = {"amount_minor": 1000, "reason": "broken mat"}

    _request_dying(app, None, idempotency, "complete", path=path, body=body,
                   headers=headers)
    db.session.expire_all()
    [refund] = db.session.scalars(select(Refund)).all()
    assert_error_shape(client.post(path, json=body, headers=headers), 409,
                       "idempotency.in_progress")

    _after_the_lease(app, monkeypatch)
    retry = client.post(path, json=body, headers=headers)

    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json()["id"] == refund.id
    db.session.expire_all()
    assert [r.id for r in db.session.scalars(select(Refund))] == [refund.id]
    assert db.session.get(Payment, payment_id).refunded_minor == 1000


def test_one_key_places_one_booking_even_when_two_holders_try(app_ctx, shop):
    first = idempotency.claim(user_id=shop["customer"], key=KEY, endpoint="bookings",
                              fingerprint="f")
    placed = bookings.place_booking(customer_id=shop["customer"], offering_id=shop["offering"],
                                    slot_id=shop["slot"], idempotency_record_id=first.record_id)

    with pytest.raises(idempotency.AlreadyCommitted):  # a successor after the lease ran out
        bookings.place_booking(customer_id=shop["customer"], offering_id=shop["offering"],
                               slot_id=shop["slot"], idempotency_record_id=first.record_id)

    assert [b.reference for b in _bookings()] == [placed.reference]
    assert db.session.get(Slot, shop["slot"]).booked == 1


def test_a_holder_whose_lease_was_taken_over_can_neither_answer_nor_give_up_the_key(
        app, app_ctx, shop):
    now = utcnow()
    first = idempotency.claim(user_id=shop["customer"], key=KEY, endpoint="bookings",
                              fingerprint="f", now=now)
    later = now + timedelta(seconds=app.config["IDEMPOTENCY_LEASE_SECONDS"] + 1)
    second = idempotency.claim(user_id=shop["customer"], key=KEY, endpoint="bookings",
                               fingerprint="f", now=later)
    assert second.is_takeover and second.record_id == first.record_id

    idempotency.release(first)
    idempotency.complete(first, status_code=201, body={"from": "first"})
    record = db.session.get(IdempotencyRecord, first.record_id, populate_existing=True)
    assert record is not None and record.status_code is None

    idempotency.complete(second, status_code=201, body={"from": "second"})
    replay = idempotency.claim(user_id=shop["customer"], key=KEY, endpoint="bookings",
                               fingerprint="f", now=later)
    assert (replay.replay_status, replay.replay_body) == (201, {"from": "second"})
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_one_key_asks_for_one_refund_even_when_two_holders_try(app_ctx, build):
    provider, staff, payment_id = _paid_at_the_venue(build)
    held = idempotency.claim(user_id=staff, key="refund-2", endpoint="refunds",
                             fingerprint="f")
    ask = dict(amount_minor=500, reason="", actor_id=staff, scope=Scope.of_provider(provider),
               idempotency_record_id=held.record_id)

    first = refunds.request_refund(payment_id, **ask)
    with pytest.raises(idempotency.AlreadyCommitted):
        refunds.request_refund(payment_id, **ask)

    db.session.expire_all()
    assert [r.id for r in db.session.scalars(select(Refund))] == [first.id]
