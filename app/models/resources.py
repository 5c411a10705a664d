"""Resources: the staff, rooms and equipment a provider's services need, and their time.

An offering linked to resources needs one of each kind among them (a stylist and a chair).
A booking of it takes that time of the resources it was given (``resource_booking``, its
buffers included); time off and other busy times block them too (``resource_busy``).
PostgreSQL refuses two overlapping times of one resource with an exclusion constraint
(see the migration ``20261205_resources``).
"""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Time,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow

STAFF, ROOM, EQUIPMENT = "staff", "room", "equipment"
RESOURCE_KINDS = (STAFF, ROOM, EQUIPMENT)

# Which resources can perform an offering (one of each kind is needed).
offering_resource = Table(
    "offering_resource", db.metadata,
    Column("offering_id", Integer, ForeignKey("offering.id", ondelete="CASCADE"),
           primary_key=True),
    Column("resource_id", Integer, ForeignKey("resource.id", ondelete="CASCADE"),
           primary_key=True, index=True),
)


class Resource(TenantOwned, db.Model):
    __tablename__ = "resource"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("kind IN ('staff', 'room', 'equipment')", name="kind_known"),
        UniqueConstraint("provider_id", "name", name="uq_resource_provider_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default=STAFF)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                         server_default=true())
    # False: no weekly hours set, so the resource is there whenever its offerings are.
    keeps_hours: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                              server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    offerings = relationship("Offering", secondary=offering_resource,
                             back_populates="resources")

    def __repr__(self) -> str:
        return self.name


class ResourceBooking(TenantOwned, db.Model):
    """The time a booking takes of one resource, from its buffer before to its buffer
    after; deleted when the booking gives its places back.

    ``share_key`` says who may overlap: ``booking:<id>`` for a booking that has the
    resource to itself (an appointment), ``slot:<id>`` for the bookings of one time of an
    offering whose resources are shared (a class and its teacher): rows with the same key
    never conflict; PostgreSQL's exclusion constraint refuses any other overlap."""

    __tablename__ = "resource_booking"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("share_key <> ''", name="share_key_given"),
        Index("ix_resource_booking_resource_starts", "resource_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("resource.id", ondelete="CASCADE"), nullable=False)
    # Checked at commit: on PostgreSQL a booking takes its resources' time before its
    # own row is written (see app.services.booking_placing).
    booking_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("booking.id", ondelete="CASCADE", deferrable=True,
                            initially="DEFERRED"), nullable=False, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    share_key: Mapped[str] = mapped_column(String(32), nullable=False)

    resource: Mapped[Resource] = relationship(Resource)


class ResourceHours(TenantOwned, db.Model):
    """One range of a resource's weekly hours: wall-clock times in the provider's zone."""

    __tablename__ = "resource_hours"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_known"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("resource.id", ondelete="CASCADE"), nullable=False, index=True)
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)
    start_time: Mapped[time] = mapped_column(Time, nullable=False)
    end_time: Mapped[time] = mapped_column(Time, nullable=False)


class ResourceShift(TenantOwned, db.Model):
    """A stretch of time a resource works, in UTC: its weekly hours laid out on the
    calendar days ahead (back-to-back ranges joined), so that lists compare columns and
    a change of daylight-saving time is worked out once, in Python."""

    __tablename__ = "resource_shift"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_resource_shift_resource_starts", "resource_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("resource.id", ondelete="CASCADE"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ResourceBusy(TenantOwned, db.Model):
    """A time a resource cannot be booked: time off, or an outside calendar's
    busy time."""

    __tablename__ = "resource_busy"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_resource_busy_resource_starts", "resource_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("resource.id", ondelete="CASCADE"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    # Set: a busy time imported from that outside calendar (replaced by each fetch, never
    # edited by hand); None: time off typed by staff.
    calendar_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("resource_calendar.id", ondelete="CASCADE"), index=True)

    resource: Mapped[Resource] = relationship(Resource)
