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


def test_a_credit_note_waits_for_the_payment_before_locking_its_refund(
        app, build, shop, is_postgres, without_receipt_consumers):
    """The lock order (payment → refund): while another transaction holds the payment, as
    the refund service does while it changes a refund, the credit note's issuer waits on
    the payment and holds no lock on the refund, so the two cannot deadlock."""
    if not is_postgres:
        pytest.skip("SQLite has no row locks; the lock order needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")
    from psycopg import errors as pg_errors
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from app.services import refunds
    from app.services.scopes import Scope

    _, payment_id = paid(build, shop["offering"], shop["customer"])
    refund = refunds.request_refund(payment_id, amount_minor=None, reason="",
                                    actor_id=None, scope=Scope.all_providers())
    refund_id = refund.id
    db.session.remove()

    holder = db.engine.connect()
    holder_txn = holder.begin()
    holder.execute(text("SELECT id FROM payment WHERE id = :id FOR UPDATE"), {"id": payment_id})
    issued, errors = [], []

    def issuer() -> None:
        with app.app_context():
            try:
                issued.append(receipts.issue_credit_note(refund_id).display_number)
            except Exception as exc:  # collected: the assertion shows it
                errors.append(repr(exc))
            finally:
                db.session.remove()

    thread = threading.Thread(target=issuer)
    thread.start()
    try:
        with db.engine.connect() as probe:
            # Wait until the issuer is blocked on the payment row.
            for _ in range(200):
                waiting = probe.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"))
                if waiting:
                    break
                threading.Event().wait(0.05)
            assert waiting, "the credit note's issuer never waited on the payment"
            probe.rollback()
            probe_txn = probe.begin()
            try:
                probe.execute(text("SELECT id FROM refund WHERE id = :id FOR UPDATE NOWAIT"),
                              {"id": refund_id})
            except OperationalError as exc:
                assert not isinstance(exc.orig, pg_errors.LockNotAvailable), \
                    "the issuer locked the refund before the payment"
                raise
            finally:
                probe_txn.rollback()
    finally:
        holder_txn.rollback()
        holder.close()
        thread.join(timeout=60)
    assert errors == []
    assert issued == ["CN-000001"]
