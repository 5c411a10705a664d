"""Receipts and credit notes: numbered per provider without gaps, stored as PDFs.

Numbers come from a ``ReceiptCounter`` row per (provider, kind), locked and advanced in
the transaction that issues the document, never from max()+1: two issuers serialise on
the row, and a rolled-back issue gives its number back with it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow

RECEIPT, CREDIT_NOTE = "receipt", "credit_note"
DOCUMENT_KINDS = (RECEIPT, CREDIT_NOTE)


class ReceiptCounter(db.Model):
    __tablename__ = "receipt_counter"
    __table_args__ = (CheckConstraint("kind IN ('receipt', 'credit_note')", name="kind_known"),)

    provider_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Receipt(TenantOwned, db.Model):
    """A receipt (for a payment) or a credit note (for a refund, referencing its receipt)."""

    __tablename__ = "receipt"
    __table_args__ = (
        UniqueConstraint("provider_id", "kind", "number", name="uq_receipt_number"),
        CheckConstraint("kind IN ('receipt', 'credit_note')", name="kind_known"),
        CheckConstraint("number >= 1", name="number_positive"),
        Index("ix_receipt_customer_issued", "customer_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    # What is printed: e.g. "R-000042" or "CN-000007", per provider.
    display_number: Mapped[str] = mapped_column(String(40), nullable=False)
    booking_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("booking.id", ondelete="RESTRICT"), nullable=False, index=True)
    customer_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="RESTRICT"), nullable=False)
    # A receipt is issued once per payment, a credit note once per refund.
    payment_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("payment.id", ondelete="RESTRICT"), unique=True)
    refund_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("refund.id", ondelete="RESTRICT"), unique=True)
    receipt_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("receipt.id", ondelete="RESTRICT"), index=True)
    total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    storage_key: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # The customer was erased: the numbers stay (tax law), the PDF names nobody.
    personal_data_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    booking = relationship("Booking")
    customer = relationship("Account", foreign_keys=[customer_id])
    payment = relationship("Payment")
    refund = relationship("Refund")
    original: Mapped[Receipt | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return self.display_number
