"""Who changed what, written in the same transaction as the change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.tenancy import Provider
from app.models.types import UTCDateTime, utcnow


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"), index=True
    )
    # Nullable: platform-level changes belong to no provider; the trail outlives a deleted provider.
    provider_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    entity: Mapped[str] = mapped_column(String(80), nullable=False)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
    # A change made through a provider API key names the key (actor_id is then empty).
    api_key_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("api_key.id", ondelete="SET NULL"))

    actor = relationship("Account", foreign_keys=[actor_id])
    api_key = relationship("ProviderApiKey", foreign_keys=[api_key_id])
    provider: Mapped[Provider | None] = relationship(Provider)

    def __repr__(self) -> str:
        return f"{self.action} {self.entity}#{self.entity_id}"
