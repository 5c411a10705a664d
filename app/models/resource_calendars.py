"""Outside calendars of a resource: iCal addresses (a Google or Outlook "secret address")
whose busy times block the resource.

Each fetch replaces the calendar's busy times (``resource_busy`` rows with its
``calendar_id``); the row keeps what the last fetch said, in words, for the console.
The address is a credential: it is stored to be fetched, and shown masked.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.resources import Resource
from app.models.tenancy import TenantOwned
from app.models.types import UTCDateTime, utcnow

URL_LENGTH = 2000
LABEL_LENGTH = 120
ERROR_LENGTH = 300


class ResourceCalendar(TenantOwned, db.Model):
    __tablename__ = "resource_calendar"
    __table_args__ = (
        UniqueConstraint("resource_id", "url", name="uq_resource_calendar_resource_url"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("resource.id", ondelete="CASCADE"), nullable=False, index=True)
    label: Mapped[str] = mapped_column(String(LABEL_LENGTH), nullable=False, default="")
    url: Mapped[str] = mapped_column(String(URL_LENGTH), nullable=False)
    # The validators of the last answer, sent back as If-None-Match / If-Modified-Since.
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last attempt
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 200 or 304
    # The last time a whole calendar was read (a 200): its busy times are from then.
    parsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What went wrong last time, in words; None after a good fetch.
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                          server_default="0")  # in a row
    busy_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                            server_default="0")
    # True: the calendar had more busy times than are kept; the earliest were kept.
    capped: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                         server_default=false())
    # When the periodic job fetches it next (later after failures in a row).
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # False: no longer fetched (its busy times stay until it is removed).
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                         server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    resource: Mapped[Resource] = relationship(Resource)

    def __repr__(self) -> str:
        return self.label or "outside calendar"
