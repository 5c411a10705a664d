"""Receipts and credit notes: numbered per provider with no gap, rendered to PDF, stored.

Issuing is in two steps, as pretix does with invoices. First, in the transaction of
whoever issues (a request, or the ``payment.succeeded`` / ``payment.refunded`` consumer):
lock the payment (or refund) row, take the next number from the provider's locked
``ReceiptCounter`` row, insert the ``Receipt``, commit. The counter's row lock is held for
milliseconds, and a rolled-back issue gives its number back with it: no gap. Second, after
the commit, the ``render`` job renders the PDF (the number is printed on it), stores it,
records its sha256 and publishes ``receipt.generated``. A crash between the two leaves a
numbered receipt without a PDF: ``sweep`` renders it, and so does a download.

Two issuers of one provider serialise on the counter row; two issuers of one payment
serialise on the payment row, and the second finds the first one's receipt (a receipt is
issued once per payment, a credit note once per refund). Two renders of one receipt
serialise on the receipt's row: the second finds the PDF stored and does nothing.

Lock order, always: payment → refund → receipt counter → credit note counter (the refund
service locks booking → payment → refund; see :mod:`app.services.transactions`).

Tax (integer minor units, rounded half up): a provider's ``tax_rate_bp`` is in basis
points (1900 = 19 %). Inclusive prices: tax = gross × rate / (10000 + rate). Exclusive
prices: tax = net × rate / 10000, added on top. See :func:`tax_breakdown`.
"""
from __future__ import annotations

import hashlib
import io
import logging
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from flask import render_template
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import events, jobqueue
from app.errors import DomainError, NotFound
from app.extensions import db
from app.models import Account, Booking, Provider
from app.models.payments import PAYPAL, REFUND_SUCCEEDED, SUCCEEDED, Payment, Refund
from app.models.receipts import CREDIT_NOTE, RECEIPT, Receipt, ReceiptCounter
from app.models.types import utcnow
from app.services.money import format_money, tax_breakdown
from app.services import account_bookings, agenda, audit, event_payloads
from app.services.scopes import Scope, require_scope
from app.services.tenancy import scoped
from app.services.transactions import after_commit, unit_of_work
from app.gateways.object_storage import ObjectMissing, get_storage

log = logging.getLogger(__name__)

RENDER_JOB = "receipts.render"
RENDER_GRACE = timedelta(minutes=2)  # the job's head start before the sweep steps in
PREFIXES = {RECEIPT: "R", CREDIT_NOTE: "CN"}
TEMPLATE = "receipts/receipt.html"
FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
FONT_SCHEME = "bookwell-font:"


class RenderOutdated(RuntimeError):
    """What was rendered no longer matches the document: the job's retry renders anew."""


class ReceiptFileMissing(DomainError):
    """The stored PDF of an issued document is gone or altered: an operations problem."""

    status = 503


# --- tax and money -----------------------------------------------------------------------
# The arithmetic lives in app.services.money, shared with the booking's price.

def format_rate(rate_bp: int) -> str:
    return f"{Decimal(rate_bp or 0).scaleb(-2).normalize():f} %"


# --- numbering ---------------------------------------------------------------------------

def _next_number(provider_id: int, kind: str) -> int:
    """Advance the provider's counter for ``kind`` under its row lock (until commit)."""
    table = ReceiptCounter.__table__
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Race-safe creation: a concurrent first insert waits, then does nothing.
    db.session.execute(insert(table).values(provider_id=provider_id, kind=kind, last_number=0)
                       .on_conflict_do_nothing(index_elements=["provider_id", "kind"]))
    where = (table.c.provider_id == provider_id) & (table.c.kind == kind)
    last = db.session.execute(select(table.c.last_number).where(where)
                              .with_for_update()).scalar_one()
    db.session.execute(update(table).where(where).values(last_number=last + 1))
    return last + 1


def display_number(kind: str, number: int) -> str:
    return f"{PREFIXES[kind]}-{number:06d}"


# --- issuing -----------------------------------------------------------------------------

