"""Bookings: a customer's hold on slot places or variant stock, through its life."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.availability import Slot
from app.models.catalog import Offering, Variant
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow

PENDING, CONFIRMED, COMPLETED, NO_SHOW = "pending", "confirmed", "completed", "no_show"
EXPIRED, CANCELLED, REFUNDED = "expired", "cancelled", "refunded"
STATUSES = (PENDING, CONFIRMED, COMPLETED, NO_SHOW, EXPIRED, CANCELLED, REFUNDED)
# The statuses whose places are taken on the slot (or stock held on the variant).
HOLDING = (PENDING, CONFIRMED, COMPLETED, NO_SHOW)
# Waiting for staff: a pay-at-venue booking not confirmed yet (a partial index's condition).
AWAITING = "status = 'pending' AND pay_at_venue"


class Booking(TenantOwned, db.Model):
    __tablename__ = "booking"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'completed', 'no_show', 'expired', "
            "'cancelled', 'refunded')", name="status_known"),
        CheckConstraint("slot_id IS NOT NULL OR variant_id IS NOT NULL", name="has_a_target"),
        Index("ix_booking_customer_created", "customer_id", "created_at"),
        # The per-customer limits of an offering count these.
        Index("ix_booking_customer_offering_status", "customer_id", "offering_id", "status"),
        Index("ix_booking_status_hold", "status", "hold_expires_at"),
        # By start time, one provider's and every provider's, covering the figures the
        # dashboards add up; the pay-at-venue bookings waiting for staff to confirm them;
        # by creation (the bookings list's order).
        Index("ix_booking_provider_starts", "provider_id", "starts_at",
              postgresql_include=["status", "currency", "total_minor"]),
        # With the id: lists ordered by (start, id), as the console's are, stop reading
        # after their page even when hundreds of bookings share a start.
        Index("ix_booking_starts", "starts_at", "id",
              postgresql_include=["provider_id", "status", "currency", "total_minor"]),
        Index("ix_booking_awaiting", "provider_id", "starts_at",
              postgresql_where=text(AWAITING), sqlite_where=text(AWAITING)),
        Index("ix_booking_awaiting_starts", "starts_at",
              postgresql_where=text(AWAITING), sqlite_where=text(AWAITING)),
        Index("ix_booking_provider_created", "provider_id", "created_at"),
        Index("ix_booking_created", "created_at"),
        UniqueConstraint("idempotency_record_id", name="uq_booking_idempotency_record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    customer_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="RESTRICT"), nullable=False)
    offering_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("offering.id", ondelete="RESTRICT"), nullable=False, index=True)
    slot_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("slot.id", ondelete="RESTRICT"), index=True)
    variant_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("variant.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    pay_at_venue: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Placed without signing in (guest checkout), to whichever account has the address:
    # ``account_bookings`` keeps it from an account whose address is not proven.
    placed_as_guest: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                  server_default=false())
    # Copied from the slot so that lists and the agenda need no join; UTC.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    # The Idempotency-Key request that placed it, written in the same statement: a retry
    # after a crash finds the booking by it, and the key places one booking at most.
    idempotency_record_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("idempotency_record.id", ondelete="SET NULL"))

    customer = relationship("Account", foreign_keys=[customer_id])
    offering: Mapped[Offering] = relationship(Offering)
    slot: Mapped[Slot | None] = relationship(Slot)
    variant: Mapped[Variant | None] = relationship(Variant)
    history: Mapped[list[BookingHistory]] = relationship(
        back_populates="booking", order_by="BookingHistory.id")
    attribution_row: Mapped[Attribution | None] = relationship(
        back_populates="booking", uselist=False)
    # The staff, rooms and equipment whose time it holds (none once it gave it back).
    resource_bookings = relationship("ResourceBooking", viewonly=True,
                                     order_by="ResourceBooking.id")

    def __repr__(self) -> str:
        return self.reference


class BookingHistory(TenantOwned, db.Model):
    """One row per transition: who moved the booking from where to where, and why."""

    __tablename__ = "booking_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("booking.id", ondelete="CASCADE"), nullable=False, index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="history")
    actor = relationship("Account", foreign_keys=[actor_id])

    def __repr__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"


class Attribution(db.Model):
    """Where the customer came from, captured with the booking (first touch)."""

    __tablename__ = "attribution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("booking.id", ondelete="CASCADE"), nullable=False, unique=True)
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    ttclid: Mapped[str | None] = mapped_column(String(200))
    ttp: Mapped[str | None] = mapped_column(String(200))  # TikTok's _ttp cookie
    landing_url: Mapped[str | None] = mapped_column(String(2000))
    referrer: Mapped[str | None] = mapped_column(String(2000))
    consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="attribution_row")
