"""The console's home figures: what a provider (or the platform) needs to see first.

Read-only. Every figure is one aggregate query (GROUP BY in the database) over an indexed
range (bookings and slots by start time, per provider), and every list has a limit, so a
dashboard costs the same at a thousand bookings as at a million. Staff get their own
provider's figures (``Scope.of_provider``); admins every provider's, with a breakdown per
provider and the platform's health (:func:`platform_health`).

Days are the provider's local days; an admin's (every provider at once) are UTC days, and
an admin's period figures are read from the daily totals the database keeps per provider
(``app/services/daily_figures.py``), so a 90-day period reads some thousands of rows, not
the quarter of a million bookings in it.
Money stays per currency: amounts in different currencies are never added up.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Date, String, cast, func, literal, or_, select, text

from app.extensions import db
from app.models import Account, Booking, Location, Offering, Provider, Slot
from app.models.bookings import AWAITING, COMPLETED, CONFIRMED, HOLDING, NO_SHOW
from app.models.conversions import ConversionEvent
from app.models.events import FAILED as EVENT_FAILED
from app.models.events import QUEUED as EVENT_QUEUED
from app.models.events import RETRYING as EVENT_RETRYING
from app.models.events import OutboxEvent
from app.models.notifications import FAILED as MESSAGE_FAILED
from app.models.notifications import Notification
from app.models.payments import EVENT_FAILED as INBOX_FAILED
from app.models.payments import EVENT_RECEIVED, FAILED, Payment, PaymentEvent
from app.models.types import utcnow
from app.services import agenda, daily_figures, dashboard_cache, geocoding
from app.services.scopes import Scope, require_scope
from app.services.transactions import end_read

PERIODS = (7, 30, 90)  # the period switcher's choices, in days
DEFAULT_PERIOD = 7
UPCOMING_DAYS = 3  # the timeline: today and the next two days
TIMELINE_LIMIT = 60
LIST_LIMIT = 20
OFFERING_LIMIT = 10  # occupancy chart: the offerings with the most places booked
PROVIDER_LIMIT = 25  # admin breakdown: the providers with the most bookings
# Booked revenue: the value of bookings that hold their places and are not waiting for
# confirmation (a no-show was still sold).
REVENUE_STATUSES = (CONFIRMED, COMPLETED, NO_SHOW)
GEOCODING_FAILURES = (geocoding.ZERO_RESULTS, geocoding.DENIED, geocoding.ERROR)
AWAITING_CONDITION = AWAITING.replace("status", "booking.status").replace(
    "pay_at_venue", "booking.pay_at_venue")


@dataclass(frozen=True)
class Amount:
    currency: str
    minor: int


@dataclass(frozen=True)
class DayFigures:
    day: date
    bookings: int
    revenue: dict[str, int]  # currency → minor units


@dataclass(frozen=True)
class TimelineBooking:
    booking_id: int
    reference: str
    starts_at: datetime  # aware, in the provider's zone
    ends_at: datetime | None
    status: str
    quantity: int
    pay_at_venue: bool
    customer: str
    offering: str
    provider: str
    started: bool
    ended: bool


class _PlacesTaken:
    booked: int
    capacity: int

    @property
    def rate(self) -> float:
        return self.booked / self.capacity if self.capacity else 0.0


@dataclass(frozen=True)
class ProviderOccupancy(_PlacesTaken):
    provider_id: int
    provider: str
    booked: int
    capacity: int


@dataclass(frozen=True)
class OfferingOccupancy(_PlacesTaken):
    offering_id: int
    offering: str
    provider: str
    booked: int
    capacity: int


class Rates:
    """Occupancy and no-show rate from the counts a figures row carries."""

    booked: int
    capacity: int
    no_shows: int
    attended: int

    @property
    def occupancy(self) -> float | None:
        return self.booked / self.capacity if self.capacity else None

    @property
    def no_show_rate(self) -> float | None:
        seen = self.no_shows + self.attended
        return self.no_shows / seen if seen else None


@dataclass(frozen=True)
class ProviderFigures(Rates):
    provider_id: int
    provider: str
    bookings: int
    revenue: tuple[Amount, ...]
    no_shows: int
    attended: int
    booked: int
    capacity: int



@dataclass(frozen=True)
class AttentionItem:
    """Something staff should look at: ``key`` names the list it links to."""

    key: str
    label: str
    count: int
    value: str = ""  # the filter value of the linked list, where it has one


@dataclass(frozen=True)
class Figures(Rates):
    """Totals over the period: [first_day, last_day], local days."""

    first_day: date
    last_day: date
    days: tuple[DayFigures, ...]
    revenue: tuple[Amount, ...]
    bookings: int
    no_shows: int
    attended: int  # completed
    booked: int  # places taken on the period's slots
    capacity: int


    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(amount.currency for amount in self.revenue)


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    zone: str  # the days' zone: the provider's, UTC for every provider
    today: date
    period: int
    figures: Figures
    timeline: tuple[TimelineBooking, ...]
    timeline_more: bool
    awaiting: tuple[TimelineBooking, ...]
    awaiting_count: int
    check_ins: tuple[TimelineBooking, ...]
    occupancy_by_offering: tuple[OfferingOccupancy, ...]
    attention: tuple[AttentionItem, ...]
    providers: tuple[ProviderFigures, ...] = field(default=())
    # Admins: the providers with the most places booked (an offering is too fine a grain
    # among a hundred thousand).
    occupancy_by_provider: tuple[ProviderOccupancy, ...] = field(default=())
    provider_count: int = 0
    figures_as_of: datetime | None = None  # when the period's figures were added up


def period_of(value) -> int:
    """The period asked for, if it is one of :data:`PERIODS`; else the default."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def home_dashboard(*, scope: Scope, period: int = DEFAULT_PERIOD,
                   now: datetime | None = None) -> Dashboard:
    """Everything on the home page for ``scope``: one provider's, or every provider's."""
    scope = require_scope(scope)
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    now = now or utcnow()
    zone = agenda.provider_zone(scope.provider_id) if scope.provider_id else "UTC"
    today = agenda.local_today(zone, now=now)
    first_day = today - timedelta(days=period - 1)
    start, end = _utc_range(first_day, today + timedelta(days=1), zone)
    upcoming_end = _utc_range(today, today + timedelta(days=UPCOMING_DAYS), zone)[1]
    today_start, tomorrow_start = _utc_range(today, today + timedelta(days=1), zone)
    timeline = _bookings(scope, now, start=today_start, end=upcoming_end,
                         limit=TIMELINE_LIMIT + 1)
    awaiting, awaiting_count = _awaiting(scope, now)
    key = ("all" if scope.every_provider else scope.provider_id, period, today, zone)
    (figures, occupancy, providers), as_of = dashboard_cache.kept(key, now, lambda: (
        _platform(first_day, today) if scope.every_provider else (
            _figures(scope, zone, first_day, today, start, end),
            _occupancy_by_offering(scope, start, end), ())))
    dashboard = Dashboard(
        scope=scope, zone=zone, today=today, period=period, figures=figures,
        figures_as_of=as_of,
        timeline=tuple(timeline[:TIMELINE_LIMIT]), timeline_more=len(timeline) > TIMELINE_LIMIT,
        awaiting=awaiting, awaiting_count=awaiting_count,
        check_ins=tuple(_bookings(scope, now, start=today_start, end=tomorrow_start,
                                  statuses=(CONFIRMED, COMPLETED, NO_SHOW),
                                  limit=TIMELINE_LIMIT)),
        occupancy_by_offering=() if scope.every_provider else occupancy,
        occupancy_by_provider=occupancy if scope.every_provider else (),
        attention=_attention(scope),
        providers=providers,
        provider_count=(db.session.scalar(select(func.count(Provider.id)))
                        if scope.every_provider else 1),
    )
    end_read()
    return dashboard


