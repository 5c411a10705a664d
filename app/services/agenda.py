"""The day agenda: one day's bookings in the provider's local time, grouped by offering.

Read-only and free of Flask: the console renders what ``day_agenda`` returns. A day is a
local calendar day, so its bounds in UTC follow the provider's zone (23 or 25 hours long
on the days the clocks change). Without a provider (an admin looking at every provider)
each booking counts on the day it falls on in its own provider's zone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Account, Booking, Offering, Provider
from app.models.bookings import HOLDING
from app.models.types import utcnow
from app.services.scopes import Scope, require_scope

# Days outside this range are refused: nobody books there, and zone arithmetic near
# ``date.min`` / ``date.max`` overflows.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
# The widest offsets from UTC any zone uses: the UTC window that holds one local day
# of every zone.
_EARLIEST_OFFSET = timedelta(hours=14)
_LATEST_OFFSET = timedelta(hours=12)


@dataclass(frozen=True)
class AgendaBooking:
    booking_id: int
    reference: str
    starts_at: datetime  # local time of the provider
    ends_at: datetime | None
    status: str
    quantity: int
    customer_name: str
    customer_email: str
    notes: str


@dataclass(frozen=True)
class AgendaGroup:
    offering_id: int
    offering_name: str
    provider_id: int
    provider_name: str
    bookings: tuple[AgendaBooking, ...]


@dataclass(frozen=True)
class DayAgenda:
    day: date
    provider_id: int | None  # None: every provider
    zone: str | None  # the provider's zone; None when every provider is shown
    groups: tuple[AgendaGroup, ...]

    @property
    def previous_day(self) -> date | None:
        return self.day - timedelta(days=1) if self.day > FIRST_DAY else None

    @property
    def next_day(self) -> date | None:
        return self.day + timedelta(days=1) if self.day < LAST_DAY else None

    @property
    def booking_count(self) -> int:
        return sum(len(group.bookings) for group in self.groups)


def zone_of(name: str | None) -> ZoneInfo:
    """The zone of that name; UTC for an empty or unknown name."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def provider_zone(provider_id: int) -> str:
    zone = db.session.scalar(select(Provider.timezone).where(Provider.id == provider_id))
    if zone is None:
        raise NotFound("provider.not_found", f"No provider with id {provider_id}.")
    return zone


def local_today(zone: str | None, *, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(zone_of(zone)).date()


def agenda_providers() -> list[tuple[int, str]]:
    """(id, name) of every provider, for an admin to pick one."""
    return [(row.id, row.name) for row in db.session.execute(
        select(Provider.id, Provider.name).order_by(Provider.name, Provider.id))]


def day_agenda(*, day: date, scope: Scope,
               statuses: tuple[str, ...] = HOLDING) -> DayAgenda:
    """Bookings starting on ``day`` (local), grouped by offering, by local start time.

    An all-providers scope (admins) shows every provider in UTC bounds. Released
    bookings (expired, cancelled, refunded) are left out unless ``statuses`` asks for them.
    """
    provider_id = require_scope(scope).provider_id
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed("agenda.bad_day", "Choose a day between 1900 and 2999.",
                               {"day": ["Out of range."]})
    zone = provider_zone(provider_id) if provider_id is not None else None
    start, end = _utc_bounds(day, zone)
    query = (
        select(Booking.id, Booking.reference, Booking.starts_at, Booking.ends_at,
               Booking.status, Booking.quantity, Booking.notes, Booking.offering_id,
               Offering.name.label("offering_name"), Booking.provider_id,
               Provider.name.label("provider_name"), Provider.timezone,
               Account.first_name, Account.last_name, Account.email)
        .join(Offering, Offering.id == Booking.offering_id)
        .join(Provider, Provider.id == Booking.provider_id)
        .join(Account, Account.id == Booking.customer_id)
        .where(Booking.starts_at >= start, Booking.starts_at < end,
               Booking.status.in_(statuses))
        .order_by(Booking.starts_at, Booking.id)
    )
    query = scope.filter(query, Booking)
    groups: dict[int, list] = {}
    for row in db.session.execute(query):
        local = zone_of(row.timezone)
        starts_at = row.starts_at.astimezone(local)
        if starts_at.date() != day:
            continue  # another provider's zone puts it on the day before or after
        groups.setdefault(row.offering_id, []).append((row, AgendaBooking(
            booking_id=row.id, reference=row.reference, starts_at=starts_at,
            ends_at=row.ends_at.astimezone(local) if row.ends_at else None,
            status=row.status, quantity=row.quantity,
            customer_name=f"{row.first_name} {row.last_name}".strip(),
            customer_email=row.email, notes=row.notes)))
    ordered = sorted(groups.values(), key=lambda entries: (
        entries[0][0].provider_name, entries[0][0].offering_name, entries[0][0].offering_id))
    return DayAgenda(day=day, provider_id=provider_id, zone=zone, groups=tuple(
        AgendaGroup(offering_id=entries[0][0].offering_id,
                    offering_name=entries[0][0].offering_name,
                    provider_id=entries[0][0].provider_id,
                    provider_name=entries[0][0].provider_name,
                    bookings=tuple(booking for _, booking in entries))
        for entries in ordered))


def _utc_bounds(day: date, zone: str | None) -> tuple[datetime, datetime]:
    """The UTC half-open window [start, end) holding the local ``day``."""
    if zone is None:
        midnight = datetime.combine(day, time.min, timezone.utc)
        return midnight - _EARLIEST_OFFSET, midnight + timedelta(days=1) + _LATEST_OFFSET
    local = zone_of(zone)
    start = datetime.combine(day, time.min, local)
    end = datetime.combine(day + timedelta(days=1), time.min, local)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)
