"""What providers sell: categories, locations, offerings (services and products), variants."""
from __future__ import annotations

from datetime import datetime

from babel.numbers import get_currency_precision
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import false

from app.extensions import db
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow

SERVICE = "service"
PRODUCT = "product"
OFFERING_KINDS = (SERVICE, PRODUCT)


class Category(TenantOwned, db.Model):
    """A node in a provider's category tree."""

    __tablename__ = "category"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("category.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return self.name


class Location(TenantOwned, db.Model):
    """A place where services happen; geocoded from its address when a Maps key is set."""

    __tablename__ = "location"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat_range"),
        CheckConstraint("lng IS NULL OR (lng >= -180 AND lng <= 180)", name="lng_range"),
        Index("ix_location_lat_lng", "lat", "lng"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    address: Mapped[str] = mapped_column(Text, nullable=False, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    place_id: Mapped[str | None] = mapped_column(String(255))
    geocoded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # manual | pending | ok | zero_results | denied | error
    geocode_status: Mapped[str] = mapped_column(String(20), nullable=False, default="manual")
    geocode_error: Mapped[str | None] = mapped_column(String(500))

    @property
    def coordinates(self) -> tuple[float, float] | None:
        return None if self.lat is None or self.lng is None else (self.lat, self.lng)

    def __repr__(self) -> str:
        return self.name


class Offering(TenantOwned, db.Model):
    """A bookable service (time slots with capacity) or a product (stock on variants)."""

    __tablename__ = "offering"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("kind IN ('service', 'product')", name="kind"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint(
            "kind = 'product' OR (duration_minutes IS NOT NULL AND duration_minutes > 0)",
            name="service_has_duration",
        ),
        CheckConstraint("min_notice_minutes >= 0 AND min_notice_minutes <= 525600",
                        name="min_notice_range"),
        CheckConstraint("booking_horizon_days >= 1 AND booking_horizon_days <= 3650",
                        name="booking_horizon_range"),
        CheckConstraint("max_active_bookings_per_customer IS NULL OR "
                        "max_active_bookings_per_customer > 0",
                        name="max_active_bookings_positive"),
        CheckConstraint("max_held_places_per_customer IS NULL OR "
                        "max_held_places_per_customer > 0", name="max_held_places_positive"),
        CheckConstraint("buffer_before_minutes >= 0 AND buffer_before_minutes <= 1440 AND "
                        "buffer_after_minutes >= 0 AND buffer_after_minutes <= 1440",
                        name="buffers_range"),
        Index("ix_offering_provider_active", "provider_id", "active"),
        Index("ix_offering_active_price", "active", "price_minor"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default=SERVICE)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    price_minor: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    location_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("location.id", ondelete="SET NULL"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("category.id", ondelete="SET NULL"), index=True
    )
    image_urls: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # Bookings may be paid at the venue (confirmed without online payment).
    pay_at_venue: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                               server_default=false())
    # Customers cancel free of charge until this many hours before the start.
    free_cancellation_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=24,
                                                         server_default="24")
    # Booking rules (app/services/booking_rules.py asks them of every booking and move):
    # no booking starting sooner than this, or later than this many days ahead.
    min_notice_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                                    server_default="0")
    booking_horizon_days: Mapped[int] = mapped_column(Integer, nullable=False, default=60,
                                                      server_default="60")
    # Per customer, None: no limit. Bookings still to come (held or confirmed), and places
    # held unpaid, so that one customer cannot hold a whole class.
    max_active_bookings_per_customer: Mapped[int | None] = mapped_column(Integer)
    max_held_places_per_customer: Mapped[int | None] = mapped_column(Integer)
    # Time the resources need before and after each booking (preparing, cleaning up):
    # taken from them, never shown to the customer.
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                                       server_default="0")
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                                      server_default="0")
    # True: everyone booked on one time shares its resources (a class and its teacher);
    # False: each booking has them to itself (an appointment).
    resources_shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                   server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    location: Mapped[Location | None] = relationship(Location)
    category: Mapped[Category | None] = relationship(Category)
    resources = relationship("Resource", secondary="offering_resource",
                             back_populates="offerings", order_by="Resource.name")
    variants: Mapped[list[Variant]] = relationship(
        back_populates="offering", cascade="all, delete-orphan", order_by="Variant.id"
    )

    @property
    def price_display(self) -> str:
        """19.99 EUR: minor units shown with the currency's own number of decimals."""
        digits = get_currency_precision(self.currency or "EUR")
        return f"{self.price_minor / 10 ** digits:.{digits}f} {self.currency}"

    def __repr__(self) -> str:
        return self.name


class Variant(TenantOwned, db.Model):
    """A sellable variant: its own SKU, an optional price override, stock for products."""

    __tablename__ = "variant"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("provider_id", "sku", name="uq_variant_provider_sku"),
        CheckConstraint("price_minor IS NULL OR price_minor >= 0", name="price_not_negative"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offering_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("offering.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    price_minor: Mapped[int | None] = mapped_column(BigInteger)
    stock: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    offering: Mapped[Offering] = relationship(back_populates="variants")

    def __repr__(self) -> str:
        return f"{self.name} ({self.sku})"
