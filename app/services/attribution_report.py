"""Where paying customers came from: bookings, paid revenue and refunds per source.

Grouped by ``utm_source``, by ``utm_campaign``, or by whether TikTok sent the customer
(a ``ttclid`` was captured), per currency (amounts in different currencies are never
added up). The date range selects bookings by when they were made, in the provider's
timezone (UTC across all providers). Revenue is what payments received; refunds are what
went back, whenever that happened.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Attribution, Booking, Provider
from app.models.payments import SUCCEEDED, Payment
from app.services.money import major_units
from app.services.scopes import Scope, require_scope

GROUPINGS = {
    "utm_source": "Source (utm_source)",
    "utm_campaign": "Campaign (utm_campaign)",
    "tiktok": "TikTok-attributed (ttclid) or not",
}
NONE_LABEL = "(none)"
MAX_DAYS = 366


@dataclass(frozen=True)
class ReportRow:
    group: str
    currency: str
    bookings: int
    paid_bookings: int
    revenue_minor: int
    refunds_minor: int

    @property
    def net_minor(self) -> int:
        return self.revenue_minor - self.refunds_minor


def report(*, scope: Scope, start: date, end: date,
           group_by: str = "utm_source") -> list[ReportRow]:
    """Rows for bookings made from ``start`` to ``end`` (both included), in the
    provider's zone for one provider's scope and in UTC for all of them."""
    require_scope(scope)
    if group_by not in GROUPINGS:
        raise ValidationFailed("report.bad_grouping", "Unknown grouping.",
                               {"group_by": [f"One of: {', '.join(GROUPINGS)}."]})
    if end < start or (end - start).days > MAX_DAYS:
        raise ValidationFailed("report.bad_range", "The range must run forward, a year at most.",
                               {"end": ["On or after the start, within a year."]})
    since, until = _bounds(scope.provider_id, start, end)
    if group_by == "tiktok":
        key = case((Attribution.ttclid.is_not(None), literal("TikTok")),
                   else_=literal("not TikTok"))
    else:
        key = getattr(Attribution, group_by)
    paid = Payment.status == SUCCEEDED
    query = (
        select(key.label("grp"), Booking.currency,
               func.count(Booking.id),
               func.count(Payment.id).filter(paid),
               func.coalesce(func.sum(Payment.received_minor).filter(paid), 0),
               func.coalesce(func.sum(Payment.refunded_minor).filter(paid), 0))
        .select_from(Booking)
        .outerjoin(Attribution, Attribution.booking_id == Booking.id)
        .outerjoin(Payment, Payment.booking_id == Booking.id)
        .where(Booking.created_at >= since, Booking.created_at < until)
        .group_by(key, Booking.currency)
    )
    query = scope.filter(query, Booking)
    rows = [ReportRow(group=grp or NONE_LABEL, currency=currency, bookings=count,
                      paid_bookings=paid_count, revenue_minor=int(revenue),
                      refunds_minor=int(refunds))
            for grp, currency, count, paid_count, revenue, refunds in
            db.session.execute(query)]
    return sorted(rows, key=lambda r: (-r.revenue_minor, r.group, r.currency))


def _bounds(provider_id: int | None, start: date, end: date) -> tuple[datetime, datetime]:
    zone = "UTC"
    if provider_id is not None:
        zone = db.session.scalar(select(Provider.timezone).where(Provider.id == provider_id)) \
            or "UTC"
    tz = ZoneInfo(zone)
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return since.astimezone(ZoneInfo("UTC")), until.astimezone(ZoneInfo("UTC"))


def to_csv(rows: list[ReportRow], group_by: str) -> str:
    """One line per row; amounts in major units with the currency's own decimals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([group_by, "currency", "bookings", "paid_bookings", "revenue", "refunds",
                     "net"])
    for row in rows:
        writer.writerow([_safe_cell(row.group), row.currency, row.bookings, row.paid_bookings,
                         major_units(row.revenue_minor, row.currency),
                         major_units(row.refunds_minor, row.currency),
                         major_units(row.net_minor, row.currency)])
    return out.getvalue()


def _safe_cell(value: str) -> str:
    # UTM values come from URLs anyone can craft: never let a spreadsheet run them.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
