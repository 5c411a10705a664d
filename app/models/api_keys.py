"""Provider API keys: how a provider's own systems call the provider API without a
person's password, and the record of every call made with one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow


class ProviderApiKey(TenantOwned, db.Model):
    """One key of one provider. The secret is never stored: only the SHA-256 of the whole
    key; the prefix (``bwk_`` and 8 characters) is visible and finds the row.

    Not Flask-AppBuilder's ``ApiKey`` (``ab_api_key``): that one belongs to a person
    (deleted with the account) and knows no provider; a provider's integration must
    outlive the staff member who set it up, and tenancy filters on ``provider_id``."""

    __audited__ = True
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    scopes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(64))

    created_by = relationship("Account", foreign_keys=[created_by_id])
    revoked_by = relationship("Account", foreign_keys=[revoked_by_id])

    @property
    def label(self) -> str:
        """How the audit trail and the call record name the key."""
        return f"API key '{self.name}' ({self.prefix})"

    def __repr__(self) -> str:
        return self.label


class ApiKeyCall(db.Model):
    """One call made with a key: one insert per call, pruned after
    ``API_KEY_CALL_RETENTION_DAYS``."""

    __tablename__ = "api_key_call"
    __table_args__ = (Index("ix_api_key_call_key_at", "api_key_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("api_key.id", ondelete="CASCADE"), nullable=False)
    provider_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow,
                                         index=True)
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    path: Mapped[str] = mapped_column(String(300), nullable=False)
    status_code: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))

    api_key = relationship(ProviderApiKey)
