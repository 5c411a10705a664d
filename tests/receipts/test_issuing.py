"""Issuing receipts and credit notes: once, numbered without gaps, a PDF that says it all."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEvent, Receipt, ReceiptCounter
from app.models.receipts import CREDIT_NOTE, RECEIPT
from app.models.types import utcnow
from app.services import receipts, refunds
from app.gateways.object_storage import get_storage
from app.services.scopes import Scope
from tests.receipts.conftest import name_customer, paid, pdf_text, run_event_jobs


def _receipts(kind=RECEIPT):
    db.session.expire_all()
    return db.session.scalars(select(Receipt).where(Receipt.kind == kind)
                              .order_by(Receipt.number)).all()


def test_marking_paid_issues_one_receipt_with_a_pdf_that_says_it_all(app, build, shop):
    name_customer(shop["customer"], "Łukasz", "Żółć")
    reference, payment_id = paid(build, shop["offering"], shop["customer"], quantity=2)
    run_event_jobs(app)

    [receipt] = _receipts()
    assert (receipt.number, receipt.display_number) == (1, "R-000001")
    assert receipt.payment_id == payment_id and receipt.customer_id == shop["customer"]
    # 50.00 EUR including 19 %: tax = round_half_up(5000 × 1900 / 11900) = 798.
    assert (receipt.total_minor, receipt.tax_minor, receipt.currency) == (5000, 798, "EUR")
    assert receipt.storage_key == f"{shop['provider']}/receipt/R-000001.pdf"
    data = receipts.pdf_of(receipt)
    assert hashlib.sha256(data).hexdigest() == receipt.sha256
    assert len(data) == receipt.size_bytes
    text = pdf_text(data)
    for expected in ("R-000001", "Łukasz Żółć", "DE123456789", "50.00 EUR", "7.98 EUR",
                     "25.00 EUR", reference, "Salon Ünal", "Hauptstraße 1", "Haircut",
                     "manual · cash", "Europe/Berlin"):
        assert expected in text, (expected, text)

    generated = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "receipt.generated")).all()
    assert len(generated) == 1
    assert generated[0].payload == {
        "receipt_id": receipt.id, "kind": "receipt", "display_number": "R-000001",
        "booking_reference": reference, "booking_id": receipt.booking_id,
        "provider_id": shop["provider"], "customer_id": shop["customer"]}


def test_a_cyrillic_name_comes_back_from_the_pdf(app, build, shop):
    name_customer(shop["customer"], "Дмитрий", "Шостакович")
    paid(build, shop["offering"], shop["customer"])
    run_event_jobs(app)
    [receipt] = _receipts()
    assert "Дмитрий Шостакович" in pdf_text(receipts.pdf_of(receipt))


def test_issuing_twice_and_delivering_the_event_twice_issue_once(app, build, shop):
    _, payment_id = paid(build, shop["offering"], shop["customer"])
    run_event_jobs(app)
    first = _receipts()[0]

    again = receipts.issue_receipt(payment_id)
    event_id = db.session.scalar(select(OutboxEvent.id).where(
        OutboxEvent.topic == "payment.succeeded"))
    from app import events

    events.replay(event_id)  # delivered again: the consumer has handled it already
    run_event_jobs(app)
    receipts.receipt_on_payment(event_id="another-delivery", topic="payment.succeeded",
                                payload={"payment_id": payment_id})

    assert again.id == first.id
    assert [r.id for r in _receipts()] == [first.id]
    assert db.session.get(ReceiptCounter, (shop["provider"], RECEIPT)).last_number == 1
    assert db.session.scalar(select(db.func.count()).select_from(OutboxEvent).where(
        OutboxEvent.topic == "receipt.generated")) == 1


def _generated_count() -> int:
    return db.session.scalar(select(db.func.count()).select_from(OutboxEvent).where(
        OutboxEvent.topic == "receipt.generated"))


def test_a_render_failure_keeps_the_number_and_the_sweep_renders_it_later(
        app, build, shop, monkeypatch, without_receipt_consumers):
    _, first = paid(build, shop["offering"], shop["customer"])
    _, second = paid(build, shop["offering"], shop["customer"])

    def broken(context):
        raise RuntimeError("the renderer fell over")

    with monkeypatch.context() as patch:
        patch.setattr(receipts, "render_pdf", broken)
        patch.setattr(receipts, "enqueue_render", receipts.render)  # inline, in both modes
        issued = receipts.issue_receipt(first)  # numbered: rendering comes after the commit
        assert issued.number == 1 and issued.sha256 is None
        with pytest.raises(RuntimeError):
            receipts.render(issued.id)
    assert [(r.number, r.sha256) for r in _receipts()] == [(1, None)]
    assert _generated_count() == 0  # announced only once the PDF is stored

    assert receipts.issue_receipt(second).number == 2  # no gap, no number taken twice
    later = utcnow() + receipts.RENDER_GRACE + timedelta(minutes=1)
    assert receipts.sweep(now=later) >= 1
    [receipt, _] = _receipts()
    assert receipt.sha256 is not None and "R-000001" in pdf_text(receipts.pdf_of(receipt))
    assert _generated_count() == 2


def test_a_storage_failure_leaves_the_receipt_for_the_sweep(app, build, shop, monkeypatch,
                                                            without_receipt_consumers):
    _, payment_id = paid(build, shop["offering"], shop["customer"])
    storage = get_storage()

    def full(key, data):
        raise OSError("disk full")

    monkeypatch.setattr(receipts, "enqueue_render", receipts.render)
    monkeypatch.setattr(storage, "put", full)
    receipt_id = receipts.issue_receipt(payment_id).id  # the render after commit failed
    with pytest.raises(OSError):
        receipts.render(receipt_id)
    monkeypatch.undo()
    [receipt] = _receipts()
    assert (receipt.display_number, receipt.storage_key, receipt.sha256) == (
        "R-000001", None, None)
    assert receipts.sweep(now=utcnow() + timedelta(hours=1)) == 1
    assert _receipts()[0].storage_key == f"{shop['provider']}/receipt/R-000001.pdf"


def test_numbers_are_per_provider(app, build, shop):
    other = build.provider()
    other_offering = build.offering(other, price_minor=1000, pay_at_venue=True)
    paid(build, shop["offering"], shop["customer"])
    paid(build, other_offering, shop["customer"])
    paid(build, shop["offering"], shop["customer"])
    run_event_jobs(app)
    by_provider = sorted((r.provider_id, r.number) for r in _receipts())
    assert by_provider == sorted([(shop["provider"], 1), (shop["provider"], 2), (other, 1)])


def test_a_refund_issues_a_credit_note_with_its_own_number(app, build, shop):
    name_customer(shop["customer"], "Łukasz", "Żółć")
    reference, payment_id = paid(build, shop["offering"], shop["customer"])
    run_event_jobs(app)
    refunds.request_refund(payment_id, amount_minor=1000, reason="came late",
                           actor_id=shop["staff"], scope=Scope.all_providers())
    refunds.request_refund(payment_id, amount_minor=500, reason="goodwill",
                           actor_id=shop["staff"], scope=Scope.all_providers())
    run_event_jobs(app)

    [receipt] = _receipts()
    notes = _receipts(CREDIT_NOTE)
    assert [n.display_number for n in notes] == ["CN-000001", "CN-000002"]
    assert {n.receipt_id for n in notes} == {receipt.id}
    # −10.00 EUR, 19 % included: tax = −round_half_up(1000 × 1900 / 11900) = −160.
    assert (notes[0].total_minor, notes[0].tax_minor) == (-1000, -160)
    assert notes[0].storage_key == f"{shop['provider']}/credit_note/CN-000001.pdf"
    text = pdf_text(receipts.pdf_of(notes[1]))
    for expected in ("CN-000002", "R-000001", "Łukasz Żółć", "-5.00 EUR", "goodwill",
                     "came late", "15.00 EUR", reference, "DE123456789"):
        assert expected in text, (expected, text)
    kinds = [e.payload["kind"] for e in db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == "receipt.generated")
        .order_by(OutboxEvent.created_at))]
    assert sorted(kinds) == ["credit_note", "credit_note", "receipt"]


def test_a_credit_note_issues_the_missing_receipt_first(app, build, shop,
                                                        without_receipt_consumers):
    _, payment_id = paid(build, shop["offering"], shop["customer"])
    refund = refunds.request_refund(payment_id, amount_minor=None, reason="",
                                    actor_id=None, scope=Scope.all_providers())
    note = receipts.issue_credit_note(refund.id)
    assert note.display_number == "CN-000001"
    assert note.original.display_number == "R-000001"
    assert note.total_minor == -2500
    assert receipts.issue_credit_note(refund.id).id == note.id


def test_a_missing_file_fails_clearly(app, build, shop, receipt_folder):
    paid(build, shop["offering"], shop["customer"])
    run_event_jobs(app)
    [receipt] = _receipts()
    (receipt_folder / receipt.storage_key).unlink()
    with pytest.raises(receipts.ReceiptFileMissing):
        receipts.pdf_of(receipt)