# --- figures over the period ---------------------------------------------------------------

def _figures(scope, zone, first_day, last_day, start, end) -> Figures:
    day = _local_day(Booking.starts_at, zone)
    query = scope.filter(
        select(day.label("day"), Booking.status, Booking.currency,
               func.count().label("bookings"), func.sum(Booking.total_minor).label("total"))
        .where(Booking.starts_at >= start, Booking.starts_at < end,
               Booking.status.in_(HOLDING))
        .group_by(day, Booking.status, Booking.currency), Booking)
    per_day: dict[date, list] = defaultdict(lambda: [0, defaultdict(int)])
    revenue: dict[str, int] = defaultdict(int)
    by_status: dict[str, int] = defaultdict(int)
    for row in db.session.execute(query):
        local = _day_of(row.day, zone)
        if not first_day <= local <= last_day:
            continue
        per_day[local][0] += row.bookings
        by_status[row.status] += row.bookings
        if row.status in REVENUE_STATUSES:
            per_day[local][1][row.currency] += int(row.total or 0)
            revenue[row.currency] += int(row.total or 0)
    booked, capacity = db.session.execute(scope.filter(
        select(func.coalesce(func.sum(Slot.booked), 0), func.coalesce(func.sum(Slot.capacity), 0))
        .where(*_offered_slots(start, end)), Slot)).one()
    return _figures_of(first_day, last_day, per_day, revenue, by_status, int(booked),
                       int(capacity))