def issue_receipt(payment_id: int) -> Receipt | None:
    """The receipt of a succeeded payment, issued once; None while it has not succeeded.
    Its PDF is rendered after the commit (see :func:`render`)."""
    with unit_of_work():
        receipt = _issue_receipt(payment_id)
        receipt_id = receipt.id if receipt is not None else None
    return _reloaded(receipt_id)


def issue_credit_note(refund_id: int) -> Receipt | None:
    """The credit note of a succeeded refund, issued once (its receipt first if need be)."""
    with unit_of_work():
        note = _issue_credit_note(refund_id)
        note_id = note.id if note is not None else None
    return _reloaded(note_id)


def _reloaded(receipt_id: int | None) -> Receipt | None:
    # Delivered inline (no Redis), a consumer of receipt.generated may have closed the
    # session after the commit, detaching what was loaded before it: read it again.
    return db.session.get(Receipt, receipt_id) if receipt_id is not None else None


def receipt_on_payment(*, event_id: str, topic: str, payload: dict) -> None:
    """``payment.succeeded`` consumer; commits with the consumer's record of the event."""
    with unit_of_work(joins=True):
        _issue_receipt(payload["payment_id"])


def credit_note_on_refund(*, event_id: str, topic: str, payload: dict) -> None:
    """``payment.refunded`` consumer."""
    with unit_of_work(joins=True):
        _issue_credit_note(payload["refund_id"])


def _issue_receipt(payment_id: int) -> Receipt | None:
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id)
                                .with_for_update())
    if payment is None:
        raise NotFound("payment.not_found", f"No payment {payment_id}.")
    existing = db.session.scalar(select(Receipt).where(Receipt.payment_id == payment_id))
    if existing is not None:
        return existing
    if payment.status != SUCCEEDED:
        return None
    booking = db.session.get(Booking, payment.booking_id)
    provider = db.session.get(Provider, payment.provider_id)
    amount = booking.total_minor
    tax = tax_breakdown(amount, provider.tax_rate_bp, provider.tax_inclusive)
    number = _next_number(provider.id, RECEIPT)
    receipt = Receipt(provider_id=provider.id, kind=RECEIPT, number=number,
                      display_number=display_number(RECEIPT, number), booking_id=booking.id,
                      customer_id=booking.customer_id, payment_id=payment.id,
                      total_minor=tax.gross_minor, tax_minor=tax.tax_minor,
                      currency=booking.currency, issued_at=utcnow())
    db.session.add(receipt)
    db.session.flush()
    _issued(receipt)
    return receipt


def _issue_credit_note(refund_id: int) -> Receipt | None:
    # The payment before the refund: the lock order the refund service keeps too, so a
    # refund being changed while its credit note is issued waits instead of deadlocking.
    payment_id = db.session.scalar(select(Refund.payment_id).where(Refund.id == refund_id))
    if payment_id is not None:
        db.session.execute(select(Payment.id).where(Payment.id == payment_id).with_for_update())
    refund = db.session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update())
    if refund is None:
        raise NotFound("refund.not_found", f"No refund {refund_id}.")
    existing = db.session.scalar(select(Receipt).where(Receipt.refund_id == refund_id))
    if existing is not None:
        return existing
    if refund.status != REFUND_SUCCEEDED:
        return None
    original = _issue_receipt(refund.payment_id)
    if original is None:  # a refund succeeds only on a succeeded payment
        return None
    payment = db.session.get(Payment, refund.payment_id)
    provider = db.session.get(Provider, payment.provider_id)
    # A refund is money handed back: its tax is the share included in that amount.
    tax = tax_breakdown(-refund.amount_minor, provider.tax_rate_bp, True)
    number = _next_number(provider.id, CREDIT_NOTE)
    note = Receipt(provider_id=provider.id, kind=CREDIT_NOTE, number=number,
                   display_number=display_number(CREDIT_NOTE, number),
                   booking_id=payment.booking_id, customer_id=original.customer_id,
                   refund_id=refund.id, receipt_id=original.id,
                   total_minor=tax.gross_minor, tax_minor=tax.tax_minor,
                   currency=refund.currency, issued_at=utcnow())
    db.session.add(note)
    db.session.flush()
    _issued(note)
    return note


