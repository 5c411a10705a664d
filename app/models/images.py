"""Pictures customers see: an offering's picture and a provider's logo.

The files live in object storage (``app.gateways.object_storage``, the images area) under
``storage_key``: ``large.<ext>`` (at most 1600 px) and ``thumb.<ext>`` (at most 480 px). A
row is never changed: a new upload is a new row (and a new address, so browsers may keep
an image for long), the old one is deleted with it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.catalog import Offering
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow

LOGO = "logo"
OFFERING_PICTURE = "offering"
IMAGE_ROLES = (LOGO, OFFERING_PICTURE)
_LOGO_ROW = text("role = 'logo'")


class Image(TenantOwned, db.Model):
    __tablename__ = "image"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("role IN ('logo', 'offering')", name="role"),
        CheckConstraint("(role = 'offering') = (offering_id IS NOT NULL)",
                        name="offering_picture_has_offering"),
        CheckConstraint("width > 0 AND height > 0 AND thumb_width > 0 AND thumb_height > 0",
                        name="has_size"),
        # One picture per offering, one logo per provider.
        Index("uq_image_offering", "offering_id", unique=True),
        Index("uq_image_provider_logo", "provider_id", unique=True,
              postgresql_where=_LOGO_ROW, sqlite_where=_LOGO_ROW),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(10), nullable=False)
    offering_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("offering.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    thumb_width: Mapped[int] = mapped_column(Integer, nullable=False)
    thumb_height: Mapped[int] = mapped_column(Integer, nullable=False)
    byte_size: Mapped[int] = mapped_column(Integer, nullable=False)
    # What the picture shows, for people who cannot see it.
    alt_text: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    offering: Mapped[Offering | None] = relationship(Offering)

    @property
    def version(self) -> str:
        """Unique to this upload (the last part of its storage key), for its address: row
        ids may be used again (SQLite), an upload's address never is."""
        return self.storage_key.rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return self.alt_text or f"{self.role} picture"
