"""The tenant: a provider that sells services and products on the platform."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Provider(db.Model):
    __audited__ = True
    __tablename__ = "provider"
    __table_args__ = (
        # A hex colour as the console saves it; the full check is the console's.
        CheckConstraint("brand_color IS NULL OR (length(brand_color) = 7 "
                        "AND substr(brand_color, 1, 1) = '#')", name="brand_color_hex"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # How online payments are taken; empty: the platform's PAYMENT_GATEWAY. Offerings
    # paid at the venue use the manual gateway whatever this says.
    payment_gateway: Mapped[str | None] = mapped_column(String(16))
    # On receipts: the legal address and tax id, and the tax included in (or added to)
    # prices, in basis points (1900 = 19 %).
    address: Mapped[str | None] = mapped_column(Text)
    tax_id: Mapped[str | None] = mapped_column(String(64))
    tax_rate_bp: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                             server_default="0")
    tax_inclusive: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                                server_default=true())
    # The storefront's provider page: what the provider says about itself, and its colour
    # (``#1f6feb``; its header band and buttons; the text on it is chosen for contrast).
    description: Mapped[str | None] = mapped_column(Text)
    brand_color: Mapped[str | None] = mapped_column(String(7))
    # TikTok Pixel code of this provider's storefront pages; empty: the platform's.
    tiktok_pixel_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    def __repr__(self) -> str:
        return self.name


class TenantOwned:
    """Mixin for every row that belongs to one provider: the tenancy filters key on it."""

    @declared_attr
    def provider_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("provider.id", ondelete="CASCADE"), nullable=False, index=True
        )

    @declared_attr
    def provider(cls) -> Mapped[Provider]:
        return relationship(Provider)
