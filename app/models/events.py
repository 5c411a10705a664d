"""The transactional outbox and the record of which consumer handled which event."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

# queued (committed, not yet handled) → done | retrying (a consumer failed, the job retries)
# → failed (retries used up; replay from the console)
QUEUED, RETRYING, DONE, FAILED = "queued", "retrying", "done", "failed"


class OutboxEvent(db.Model):
    """Written in the same transaction as the change it announces; dispatched after."""

    __tablename__ = "outbox_event"
    __table_args__ = (
        Index("ix_outbox_event_status_created", "status", "created_at"),
        Index("ix_outbox_event_webhooks_pending", "created_at",
              postgresql_where=text("webhooks_pending"), sqlite_where=text("webhooks_pending")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4
    topic: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    provider_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Set when the sweep (or a replay) hands the event over again; None: only the commit did.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Waiting for the webhook fan-out, which reads the marked rows itself
    # (``app.services.webhook_fanout.fan_out_marked``): no job per event in the request.
    webhooks_pending: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                   server_default=false())
    # The W3C ``traceparent`` of the span that published the event (``app.tracing``): its
    # delivery, whichever job runs it, joins that trace. None when tracing is off.
    trace_context: Mapped[str | None] = mapped_column(String(55))

    def __repr__(self) -> str:
        return f"{self.topic} {self.id[:8]}"


class ConsumedEvent(db.Model):
    """A consumer handled an event: the unique key makes every consumer idempotent."""

    __tablename__ = "consumed_event"
    __table_args__ = (UniqueConstraint("consumer", "event_id", name="uq_consumed_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consumer: Mapped[str] = mapped_column(String(120), nullable=False)
    event_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("outbox_event.id", ondelete="CASCADE"), nullable=False,
        index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class IdempotencyRecord(db.Model):
    """The first response to a create request, replayed for the same key and body."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    endpoint: Mapped[str] = mapped_column(String(200), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: first request running
    response_body: Mapped[dict | list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True)
    # While status_code is None: the running request holds the key until then; None (rows
    # from before leases) counts as expired. A retry after it takes the key over.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which holder of the lease this is (1 the first request, +1 per takeover): only the
    # current holder may record the answer or give the key up.
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=1,
                                         server_default="1")
