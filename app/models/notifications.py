"""Message templates and every message sent (or tried), by email or SMS."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow

EMAIL, SMS = "email", "sms"
CHANNELS = (EMAIL, SMS)
# Messages to the customer, then messages to the provider's staff (``staff_*``).
STAFF_TEMPLATE_KEYS = ("staff_booking_new", "staff_booking_awaiting_confirmation",
                       "staff_booking_cancelled", "staff_booking_rescheduled",
                       "staff_webhook_disabled")
TEMPLATE_KEYS = ("booking_confirmed", "booking_cancelled", "booking_rescheduled",
                 "booking_reminder", "waitlist_offered", "payment_declined", "payment_failed", "payment_refunded",
                 "receipt", "registration_attempt", "password_reset", "email_verification",
                 *STAFF_TEMPLATE_KEYS)
# queued → sending → sent | failed; a transient failure goes back to queued for a retry.
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
NOTIFICATION_STATUSES = (QUEUED, SENDING, SENT, FAILED)


class NotificationTemplate(db.Model):
    """A platform default (``provider_id`` empty) or one provider's override."""

    __tablename__ = "notification_template"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms')", name="channel_known"),
        # One default and at most one override per provider, for each key/channel/locale.
        Index("uq_notification_template_default", "key", "channel", "locale", unique=True,
              postgresql_where=text("provider_id IS NULL"),
              sqlite_where=text("provider_id IS NULL")),
        Index("uq_notification_template_override", "provider_id", "key", "channel", "locale",
              unique=True, postgresql_where=text("provider_id IS NOT NULL"),
              sqlite_where=text("provider_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40), nullable=False)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    locale: Mapped[str] = mapped_column(String(16), nullable=False, default="en")
    subject: Mapped[str | None] = mapped_column(String(300))  # email only
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str | None] = mapped_column(Text)  # email only
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    provider = relationship("Provider")

    def __repr__(self) -> str:
        return f"{self.key} ({self.channel}, {self.locale})"


class Notification(db.Model):
    """One message to one recipient, created in the transaction of the change it tells
    about, sent by a job that acts only while it is in a sendable state."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms')", name="channel_known"),
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')",
                        name="status_known"),
        Index("ix_notification_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    receipt_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("receipt.id", ondelete="SET NULL"))  # attached to the email
    # Makes each message once: e.g. "<outbox event id>:email", "reminder:<booking>:sms".
    dedupe_key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    template_key: Mapped[str] = mapped_column(String(40), nullable=False)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    recipient: Mapped[str] = mapped_column(String(320), nullable=False)
    locale: Mapped[str] = mapped_column(String(16), nullable=False, default="en")
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    provider_message_id: Mapped[str | None] = mapped_column(String(120), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(40))  # from the carrier
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    provider = relationship("Provider")
    booking = relationship("Booking")
    customer = relationship("Account", foreign_keys=[customer_id])

    def __repr__(self) -> str:
        return f"{self.template_key} {self.channel} → {self.recipient}"


class StaffNotificationSetting(TenantOwned, db.Model):
    """Which booking events a provider's staff are emailed about, and at which addresses.

    A provider without a row gets the defaults: every event, to its staff accounts."""

    __tablename__ = "staff_notification_setting"
    __audited__ = True
    __table_args__ = (UniqueConstraint("provider_id"),)  # one row per provider

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    on_new: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                         server_default=true())
    on_awaiting_confirmation: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                                           server_default=true())
    on_cancelled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                               server_default=true())
    on_rescheduled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                                 server_default=true())
    # Send to the emails of the provider's active staff accounts (as well as the extras).
    to_staff_accounts: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                                    server_default=true())
    # More addresses, one per line, normalised (lower case) when saved.
    extra_addresses: Mapped[str] = mapped_column(Text, nullable=False, default="",
                                                 server_default="")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return "Staff notifications"
