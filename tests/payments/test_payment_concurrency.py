"""Starting one booking's payment from many requests at once, on PostgreSQL."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models.payments import Payment
from app.models.types import utcnow
from app.services import payments
from tests.fakes.stripe import stripe_client
from tests.helpers import bearer, token_for
from tests.payments.conftest import place

STARTERS = 10


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")


@pytest.mark.postgres
def test_ten_concurrent_starts_answer_cleanly_with_one_intent(app, app_ctx, postgres_only,
                                                              build, shop, stripe_on):
    reference = place(build, shop)
    headers = bearer(token_for(shop["customer"]))
    barrier = threading.Barrier(STARTERS)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def start() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/bookings/{reference}/payment", headers=headers)
        with lock:
            answers.append((response.status_code, response.get_json(),
                            response.headers.get("Retry-After")))

    threads = [threading.Thread(target=start) for _ in range(STARTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == STARTERS
    statuses = sorted(status for status, _, _ in answers)
    assert all(status == 201 or status == 409 for status in statuses), answers
    assert all(body["code"] == "payment.busy" for status, body, _ in answers if status == 409)
    assert all(int(retry_after) >= 1 for status, _, retry_after in answers if status == 409)
    assert 201 in statuses
    db.session.expire_all()
    rows = db.session.scalars(select(Payment)).all()
    assert len(rows) == 1 and rows[0].provider_reference
    started = {body["payment_id"] for status, body, _ in answers if status == 201}
    assert started == {rows[0].id}
    secrets = {body["client_secret"] for status, body, _ in answers if status == 201}
    intent = stripe_client().v1.payment_intents.retrieve(rows[0].provider_reference)
    assert secrets == {intent.client_secret}
    intents = [i for i in stripe_client().v1.payment_intents.list().auto_paging_iter()
               # by reference: ids start again in every test; the server keeps its intents
               if i.metadata and i.metadata.to_dict().get("booking_reference") == reference]
    assert [i.id for i in intents] == [intent.id]  # no second intent made by a racer


def _point_gateway_at(app, url, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", url)
    app.extensions.pop("bookwell_payment_gateways", None)


def _stored_without_intent(app, reference, customer, stripe_url, monkeypatch):
    """The booking's payment row, stored by a start whose gateway call failed."""
    _point_gateway_at(app, "http://127.0.0.1:9", monkeypatch)  # nothing listens there
    with pytest.raises(payments.GatewayUnavailable):
        payments.start_payment(reference, customer_id=customer)
    _point_gateway_at(app, stripe_url, monkeypatch)


def _intent_requested(seconds_ago):
    db.session.execute(update(Payment).values(
        intent_requested_at=utcnow() - timedelta(seconds=seconds_ago)))
    db.session.commit()


def test_a_start_while_another_creates_the_intent_is_busy_until_that_one_is_overdue(
        app, app_ctx, build, shop, stripe_on, monkeypatch):
    reference = place(build, shop)
    _stored_without_intent(app, reference, shop["customer"], stripe_on.url, monkeypatch)
    lease = payments.intent_request_seconds()
    _intent_requested(seconds_ago=1)  # another request is creating the intent

    with pytest.raises(payments.IntentBeingCreated) as busy:
        payments.start_payment(reference, customer_id=shop["customer"])
    assert busy.value.code == "payment.busy"
    assert 1 <= int(busy.value.headers["Retry-After"]) <= lease

    _intent_requested(seconds_ago=lease + 1)  # that request died
    started = payments.start_payment(reference, customer_id=shop["customer"])

    db.session.expire_all()
    assert db.session.get(Payment, started.payment_id).provider_reference
    assert started.client_secret


def test_a_failed_creation_lets_the_next_start_create_the_intent_at_once(
        app, app_ctx, build, shop, stripe_on, monkeypatch):
    reference = place(build, shop)
    _stored_without_intent(app, reference, shop["customer"], stripe_on.url, monkeypatch)

    started = payments.start_payment(reference, customer_id=shop["customer"])

    assert started.client_secret
