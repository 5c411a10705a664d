"""Conversion events sent to ad platforms (TikTok's Events API), with their delivery log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow

# queued → sending → sent | failed; a retryable failure goes back to queued.
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
CONVERSION_STATUSES = (QUEUED, SENDING, SENT, FAILED)


class ConversionEvent(TenantOwned, db.Model):
    __tablename__ = "conversion_event"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')",
                        name="status_known"),
        Index("ix_conversion_event_status_next", "status", "next_attempt_at"),
        Index("ix_conversion_event_provider_created", "provider_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), nullable=False, default="tiktok")
    # Shared with the browser Pixel so the platform deduplicates; one row per event id.
    event_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    event_name: Mapped[str] = mapped_column(String(40), nullable=False)
    booking_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    # The body as sent: identifiers hashed, never raw email or phone.
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer)
    response_code: Mapped[int | None] = mapped_column(Integer)
    response_message: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    booking = relationship("Booking")

    def __repr__(self) -> str:
        return f"{self.event_name} {self.event_id}"