def _platform(first_day, last_day):
    """Every provider's period (UTC days), read from the daily totals in two queries:
    (figures, occupancy of the busiest providers, the busiest providers' figures)."""
    per_day: dict[date, list] = defaultdict(lambda: [0, defaultdict(int)])
    revenue: dict[str, int] = defaultdict(int)
    by_status: dict[str, int] = defaultdict(int)
    for row in daily_figures.bookings_by(("day", "status", "currency"), first_day, last_day,
                                         statuses=HOLDING):
        per_day[row.day][0] += int(row.bookings)
        by_status[row.status] += int(row.bookings)
        if row.status in REVENUE_STATUSES:
            per_day[row.day][1][row.currency] += int(row.total or 0)
            revenue[row.currency] += int(row.total or 0)
    places = {row.provider_id: (int(row.booked), int(row.capacity))
              for row in daily_figures.places_by(("provider_id",), first_day, last_day)}
    figures = _figures_of(first_day, last_day, per_day, revenue, by_status,
                          sum(b for b, _ in places.values()),
                          sum(c for _, c in places.values()))
    busiest = sorted(places, key=lambda p: (-places[p][0], p))[:OFFERING_LIMIT]
    providers = _providers(first_day, last_day, places)
    names = _provider_names(set(busiest) - {p.provider_id for p in providers})
    names.update({p.provider_id: p.provider for p in providers})
    occupancy = tuple(ProviderOccupancy(p, names.get(p, ""), *places[p]) for p in busiest)
    return figures, occupancy, providers


def _figures_of(first_day, last_day, per_day, revenue, by_status, booked, capacity) -> Figures:
    days = tuple(
        DayFigures(day=first_day + timedelta(days=n),
                   bookings=per_day[first_day + timedelta(days=n)][0],
                   revenue=dict(per_day[first_day + timedelta(days=n)][1]))
        for n in range((last_day - first_day).days + 1))
    return Figures(
        first_day=first_day, last_day=last_day, days=days,
        revenue=tuple(Amount(c, m) for c, m in sorted(revenue.items(), key=lambda i: -i[1])),
        bookings=sum(by_status.values()), no_shows=by_status[NO_SHOW],
        attended=by_status[COMPLETED], booked=booked, capacity=capacity)


def _offered_slots(start, end):
    # Retired slots count while they still hold bookings: those places were sold.
    return (Slot.starts_at >= start, Slot.starts_at < end,
            or_(Slot.retired_at.is_(None), Slot.booked > 0))


def _occupancy_by_offering(scope, start, end) -> tuple[OfferingOccupancy, ...]:
    booked = func.sum(Slot.booked)
    top = scope.filter(
        select(Slot.offering_id, booked.label("booked"),
               func.sum(Slot.capacity).label("capacity"))
        .where(*_offered_slots(start, end))
        .group_by(Slot.offering_id)
        .order_by(booked.desc(), Slot.offering_id)
        .limit(OFFERING_LIMIT), Slot).subquery()
    query = (select(top, Offering.name, Provider.name.label("provider"))
             .join(Offering, Offering.id == top.c.offering_id)
             .join(Provider, Provider.id == Offering.provider_id)
             .order_by(top.c.booked.desc(), top.c.offering_id))
    return tuple(OfferingOccupancy(row.offering_id, row.name, row.provider,
                                   int(row.booked), int(row.capacity))
                 for row in db.session.execute(query))


def _provider_names(ids) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(Provider.id, Provider.name)
                                   .where(Provider.id.in_(ids))).all())


def _providers(first_day, last_day, places) -> tuple[ProviderFigures, ...]:
    """Admin: the busiest providers of the period, each with its own figures; ``places``
    maps a provider to its (booked, offered) places."""
    statuses: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    revenue: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in daily_figures.bookings_by(("provider_id", "status", "currency"), first_day,
                                         last_day, statuses=HOLDING):
        statuses[row.provider_id][row.status] += int(row.bookings)
        if row.status in REVENUE_STATUSES:
            revenue[row.provider_id][row.currency] += int(row.total or 0)
    counts = {provider_id: sum(by_status.values())
              for provider_id, by_status in statuses.items()}
    ranked = sorted((p for p in counts if counts[p]),
                    key=lambda p: (-counts[p], p))[:PROVIDER_LIMIT]
    names = _provider_names(ranked)
    return tuple(
        ProviderFigures(
            provider_id=provider_id, provider=names.get(provider_id, ""),
            bookings=counts[provider_id],
            revenue=tuple(Amount(c, m) for c, m in sorted(revenue[provider_id].items())),
            no_shows=statuses[provider_id][NO_SHOW],
            attended=statuses[provider_id][COMPLETED],
            booked=places.get(provider_id, (0, 0))[0],
            capacity=places.get(provider_id, (0, 0))[1])
        for provider_id in ranked)


