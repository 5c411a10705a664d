"""The numbering proof: 20 concurrent issuers of one provider get 1..20, on PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Receipt, ReceiptCounter
from app.models.receipts import RECEIPT
from app.services import receipts
from tests.receipts.conftest import paid

ISSUERS = 20


def test_twenty_concurrent_issuers_get_one_to_twenty(app, build, shop, is_postgres,
                                                     without_receipt_consumers):
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")
    payment_ids = [paid(build, shop["offering"], shop["customer"])[1]
                   for _ in range(ISSUERS)]
    barrier = threading.Barrier(ISSUERS)
    numbers, errors = [], []
    lock = threading.Lock()

    def issuer(payment_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                receipt = receipts.issue_receipt(payment_id)
                with lock:
                    numbers.append(receipt.number)
            except Exception as exc:  # collected: the assertion shows it
                with lock:
                    errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issuer, args=(pid,)) for pid in payment_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(numbers) == list(range(1, ISSUERS + 1))
    db.session.expire_all()
    stored = db.session.execute(select(Receipt.number, Receipt.payment_id)).all()
    assert sorted(n for n, _ in stored) == list(range(1, ISSUERS + 1))
    assert sorted(p for _, p in stored) == sorted(payment_ids)
    assert db.session.get(ReceiptCounter, (shop["provider"], RECEIPT)).last_number == ISSUERS


def test_concurrent_issuers_of_one_payment_issue_one_receipt(app, build, shop, is_postgres,
                                                             without_receipt_consumers):
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")
    _, payment_id = paid(build, shop["offering"], shop["customer"])
    barrier = threading.Barrier(5)
    ids = []

    def issuer() -> None:
        with app.app_context():
            barrier.wait()
            try:
                ids.append(receipts.issue_receipt(payment_id).id)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issuer) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(ids) == 5 and len(set(ids)) == 1
    assert db.session.scalar(select(db.func.count()).select_from(Receipt)) == 1
