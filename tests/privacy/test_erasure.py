"""After an erasure nothing of the person is left anywhere: every text column of every
table is searched for their values; the financial records stay, with their numbers."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import JSON, String, Text, cast, func, select

from app.extensions import db
from app.models import Account, Notification, Receipt
from app.services import customer_erasure, receipts
from tests.builders import PASSWORD
from tests.helpers import bearer, token_for
from tests.receipts.conftest import pdf_text, run_event_jobs

ZEBEDEE = ("zebedee", "quarrington", "15112398765", "zebphone", "203.0.113.8")
OTTILIE = ("ottilie", "brunswick", "17655501234", "otterphone", "203.0.113.10")


def _found(needles) -> dict[str, int]:
    """Where any of ``needles`` occurs, table.column → rows, across the whole schema."""
    found = {}
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, (String, Text, JSON)):
                continue
            text = func.lower(cast(column, Text))
            for needle in needles:
                count = db.session.scalar(select(func.count()).select_from(table)
                                          .where(text.like(f"%{needle}%")))
                if count:
                    found[f"{table.name}.{column.name}/{needle}"] = count
    return found


def _documents():
    return {r.display_number: (r.total_minor, r.tax_minor, r.currency)
            for r in db.session.scalars(select(Receipt).where(
                Receipt.customer_id.is_not(None)))}


def test_nothing_of_the_person_is_left_after_an_erasure(app, client, two_customers,
                                                        receipt_folder):
    mine = two_customers["customer"]
    assert len(_found(ZEBEDEE)) >= 8  # the search finds the person before
    documents = _documents()

    erased = client.post("/api/v1/me/erase", headers=bearer(token_for(mine)),
                         json={"password": PASSWORD})
    assert erased.status_code == 200
    run_event_jobs(app)
    db.session.expire_all()

    assert _found(ZEBEDEE) == {}
    assert _found(("zebedee.quarrington@example.com",)) == {}
    assert len(_found(OTTILIE)) >= 8  # the other customer is untouched
    assert _documents() == documents  # same numbers, same totals
    for path in Path(receipt_folder).rglob("*.pdf"):
        text = pdf_text(path.read_bytes()).lower()
        assert "zebedee" not in text and "quarrington" not in text
    mine_pdf = [r for r in db.session.scalars(select(Receipt).where(
        Receipt.customer_id == mine))]
    assert {r.display_number for r in mine_pdf} == {"R-000001", "CN-000001"}
    for document in mine_pdf:
        text = pdf_text(receipts.pdf_of(document))
        assert document.display_number in text and "personal data removed" in text
    assert "25.00 EUR" in pdf_text(receipts.pdf_of(
        next(r for r in mine_pdf if r.display_number == "R-000001")))
    sent = db.session.scalars(select(Notification).where(Notification.customer_id == mine))
    assert {(n.recipient, n.body_text) for n in sent} == {("", "")}
    account = db.session.get(Account, mine)
    assert account.email == customer_erasure.anonymous_email(mine) and not account.active


def test_a_crash_before_the_reprint_is_finished_by_the_sweep(app, app_ctx, two_customers,
                                                             monkeypatch):
    mine = two_customers["customer"]
    monkeypatch.setattr(receipts, "enqueue_render", lambda receipt_id: None)  # lost job

    customer_erasure.erase_customer(mine)

    waiting = db.session.scalars(select(Receipt).where(Receipt.customer_id == mine)).all()
    assert all(r.sha256 is None and r.personal_data_removed_at for r in waiting)
    from datetime import timedelta
    from app.models.types import utcnow
    assert receipts.sweep(now=utcnow() + timedelta(minutes=5)) == 2
    db.session.expire_all()
    for document in db.session.scalars(select(Receipt).where(Receipt.customer_id == mine)):
        assert "Zebedee" not in pdf_text(receipts.pdf_of(document))
    assert receipts.sweep(now=utcnow() + timedelta(minutes=5)) == 0  # done once


def test_the_erasure_is_all_or_nothing(app, app_ctx, two_customers, monkeypatch):
    mine = two_customers["customer"]

    def broken(customer_id):
        raise RuntimeError("storage down")
    monkeypatch.setattr(receipts, "remove_personal_data", broken)
    try:
        customer_erasure.erase_customer(mine)
    except RuntimeError:
        pass
    db.session.expire_all()

    assert db.session.get(Account, mine).first_name == "Zebedee"
    assert _found(("203.0.113.8",))  # sessions and the audit addresses are still there
    assert all(r.sha256 for r in db.session.scalars(select(Receipt)))


def test_an_erasure_deletes_the_second_factor(app, build):
    from app.models import RecoveryCode, SecondFactor
    from tests.second_factor_helpers import enrol

    customer, other = build.customer(), build.customer()
    enrol(customer)
    enrol(other)

    customer_erasure.erase_customer(customer)

    assert db.session.get(SecondFactor, customer) is None
    assert db.session.scalars(select(RecoveryCode.account_id).distinct()).all() == [other]
