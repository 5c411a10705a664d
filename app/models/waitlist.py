"""The waiting list of a full time: customers in line for places, and the offers made to
them when places free up."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.availability import Slot
from app.models.catalog import Offering
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow

# waiting → offered → booked (the customer took the offer) | expired (it ran out, or the
# customer declined it); waiting or offered → left (the customer left the line).
WAITING, OFFERED, BOOKED, OFFER_EXPIRED, LEFT = "waiting", "offered", "booked", "expired", "left"
WAITLIST_STATUSES = (WAITING, OFFERED, BOOKED, OFFER_EXPIRED, LEFT)
IN_LINE = (WAITING, OFFERED)
IN_LINE_CONDITION = "status IN ('waiting', 'offered')"


class WaitlistEntry(TenantOwned, db.Model):
    __tablename__ = "waitlist_entry"
    __audited__ = True
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("status IN ('waiting', 'offered', 'booked', 'expired', 'left')",
                        name="status_known"),
        CheckConstraint("status <> 'offered' OR booking_id IS NOT NULL",
                        name="offer_has_booking"),
        # One place in line per customer and time.
        Index("uq_waitlist_entry_in_line", "slot_id", "customer_id", unique=True,
              postgresql_where=text(IN_LINE_CONDITION), sqlite_where=text(IN_LINE_CONDITION)),
        # The line of a time, first come first served.
        Index("ix_waitlist_entry_slot_status", "slot_id", "status", "id"),
        Index("ix_waitlist_entry_customer", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offering_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("offering.id", ondelete="CASCADE"), nullable=False)
    slot_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("slot.id", ondelete="CASCADE"), nullable=False)
    customer_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=WAITING)
    # The hold made for the customer when places freed up: paying (or accepting) it books.
    booking_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offering: Mapped[Offering] = relationship(Offering)
    slot: Mapped[Slot] = relationship(Slot)
    customer = relationship("Account", foreign_keys=[customer_id])
    booking = relationship("Booking", foreign_keys=[booking_id])

    def __repr__(self) -> str:
        return f"waiting list entry {self.id}"
