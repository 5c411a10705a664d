"""Starting one booking's payment from many requests at once, on PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.payments import Payment
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
            answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=start) for _ in range(STARTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == STARTERS
    statuses = sorted(status for status, _ in answers)
    assert all(status == 201 or status == 409 for status in statuses), answers
    assert all(body["code"] == "payment.busy" for status, body in answers if status == 409)
    assert 201 in statuses
    db.session.expire_all()
    rows = db.session.scalars(select(Payment)).all()
    assert len(rows) == 1 and rows[0].provider_reference
    started = {body["payment_id"] for status, body in answers if status == 201}
    assert started == {rows[0].id}
    secrets = {body["client_secret"] for status, body in answers if status == 201}
    intent = stripe_client().v1.payment_intents.retrieve(rows[0].provider_reference)
    assert secrets == {intent.client_secret}