# --- lists -----------------------------------------------------------------------------

def _booking_rows(scope, *conditions, limit: int):
    query = (
        select(Booking.id, Booking.reference, Booking.starts_at, Booking.ends_at,
               Booking.status, Booking.quantity, Booking.pay_at_venue,
               Offering.name.label("offering"), Provider.name.label("provider"),
               Provider.timezone, Account.first_name, Account.last_name, Account.email)
        .join(Offering, Offering.id == Booking.offering_id)
        .join(Provider, Provider.id == Booking.provider_id)
        .join(Account, Account.id == Booking.customer_id)
        .where(*conditions)
        .order_by(Booking.starts_at, Booking.id)
        .limit(limit))
    return db.session.execute(scope.filter(query, Booking))


def _bookings(scope, now, *, start, end, statuses=HOLDING, limit) -> list[TimelineBooking]:
    rows = _booking_rows(scope, Booking.starts_at >= start, Booking.starts_at < end,
                         Booking.status.in_(statuses), limit=limit)
    return [_timeline_booking(row, now) for row in rows]


def _awaiting(scope, now) -> tuple[tuple[TimelineBooking, ...], int]:
    """Pay-at-venue bookings waiting for staff to confirm them, soonest first."""
    # Spelled as the partial indexes' condition (constants, not parameters), so that
    # PostgreSQL can use them: a few waiting rows among a million.
    waiting = (text(AWAITING_CONDITION),)
    rows = _booking_rows(scope, *waiting, limit=LIST_LIMIT)
    count = db.session.scalar(scope.filter(
        select(func.count()).select_from(Booking).where(*waiting), Booking))
    return tuple(_timeline_booking(row, now) for row in rows), int(count or 0)


def _timeline_booking(row, now) -> TimelineBooking:
    zone = agenda.zone_of(row.timezone)
    return TimelineBooking(
        booking_id=row.id, reference=row.reference,
        starts_at=row.starts_at.astimezone(zone) if row.starts_at else None,
        ends_at=row.ends_at.astimezone(zone) if row.ends_at else None,
        status=row.status, quantity=row.quantity, pay_at_venue=row.pay_at_venue,
        customer=f"{row.first_name or ''} {row.last_name or ''}".strip() or row.email,
        offering=row.offering, provider=row.provider,
        started=row.starts_at is None or row.starts_at <= now,
        ended=row.ends_at is None or row.ends_at <= now)


def _attention(scope) -> tuple[AttentionItem, ...]:
    """Counts of what needs a person, each matching the filtered list it links to."""
    def count(model, *conditions) -> int:
        query = select(func.count()).select_from(model).where(*conditions)
        return int(db.session.scalar(scope.filter(query, model)) or 0)

    items = [
        AttentionItem("flagged_payments", "Payments flagged for a look",
                      count(Payment, Payment.attention.is_not(None), Payment.attention != "")),
        AttentionItem("failed_payments", "Failed payments",
                      count(Payment, Payment.status == FAILED), FAILED),
        AttentionItem("failed_messages", "Messages that could not be sent",
                      count(Notification, Notification.status == MESSAGE_FAILED),
                      MESSAGE_FAILED),
    ]
    geocoding_rows = db.session.execute(scope.filter(
        select(Location.geocode_status, func.count().label("n"))
        .where(Location.geocode_status.in_(GEOCODING_FAILURES))
        .group_by(Location.geocode_status), Location)).all()
    labels = {geocoding.ZERO_RESULTS: "Addresses the map could not find",
              geocoding.DENIED: "Addresses the map service refused",
              geocoding.ERROR: "Addresses not located (map service error)"}
    failures = dict(geocoding_rows)
    items += [AttentionItem(f"geocoding_{status}", labels[status], int(failures.get(status, 0)),
                            status) for status in GEOCODING_FAILURES]
    return tuple(items)


# --- the platform's health (admins) --------------------------------------------------------