def _issued(document: Receipt) -> None:
    """Record the issue; once it is committed, the PDF is rendered by a job."""
    audit.record(f"{document.kind}.issued", entity="receipt", entity_id=document.id,
                 provider_id=document.provider_id,
                 changes={"display_number": document.display_number,
                          "total_minor": document.total_minor})
    after_commit(enqueue_render, document.id)


def enqueue_render(receipt_id: int) -> None:
    jobqueue.enqueue(RENDER_JOB, receipt_id, job_id=f"receipt-render-{receipt_id}")


# --- rendering and storing, after the commit ---------------------------------------------

def render(receipt_id: int) -> bool:
    """Render and store the PDF of an issued document, then publish ``receipt.generated``;
    does nothing for one already stored. Returns whether it stored the PDF.

    No lock is held while rendering. The document's row is locked for the store only, so
    that of two renders one stores and the other finds it done."""
    with unit_of_work():  # a read, ended before the rendering
        document = db.session.get(Receipt, receipt_id)
        if document is None:
            raise NotFound("receipt.not_found", f"No receipt {receipt_id}.")
        if document.sha256 is not None:
            return False
        context = _context_of(document)
        anonymous = document.personal_data_removed_at
    pdf = render_pdf(context)
    with unit_of_work():
        document = db.session.get(Receipt, receipt_id, with_for_update=True,
                                  populate_existing=True)
        if document.sha256 is not None:
            return False  # another render stored it meanwhile
        if document.personal_data_removed_at != anonymous:
            # The customer was erased while this rendered: never store what named them.
            raise RenderOutdated(f"receipt {receipt_id} changed while rendering")
        key = f"{document.provider_id}/{document.kind}/{document.display_number}.pdf"
        get_storage().put(key, pdf)
        document.storage_key = key
        document.sha256 = hashlib.sha256(pdf).hexdigest()
        document.size_bytes = len(pdf)
        audit.record(f"{document.kind}.stored", entity="receipt", entity_id=document.id,
                     provider_id=document.provider_id,
                     changes={"display_number": document.display_number,
                              "sha256": document.sha256})
        if anonymous is None:  # a re-print after an erasure is sent to nobody
            events.publish("receipt.generated",
                           event_payloads.receipt_generated(document, context["reference"]),
                           provider_id=document.provider_id)
    return True


def remove_personal_data(customer_id: int) -> list[int]:
    """Inside an erasure's unit of work: mark the customer's documents to be printed
    again without them, and re-print them after the commit (the same key, so the old
    file is replaced). A crash before the re-print leaves them without a stored PDF,
    which the sweep and any download render. Returns the documents' ids."""
    ids = db.session.scalars(select(Receipt.id).where(Receipt.customer_id == customer_id)
                             .order_by(Receipt.id).with_for_update()).all()
    if ids:
        db.session.execute(update(Receipt).where(Receipt.id.in_(ids)).values(
            personal_data_removed_at=utcnow(), sha256=None, size_bytes=None))
    for receipt_id in ids:
        after_commit(enqueue_render, receipt_id)
    return list(ids)


def sweep(*, now=None, limit: int = 100) -> int:
    """Render the PDFs a crash (or a failed render) left behind: documents issued more
    than ``RENDER_GRACE`` ago and still without a stored file. Returns how many it stored."""
    now = now or utcnow()
    with unit_of_work():  # a read
        ids = db.session.scalars(select(Receipt.id).where(
            Receipt.sha256.is_(None), Receipt.issued_at < now - RENDER_GRACE)
            .order_by(Receipt.id).limit(limit)).all()
    stored = 0
    for receipt_id in ids:
        try:
            stored += render(receipt_id)
        except Exception:
            log.exception("rendering receipt %s failed; the next sweep tries again",
                          receipt_id)
    return stored


def _context_of(document: Receipt) -> dict:
    booking = db.session.get(Booking, document.booking_id)
    provider = db.session.get(Provider, document.provider_id)
    if document.kind == RECEIPT:
        return _document(document, provider, booking,
                         db.session.get(Payment, document.payment_id))
    refund = db.session.get(Refund, document.refund_id)
    context = _document(document, provider, booking,
                        db.session.get(Payment, refund.payment_id))
    context.update(original=document.original.display_number, reason=refund.reason or "",
                   refund_amount=format_money(-refund.amount_minor, refund.currency))
    return context


