"""Outgoing webhooks: the addresses integrators register, each message sent to one of them
and every attempt to send it.

An endpoint belongs to one provider, or to the platform (``provider_id`` NULL: it hears
every provider's events and only platform admins see it). A provider scope filters on
``provider_id = <own id>``, which no NULL matches, so platform rows stay invisible to it.

A delivery is one event for one endpoint: its body is built once, when the event is fanned
out, so every attempt sends the same bytes under the same ``webhook-id``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.tenancy import Provider
from app.models.types import UTCDateTime, utcnow

URL_LENGTH = 2000
DESCRIPTION_LENGTH = 300
SECRET_LENGTH = 100
ERROR_LENGTH = 500
EXCERPT_BYTES = 2048

# pending (waiting for its first or next attempt) → succeeded | failed (given up or refused
# by the receiver) | cancelled (its endpoint was disabled or deleted before it went out).
PENDING, SUCCEEDED, FAILED, CANCELLED = "pending", "succeeded", "failed", "cancelled"
DELIVERY_STATUSES = (PENDING, SUCCEEDED, FAILED, CANCELLED)


class WebhookEndpoint(db.Model):
    __audited__ = True
    __tablename__ = "webhook_endpoint"
    __table_args__ = (
        CheckConstraint("version IN ('1')", name="version_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL: a platform endpoint (admins only), which hears every provider's events.
    provider_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(URL_LENGTH), nullable=False)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_LENGTH), nullable=False,
                                             default="", server_default="")
    # Public topic names (``booking.confirmed``); a JSON list works on both databases.
    topics: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                         server_default=true())
    # True: one delivery at a time, in the order the events happened.
    ordered: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                          server_default=false())
    # The payload version the receiver was built for; a breaking change gets a new one.
    version: Mapped[str] = mapped_column(String(8), nullable=False, default="1",
                                         server_default="1")
    # ``whsec_`` + base64 of random bytes (Standard Webhooks); never shown after creation
    # or rotation, never in the audit log.
    secret: Mapped[str] = mapped_column(String(SECRET_LENGTH), nullable=False)
    # After a rotation the old secret signs too until it expires (the overlap window).
    previous_secret: Mapped[str | None] = mapped_column(String(SECRET_LENGTH))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed attempts in a row (any delivery) and since when; reset by a success.
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                                      server_default="0")
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Until then its deliveries go to the ``webhooks_slow`` queue: an attempt took longer
    # than ``WEBHOOK_SLOW_AFTER_SECONDS`` (or timed out), so it must not hold up the others.
    slow_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    # Since when it hears what it hears (made, enabled, or its topics changed): the events
    # just after are fanned out to it once more (``webhook_fanout.catch_up``).
    listening_since: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False,
                                                      default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                                 onupdate=utcnow)

    provider: Mapped[Provider | None] = relationship(Provider)

    def __repr__(self) -> str:
        return self.description or self.url


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # Fan-out is idempotent: one delivery per (endpoint, event). Test events and
        # redeliveries of the same message reuse their row or have no event.
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_endpoint_event"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed', 'cancelled')",
                        name="status_known"),
        Index("ix_webhook_delivery_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_endpoint_order", "endpoint_id", "occurred_at", "id"),
        Index("ix_webhook_delivery_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=False)
    # The event's provider (tenancy); NULL only for a platform endpoint's test event.
    provider_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    # The outbox event (no foreign key: the outbox may be pruned, the log stays).
    event_id: Mapped[str | None] = mapped_column(String(36))
    # ``webhook-id``: the same on every attempt of this delivery (receivers dedupe on it).
    message_id: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    topic: Mapped[str] = mapped_column(String(80), nullable=False)
    # The JSON body, built at fan-out: every attempt sends these bytes.
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                          server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the event happened: ordered endpoints get their deliveries in this order.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship(WebhookEndpoint)

    def __repr__(self) -> str:
        return f"{self.topic} {self.message_id}"


class WebhookAttempt(db.Model):
    __tablename__ = "webhook_attempt"
    __table_args__ = (
        Index("ix_webhook_attempt_delivery_attempted", "delivery_id", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("webhook_delivery.id", ondelete="CASCADE"), nullable=False)
    provider_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # The headers as sent, signatures shortened (a signature is not the secret, but the
    # log needs no more of it to be useful); the body is the delivery's payload.
    request_headers: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    response_status: Mapped[int | None] = mapped_column(Integer)
    # The first ``EXCERPT_BYTES`` of the answer, as text.
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # What went wrong, in words (timeout, refused address, connection refused, 500 ...).
    error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    # timeout, network, refused, http, redirect; None for a 2xx.
    error_kind: Mapped[str | None] = mapped_column(String(16))

    delivery: Mapped[WebhookDelivery] = relationship(WebhookDelivery)
