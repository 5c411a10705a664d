"""Receipts: paid bookings made through the services (pay at the venue, marked paid), a
storage folder per test, and a way to run the event consumers in either mode."""
from __future__ import annotations

import itertools
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app import events
from app.extensions import db
from app.models import Account, Booking, Payment, Receipt
from app.services import bookings, payments
from app.services.scopes import Scope

RECEIPT_CONSUMERS = ("app.services.receipts.receipt_on_payment",
                     "app.services.receipts.credit_note_on_refund")
_hours = itertools.count()


@pytest.fixture(autouse=True)
def receipt_folder(app, tmp_path, monkeypatch):
    """Each test its own storage folder (and no S3 unless a test sets it up)."""
    monkeypatch.setitem(app.config, "RECEIPT_STORAGE_DIR", str(tmp_path / "receipts"))
    monkeypatch.setitem(app.config, "S3_BUCKET", None)
    return tmp_path / "receipts"


@pytest.fixture(autouse=True)
def unlink_credit_notes(app):
    """Before the tables are emptied: on SQLite a credit note's RESTRICT reference to its
    receipt can fail the plain ``DELETE FROM receipt`` of the shared clean-up (RESTRICT is
    checked row by row; seen once while this suite was written, not reproduced since)."""
    yield
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(Receipt.__table__.update().values(receipt_id=None))


@pytest.fixture
def without_receipt_consumers(monkeypatch):
    """Payments are made without receipts being issued, so a test issues them itself."""
    for topic in ("payment.succeeded", "payment.refunded"):
        kept = [p for p in events.CONSUMERS.get(topic, []) if p not in RECEIPT_CONSUMERS]
        monkeypatch.setitem(events.CONSUMERS, topic, kept)


def run_event_jobs(app):
    """With Redis, work the events queue until it is empty; inline delivery needs nothing."""
    if app.config.get("REDIS_URL"):
        from rq import SimpleWorker

        from app import jobqueue
        from app.redis import redis_client

        SimpleWorker([jobqueue.get_queue("events"), jobqueue.get_queue("payments")],
                     connection=redis_client()).work(burst=True)
    db.session.expire_all()


@pytest.fixture
def shop(build):
    """A provider with a pay-at-venue service, tax 19 % included; its staff; a customer."""
    provider = build.provider(name="Salon Ünal", address="Hauptstraße 1\n10115 Berlin",
                              tax_id="DE123456789", tax_rate_bp=1900, tax_inclusive=True)
    offering = build.offering(provider, name="Haircut", price_minor=2500,
                              pay_at_venue=True)
    return {"provider": provider, "offering": offering, "staff": build.staff(provider),
            "customer": build.customer()}


def paid(build, provider_offering, customer_id, *, quantity=1, method="cash"):
    """A booking of the pay-at-venue offering, marked paid; returns (reference, payment id)."""
    hours = next(_hours)
    slot = build.future_slot(provider_offering, days=3 + hours / 24, capacity=50)
    reference = bookings.place_booking(customer_id=customer_id, offering_id=provider_offering,
                                       slot_id=slot, quantity=quantity).reference
    payments.mark_paid(reference, actor_id=None, method=method, scope=Scope.all_providers())
    payment_id = db.session.scalar(select(Payment.id).join(Booking, Booking.id ==
                                   Payment.booking_id).where(Booking.reference == reference))
    return reference, payment_id


def name_customer(user_id: int, first: str, last: str) -> None:
    account = db.session.get(Account, user_id)
    account.first_name, account.last_name = first, last
    db.session.commit()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
