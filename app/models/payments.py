"""Payments, refunds and the webhook inbox: money is never lost, doubled or mis-attributed.

A ``Payment`` row is written before the gateway is called and updated after, so a crash in
between leaves a row that reconciliation can settle. Stripe's webhooks land in the
``PaymentEvent`` inbox (keyed by Stripe's event id) before anything acts on them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.bookings import Booking
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow

STRIPE, MANUAL, PAYPAL = "stripe", "manual", "paypal"
GATEWAYS = (STRIPE, MANUAL, PAYPAL)

# created: stored, the gateway not called yet (or the call failed). The rest mirror
# Stripe's PaymentIntent statuses, collapsed: requires_payment_method/confirmation →
# requires_payment; canceled → canceled; a declined attempt → failed.
CREATED, REQUIRES_PAYMENT, REQUIRES_ACTION, PROCESSING = (
    "created", "requires_payment", "requires_action", "processing")
SUCCEEDED, FAILED, CANCELED = "succeeded", "failed", "canceled"
PAYMENT_STATUSES = (CREATED, REQUIRES_PAYMENT, REQUIRES_ACTION, PROCESSING, SUCCEEDED,
                    FAILED, CANCELED)
# Not settled yet: reconciliation re-reads these from the gateway.
UNSETTLED = (CREATED, REQUIRES_PAYMENT, REQUIRES_ACTION, PROCESSING)

# Refunds: pending (stored, gateway not answered) → succeeded | retrying → failed.
REFUND_PENDING, REFUND_RETRYING = "pending", "retrying"
REFUND_SUCCEEDED, REFUND_FAILED = "succeeded", "failed"
REFUND_STATUSES = (REFUND_PENDING, REFUND_RETRYING, REFUND_SUCCEEDED, REFUND_FAILED)
# Counted against what was paid: a refund that may still go through.
REFUND_COUNTED = (REFUND_PENDING, REFUND_RETRYING, REFUND_SUCCEEDED)

# The webhook inbox: received → processed | ignored | failed (retried, then replayable).
EVENT_RECEIVED, EVENT_PROCESSED = "received", "processed"
EVENT_IGNORED, EVENT_FAILED = "ignored", "failed"
EVENT_STATUSES = (EVENT_RECEIVED, EVENT_PROCESSED, EVENT_IGNORED, EVENT_FAILED)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Payment(TenantOwned, db.Model):
    __tablename__ = "payment"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= amount_minor",
                        name="refunds_within_amount"),
        CheckConstraint(_in("status", PAYMENT_STATUSES), name="status_known"),
        CheckConstraint(_in("gateway", GATEWAYS), name="gateway_known"),
        Index("ix_payment_status_updated", "status", "updated_at"),
        # The dashboards count the payments flagged for staff: few among many.
        Index("ix_payment_attention", "provider_id",
              postgresql_where=text("attention IS NOT NULL"),
              sqlite_where=text("attention IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One payment per booking: paying again reuses it (a declined card retries the same
    # PaymentIntent), so a booking can never be charged twice.
    booking_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("booking.id", ondelete="RESTRICT"), nullable=False, unique=True)
    gateway: Mapped[str] = mapped_column(String(16), nullable=False)
    # Stripe's PaymentIntent id (pi_...) or PayPal's order id; empty for manual payments.
    provider_reference: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default=CREATED)
    # What the gateway says was received (may differ from amount_minor: then flagged).
    received_minor: Mapped[int | None] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    method: Mapped[str | None] = mapped_column(String(40))  # card, cash, ...
    failure_reason: Mapped[str | None] = mapped_column(Text)  # the gateway's words (staff)
    # The gateway's code for it (Stripe's decline_code, else its code): customers read a
    # sentence for it in their language (app.services.decline_reasons).
    failure_code: Mapped[str | None] = mapped_column(String(64))
    # Set when staff must look: an amount that does not match, a dispute, money received
    # for a booking that can no longer be confirmed.
    attention: Mapped[str | None] = mapped_column(Text)
    marked_paid_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While there is no provider_reference: when a request set out to create the intent.
    # Until that is a gateway timeout or so old, the others wait for it (409 payment.busy).
    intent_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    booking: Mapped[Booking] = relationship(Booking)
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment",
                                                 order_by="Refund.id")

    @property
    def refundable_minor(self) -> int:
        return max(0, (self.received_minor or 0) - self.refunded_minor)

    def __repr__(self) -> str:
        return f"payment {self.id}"


class Refund(TenantOwned, db.Model):
    __tablename__ = "refund"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(_in("status", REFUND_STATUSES), name="status_known"),
        Index("ix_refund_status_next", "status", "next_attempt_at"),
        UniqueConstraint("idempotency_record_id", name="uq_refund_idempotency_record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("payment.id", ondelete="RESTRICT"), nullable=False, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=REFUND_PENDING)
    reason: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    actor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    provider_reference: Mapped[str | None] = mapped_column(String(255), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    # The Idempotency-Key request that asked for it, stored with it (as for a booking).
    idempotency_record_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("idempotency_record.id", ondelete="SET NULL"))

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    actor = relationship("Account", foreign_keys=[actor_id])

    def __repr__(self) -> str:
        return f"refund {self.id}"


class PaymentEvent(db.Model):
    """A webhook as received, stored before it is acted on; one row per gateway event."""

    __tablename__ = "payment_event"
    __table_args__ = (
        CheckConstraint(_in("status", EVENT_STATUSES), name="status_known"),
        Index("ix_payment_event_status_received", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16), nullable=False, default=STRIPE)
    event_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(80), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    # Known once the event is matched to a payment; the console scopes the inbox by it.
    provider_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="SET NULL"), index=True)
    payment_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("payment.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=EVENT_RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    outcome: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider = relationship("Provider")
    payment: Mapped[Payment | None] = relationship(Payment)

    def __repr__(self) -> str:
        return f"{self.type} {self.event_id}"