# --- what the PDF says -------------------------------------------------------------------

def _document(receipt: Receipt, provider: Provider, booking: Booking,
              payment: Payment) -> dict:
    currency = booking.currency
    money = lambda amount: format_money(amount, currency)  # noqa: E731
    zone = agenda.zone_of(provider.timezone)
    customer = db.session.get(Account, booking.customer_id)
    offering, variant = booking.offering, booking.variant
    starts = (booking.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
              + f" ({provider.timezone})") if booking.starts_at else None
    refunds = db.session.execute(
        select(Refund.amount_minor, Refund.created_at, Refund.reason)
        .where(Refund.payment_id == payment.id, Refund.status == REFUND_SUCCEEDED)
        .order_by(Refund.id)).all()
    refunded = sum(row.amount_minor for row in refunds)
    if receipt.kind == CREDIT_NOTE:
        lines = [{"name": f"Refund: {offering.name}", "variant": variant.name if variant
                  else None, "quantity": 1, "unit": money(receipt.total_minor),
                  "total": money(receipt.total_minor), "starts": starts}]
    else:
        lines = [{"name": offering.name, "variant": variant.name if variant else None,
                  "quantity": booking.quantity, "unit": money(booking.unit_price_minor),
                  "total": money(booking.total_minor), "starts": starts}]
    name = " ".join(p for p in (customer.first_name, customer.last_name) if p).strip()
    return {
        "kind": receipt.kind, "title": "Credit note" if receipt.kind == CREDIT_NOTE
        else "Receipt", "number": receipt.display_number,
        "issued": receipt.issued_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        "provider": {"name": provider.name, "address": provider.address or "",
                     "tax_id": provider.tax_id or "", "email": provider.contact_email or ""},
        "customer": ({"name": "(personal data removed)", "email": ""}
                     if receipt.personal_data_removed_at is not None
                     else {"name": name or customer.email, "email": customer.email}),
        "reference": booking.reference, "lines": lines,
        "inclusive": provider.tax_inclusive if receipt.kind == RECEIPT else True,
        "tax_rate": format_rate(provider.tax_rate_bp), "has_tax": provider.tax_rate_bp > 0,
        "net": money(receipt.total_minor - receipt.tax_minor),
        "tax": money(receipt.tax_minor), "total": money(receipt.total_minor),
        "payment_method": "PayPal" if payment.gateway == PAYPAL
        else " · ".join(p for p in (payment.gateway, payment.method) if p),
        "paid": money(payment.received_minor if payment.received_minor is not None
                      else payment.amount_minor),
        "refunds": [{"amount": money(row.amount_minor), "reason": row.reason or "",
                     "date": row.created_at.astimezone(zone).strftime("%Y-%m-%d")}
                    for row in refunds],
        "refunded": money(refunded), "original": None, "reason": None,
        "refund_amount": None,
    }


def render_pdf(context: dict) -> bytes:
    """The document as a PDF: xhtml2pdf may read the shipped fonts and nothing else."""
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    html = render_template(TEMPLATE, doc=context, font=FONT_SCHEME)
    out = io.BytesIO()
    policy = ResourceAccessPolicy.server(base_dir=None, extra_roots=(FONT_DIR,),
                                         allow_remote=False)
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", link_callback=_font_link,
                            resource_policy=policy)
    if result.err:
        raise RuntimeError(f"rendering {context['number']} failed ({result.err} errors)")
    return out.getvalue()


_WARM_UP_DOCUMENT = {
    "kind": RECEIPT, "title": "Receipt", "number": "R-0", "issued": "2026-01-01 00:00 UTC",
    "provider": {"name": "-", "address": "", "tax_id": "", "email": ""},
    "customer": {"name": "-", "email": ""}, "reference": "-",
    "lines": [{"name": "-", "variant": None, "quantity": 1, "unit": "0", "total": "0",
               "starts": None}],
    "inclusive": True, "tax_rate": "0", "has_tax": False, "net": "0", "tax": "0",
    "total": "0", "payment_method": "-", "paid": "0", "refunds": [], "refunded": "0",
    "original": None, "reason": None, "refund_amount": None}


