"""When services can be booked: weekly rules in the provider's zone, closed days, slots."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.catalog import Offering
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class AvailabilityRule(TenantOwned, db.Model):
    """Opening hours for one weekday, in the provider's local time, cut into slots."""

    __tablename__ = "availability_rule"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="end_after_start"),
        CheckConstraint("slot_minutes > 0", name="slot_minutes_positive"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offering_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("offering.id", ondelete="CASCADE"), nullable=False, index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # Monday = 0
    start_time: Mapped[time] = mapped_column(Time, nullable=False)
    end_time: Mapped[time] = mapped_column(Time, nullable=False)
    slot_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[date | None] = mapped_column(Date)

    offering: Mapped[Offering] = relationship(Offering)

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday]

    def __repr__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class ClosedDay(TenantOwned, db.Model):
    """A local date with no slots: for one offering, or the whole provider when unset."""

    __tablename__ = "closed_day"
    __audited__ = True
    __table_args__ = (
        UniqueConstraint("provider_id", "offering_id", "day", name="uq_closed_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offering_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("offering.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    offering: Mapped[Offering | None] = relationship(Offering)


class TimeOff(TenantOwned, db.Model):
    """A period with no slots (holiday, training, a late start): from one moment to another,
    stored in UTC, for one offering or the whole provider when unset. Slots inside are
    removed, or retired where they have bookings, like slots no rule asks for."""

    __tablename__ = "time_off"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_time_off_provider_ends", "provider_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offering_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("offering.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    offering: Mapped[Offering | None] = relationship(Offering)


class Slot(TenantOwned, db.Model):
    """A bookable time of a service, in UTC, with the places taken so far.

    A slot no rule produces any more is deleted if nobody ever booked it, else retired:
    kept for its bookings' history, but neither listed nor bookable (``retired_at``).
    """

    __tablename__ = "slot"
    __table_args__ = (
        UniqueConstraint("offering_id", "starts_at", name="uq_slot_offering_start"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        # The last line of defence against overbooking.
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        # Covering what the dashboards add up (places booked and offered per offering).
        Index("ix_slot_starts_at", "starts_at",
              postgresql_include=["provider_id", "offering_id", "booked", "capacity",
                                  "retired_at"]),
        Index("ix_slot_provider_starts", "provider_id", "starts_at",
              postgresql_include=["offering_id", "booked", "capacity", "retired_at"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offering_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("offering.id", ondelete="CASCADE"), nullable=False
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    booked: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time a booking of it takes of its resources, the offering's buffers included;
    # None: the slot's own start and end (``app.services.resource_time``).
    resource_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resource_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offering: Mapped[Offering] = relationship(Offering)

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    @property
    def remaining(self) -> int:
        return self.capacity - self.booked
