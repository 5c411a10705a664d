"""The number is taken in the issuing transaction; the PDF is rendered after the commit,
with no lock held; a receipt a crash left without its PDF is rendered by the sweep or on
download; rendering twice stores and announces once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEvent, Receipt
from app.models.types import utcnow
from app.services import receipts
from tests.receipts.conftest import paid, pdf_text

LATER = timedelta(hours=1)


def _generated(receipt_id: int) -> int:
    db.session.expire_all()
    return sum(1 for payload in db.session.scalars(select(OutboxEvent.payload).where(
        OutboxEvent.topic == "receipt.generated")) if payload["receipt_id"] == receipt_id)


def _crash_after_commit(monkeypatch):
    """The process dies after the issuing commit, before the render job is enqueued."""
    monkeypatch.setattr(receipts, "enqueue_render", lambda receipt_id: None)


def test_a_crash_between_number_and_pdf_leaves_a_receipt_the_sweep_completes(
        app, build, shop, monkeypatch, without_receipt_consumers):
    _, payment_id = paid(build, shop["offering"], shop["customer"])
    _crash_after_commit(monkeypatch)
    receipt_id = receipts.issue_receipt(payment_id).id

    receipt = db.session.get(Receipt, receipt_id)
    assert (receipt.display_number, receipt.sha256, receipt.storage_key) == (
        "R-000001", None, None)
    assert _generated(receipt_id) == 0
    assert receipts.sweep(now=utcnow()) == 0  # its job may still be on the way

    assert receipts.sweep(now=utcnow() + LATER) == 1

    db.session.expire_all()
    receipt = db.session.get(Receipt, receipt_id)
    assert receipt.sha256 is not None
    assert "R-000001" in pdf_text(receipts.pdf_of(receipt))
    assert _generated(receipt_id) == 1
    assert receipts.sweep(now=utcnow() + LATER) == 0  # done: left alone


def test_rendering_again_stores_and_announces_once(app, build, shop, monkeypatch,
                                                   without_receipt_consumers):
    _, payment_id = paid(build, shop["offering"], shop["customer"])
    _crash_after_commit(monkeypatch)
    receipt_id = receipts.issue_receipt(payment_id).id

    assert receipts.render(receipt_id) is True
    digest = db.session.get(Receipt, receipt_id, populate_existing=True).sha256
    assert receipts.render(receipt_id) is False
    assert receipts.render(receipt_id) is False

    assert db.session.get(Receipt, receipt_id, populate_existing=True).sha256 == digest
    assert _generated(receipt_id) == 1


def test_downloading_a_receipt_whose_pdf_is_missing_renders_it(app, build, shop,
                                                               monkeypatch,
                                                               without_receipt_consumers):
    _, payment_id = paid(build, shop["offering"], shop["customer"])
    _crash_after_commit(monkeypatch)
    receipt = receipts.issue_receipt(payment_id)
    assert receipt.sha256 is None

    data = receipts.pdf_of(receipt)

    assert "R-000001" in pdf_text(data)
    stored = db.session.get(Receipt, receipt.id, populate_existing=True)
    assert stored.sha256 is not None and stored.size_bytes == len(data)
    assert _generated(receipt.id) == 1


def test_with_redis_the_render_is_a_job_after_the_commit(app, build, shop, monkeypatch,
                                                         without_receipt_consumers):
    from app import jobqueue

    enqueued = []
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://configured-for-this-test")
    monkeypatch.setattr(jobqueue, "enqueue", lambda *args, **kwargs: enqueued.append(
        (args, kwargs)))
    _, payment_id = paid(build, shop["offering"], shop["customer"])
    enqueued.clear()

    receipt_id = receipts.issue_receipt(payment_id).id

    assert enqueued == [((receipts.RENDER_JOB, receipt_id),
                         {"job_id": f"receipt-render-{receipt_id}"})]
    assert db.session.get(Receipt, receipt_id).sha256 is None


def test_the_counter_is_not_locked_while_a_pdf_renders(app, build, shop, monkeypatch,
                                                       is_postgres,
                                                       without_receipt_consumers):
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the lock test needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")
    _, first = paid(build, shop["offering"], shop["customer"])
    _, second = paid(build, shop["offering"], shop["customer"])
    rendering, release = threading.Event(), threading.Event()
    real_render = receipts.render_pdf
    calls = {"n": 0}

    def slow_render(context):
        calls["n"] += 1
        if calls["n"] == 1:  # the first receipt's render hangs until released
            rendering.set()
            release.wait(timeout=30)
        return real_render(context)

    monkeypatch.setattr(receipts, "render_pdf", slow_render)
    monkeypatch.setattr(receipts, "enqueue_render", receipts.render)  # rendered right away
    results, errors = {}, []

    def issue_first() -> None:
        with app.app_context():
            try:
                results["first"] = receipts.issue_receipt(first).number
            except Exception as exc:  # shown by the assertion
                errors.append(repr(exc))
            finally:
                db.session.remove()

    thread = threading.Thread(target=issue_first)
    thread.start()
    try:
        assert rendering.wait(timeout=30), "the first render never started"
        db.session.execute(db.text("SET LOCAL lock_timeout = '2s'"))
        # Taking the next number must not wait for the render in progress.
        number = receipts.issue_receipt(second).number
        assert not release.is_set() and thread.is_alive()
    finally:
        release.set()
        thread.join(timeout=60)
    assert errors == []
    assert (results["first"], number) == (1, 2)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Receipt).where(
        Receipt.sha256.is_not(None))) == 2
