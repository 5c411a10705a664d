"""One user table for console and API users: Flask-AppBuilder's ``ab_user``, extended."""
from __future__ import annotations

from datetime import datetime

from flask_appbuilder.security.sqla.models import User as FabUser
from sqlalchemy import (Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, false, func, true)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.tenancy import Provider
from app.models.types import UTCDateTime, utcnow


class Account(FabUser):
    """A person: platform admin, provider staff (``provider_id`` set) or customer."""
    __audited__ = True
    __audit_entity__ = "account"

    __tablename__ = "ab_user"

    provider_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="SET NULL"), nullable=True, index=True
    )
    phone: Mapped[str | None] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(16), nullable=False, default="en",
                                        server_default="en")
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC",
                                          server_default="UTC")
    marketing_consent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                    server_default=false())
    # Which channels booking messages may use; SMS also needs a phone and no STOP.
    notify_email: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                               server_default=true())
    notify_sms: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                             server_default=false())
    sms_opted_out: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                server_default=false())
    # Sign-ins from before it (refresh tokens, console and shop sessions) no longer count.
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the holder proved the address is theirs (a mailed link, or an identity provider
    # that asserts it verified); null while unproven. Changing the email clears it.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider: Mapped[Provider | None] = relationship(Provider, foreign_keys=[provider_id])
    # Read-only: the second factor is changed by app/services/second_factor.py alone.
    second_factor = relationship("SecondFactor", uselist=False, viewonly=True)

    @property
    def role_names(self) -> set[str]:
        return {role.name for role in self.roles}

    @property
    def two_factor(self) -> str:
        """Whether two-factor sign-in is on, for the console's user screens."""
        factor = self.second_factor
        return "On" if factor is not None and factor.confirmed_at is not None else "Off"

    @property
    def is_admin(self) -> bool:
        return "Admin" in self.role_names


# Emails are unique case-insensitively; this index settles sign-up races.
Index("uq_ab_user_email_lower", func.lower(Account.email), unique=True)


class RevokedToken(db.Model):
    """A refresh (or access) token id that must no longer be accepted."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SignInSession(db.Model):
    """One sign-in: an API token pair (kept across refreshes), a shop or a console session.
    Listed to its account, which can end it; ended when the password changes."""

    __tablename__ = "sign_in_session"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # api, shop or console
    device: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkedIdentity(db.Model):
    """A way to sign in through an identity provider (Google, Facebook, Apple): the
    provider's stable subject id, linked to one account."""

    __tablename__ = "linked_identity"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_linked_identity_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    provider: Mapped[str] = mapped_column(String(16), nullable=False)  # google, facebook, apple
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    # The address the provider asserted when linked (shown to the holder; may differ).
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInHandoff(db.Model):
    """A short-lived, single-use value one request of a social sign-in leaves for a later
    one: the code an app exchanges for tokens (``app_code``), or the name Apple posts
    once (``apple_name``). Only a hash of the key is kept."""

    __tablename__ = "sign_in_handoff"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    payload: Mapped[str | None] = mapped_column(Text)  # JSON
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class CalendarFeed(db.Model):
    """The secret address of an iCalendar feed: of one provider's bookings, or of one
    customer's own. One per owner; resetting it replaces the row (the old address stops
    working). Only a hash of the address's token is kept."""

    __tablename__ = "calendar_feed"
    __table_args__ = (
        CheckConstraint("(provider_id IS NULL) <> (account_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    provider_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("provider.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