def warm_up() -> None:
    """Render a throw-away document: loads xhtml2pdf and reads the fonts, which cost the
    first receipt of a process about a second. A worker that forks per job calls it
    before forking, so no job pays it again."""
    render_pdf(_WARM_UP_DOCUMENT)


def _font_link(uri: str, rel) -> str:
    if uri.startswith(FONT_SCHEME):
        name = uri[len(FONT_SCHEME):]
        if "/" not in name and name.endswith(".ttf"):
            return str(FONT_DIR / name)
    return ""  # nothing else is fetched


# --- reading, resending ------------------------------------------------------------------

def pdf_of(receipt: Receipt) -> bytes:
    """The stored PDF, checked against its sha256; one not rendered yet (its job is late,
    or a crash lost it) is rendered now. A stored file that is gone or altered is never
    re-rendered: storage is the source of what the customer was sent."""
    if receipt.sha256 is None:
        render(receipt.id)
        receipt = db.session.get(Receipt, receipt.id, populate_existing=True)
    try:
        data = get_storage().get(receipt.storage_key or "")
    except (ObjectMissing, ValueError):
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != receipt.sha256:
        log.error("receipt %s: stored file %r missing or altered", receipt.id,
                  receipt.storage_key)
        raise ReceiptFileMissing("receipt.file_missing",
                                 f"The PDF of {receipt.display_number} is not available.")
    return data


def resend_receipt(receipt_id: int, *, scope: Scope) -> str:
    """Announce the document again (``resend``: true); the mail consumer sends it anew.
    Returns the new event's id."""
    require_scope(scope)
    with unit_of_work():
        receipt = receipt_for_provider(receipt_id, scope=scope)
        reference = db.session.scalar(select(Booking.reference).where(
            Booking.id == receipt.booking_id))
        payload = event_payloads.receipt_generated(receipt, reference, resend=True)
        event_id = events.publish("receipt.generated", payload,
                                  provider_id=receipt.provider_id)
        audit.record("receipt.resent", entity="receipt", entity_id=receipt.id,
                     provider_id=receipt.provider_id,
                     changes={"display_number": receipt.display_number})
    return event_id


def receipt_for_provider(receipt_id: int, *, scope: Scope) -> Receipt:
    require_scope(scope)
    receipt = db.session.scalar(scoped(select(Receipt).where(Receipt.id == receipt_id),
                                       Receipt, scope=scope))
    if receipt is None:
        raise NotFound("receipt.not_found", f"No receipt {receipt_id}.")
    return receipt


def receipt_for_customer(receipt_id: int, *, customer_id: int) -> Receipt:
    receipt = db.session.scalar(select(Receipt).where(Receipt.id == receipt_id,
                                                      Receipt.customer_id == customer_id))
    if receipt is None:
        raise NotFound("receipt.not_found", f"No receipt {receipt_id}.")
    return receipt


def booking_receipt_for_customer(reference: str, *, customer_id: int) -> Receipt:
    """The receipt (not a credit note) of the customer's own booking."""
    booking_id = db.session.scalar(select(Booking.id).where(
        Booking.reference == reference, Booking.customer_id == customer_id))
    if booking_id is None:
        raise NotFound("booking.not_found", f"No booking {reference}.")
    receipt = db.session.scalar(select(Receipt).where(
        Receipt.booking_id == booking_id, Receipt.kind == RECEIPT).order_by(Receipt.id))
    if receipt is None:
        raise NotFound("receipt.not_issued", f"No receipt has been issued for {reference} yet.")
    return receipt


def list_customer_receipts(*, customer_id: int, page: int, page_size: int
                           ) -> tuple[list[Receipt], int]:
    # What the account's holder sees through the account (see ``account_bookings``).
    where = (Receipt.customer_id == customer_id) & account_bookings.receipts_shown_to(
        customer_id)
    total = db.session.scalar(select(func.count()).select_from(Receipt).where(where))
    rows = db.session.scalars(select(Receipt).where(where)
                              .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
                              .offset((page - 1) * page_size).limit(page_size)).all()
    return list(rows), total