@dataclass(frozen=True)
class HealthItem:
    key: str
    label: str
    value: int | None  # None: not measured here (no Redis, say)
    detail: str = ""
    threshold: int = 0  # above it, the item is a problem

    @property
    def ok(self) -> bool:
        return self.value is None or self.value <= self.threshold


def platform_health(*, scope: Scope, now: datetime | None = None,
                    failed_jobs: dict[str, int] | None = None) -> tuple[HealthItem, ...]:
    """What is stuck or failing across the platform. Admins (every provider) only.

    ``failed_jobs`` is the count of failed jobs per queue (RQ's failed-job registry), read
    by the caller that has the queue connection; None when there is no Redis.
    """
    if not require_scope(scope).every_provider:
        raise PermissionError("the platform's health is for every-provider scopes only")
    now = now or utcnow()
    outbox = dict(db.session.execute(
        select(OutboxEvent.status, func.count()).where(
            OutboxEvent.status.in_((EVENT_FAILED, EVENT_RETRYING)))
        .group_by(OutboxEvent.status)).all())
    oldest_queued = db.session.scalar(
        select(func.min(OutboxEvent.created_at)).where(OutboxEvent.status == EVENT_QUEUED))
    inbox = dict(db.session.execute(
        select(PaymentEvent.status, func.count()).where(
            PaymentEvent.status.in_((EVENT_RECEIVED, INBOX_FAILED)))
        .group_by(PaymentEvent.status)).all())
    oldest_inbox = db.session.scalar(
        select(func.min(PaymentEvent.received_at))
        .where(PaymentEvent.status == EVENT_RECEIVED))
    conversions = dict(db.session.execute(
        select(ConversionEvent.status, func.count())
        .where(ConversionEvent.status != "sent")
        .group_by(ConversionEvent.status)).all())
    end_read()
    lag = _seconds_since(oldest_queued, now)
    items = []
    if failed_jobs is None:
        items.append(HealthItem("failed_jobs", "Failed jobs", None,
                                "jobs run inline (no Redis configured)"))
    else:
        busiest = ", ".join(f"{queue} {n}" for queue, n in sorted(failed_jobs.items()) if n)
        items.append(HealthItem("failed_jobs", "Failed jobs", sum(failed_jobs.values()),
                                busiest))
    items += [
        HealthItem("failed_events", "Failed events (retries used up)",
                   int(outbox.get(EVENT_FAILED, 0))),
        HealthItem("retrying_events", "Events a consumer failed on (retrying)",
                   int(outbox.get(EVENT_RETRYING, 0))),
        HealthItem("outbox_lag", "Outbox lag (oldest undelivered event)", lag or 0,
                   _duration(lag) if lag is not None else "nothing waiting", threshold=300),
        HealthItem("webhook_backlog", "Webhook inbox backlog (unprocessed)",
                   int(inbox.get(EVENT_RECEIVED, 0)),
                   f"oldest {_duration(_seconds_since(oldest_inbox, now))}"
                   if oldest_inbox else "", threshold=10),
        HealthItem("failed_webhooks", "Failed webhook events",
                   int(inbox.get(INBOX_FAILED, 0))),
        HealthItem("unsent_conversions", "Unsent conversions (queued, sending or failed)",
                   sum(int(n) for n in conversions.values()),
                   ", ".join(f"{n} {status}" for status, n in sorted(conversions.items())),
                   threshold=50),
    ]
    return tuple(items)


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    return max(0, int((now - moment).total_seconds()))


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


# --- days in a zone --------------------------------------------------------------------

def _utc_range(first: date, end: date, zone: str) -> tuple[datetime, datetime]:
    """[local midnight of ``first``, local midnight of ``end``) in UTC."""
    local = agenda.zone_of(zone)
    return (datetime.combine(first, time.min, local).astimezone(timezone.utc),
            datetime.combine(end, time.min, local).astimezone(timezone.utc))


def _local_day(column, zone: str):
    """A GROUP BY key for the local day of a UTC column. PostgreSQL converts in SQL;
    SQLite (embedded mode, small data) groups by the minute and :func:`_day_of` converts."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(literal(zone, String, literal_execute=True), column), Date)
    return cast(func.strftime("%Y-%m-%d %H:%M", column), String)


def _day_of(key, zone: str) -> date:
    if isinstance(key, date) and not isinstance(key, datetime):
        return key
    if isinstance(key, datetime):
        moment = key
    else:
        moment = datetime.strptime(str(key), "%Y-%m-%d %H:%M")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(agenda.zone_of(zone)).date()


__all__ = ["DEFAULT_PERIOD", "PERIODS", "Dashboard", "HealthItem", "home_dashboard",
           "period_of", "platform_health"]
