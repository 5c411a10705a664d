"""The bookings calendar: a day or a week of bookings laid out on a time grid.

Read-only and free of Flask: the console draws what ``calendar_view`` returns. Rows are
the hours of the wall clock in the provider's zone, days are columns. The clock changes
are shown as they happen: on the night the clocks go back the repeated hour gets a second
row (02:00 CEST, then 02:00 CET), so that day is 25 rows long; on the night they go
forward the skipped hour is a gap in that day's column (a 23-hour day). A booking is
placed by the wall-clock time it starts and ends, so 01:30 on the fall-back night lands
in the right one of the two 01:00 rows.

Without a provider (an admin looking at every provider) each booking sits on its own
provider's wall clock and names its zone. The read is one indexed range query on
``(provider_id, starts_at)`` (or ``starts_at`` for every provider), capped at
``MAX_BOOKINGS`` rows; nothing is aggregated. The staff, rooms and equipment each booking
holds time of (its ``resource_booking`` rows) are read in one more query for the bookings
shown; ``resource_id`` keeps only the bookings holding that resource's time.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import exists, select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Account, Booking, Offering, Provider, Resource, ResourceBooking
from app.models.bookings import HOLDING
from app.models.resources import RESOURCE_KINDS
from app.services import booking_resources
from app.services.agenda import FIRST_DAY, LAST_DAY, provider_zone, zone_of
from app.services.scopes import Scope, require_scope

MAX_BOOKINGS = 1000  # one screen: beyond this the calendar says it shows the first ones
MAX_OFFERINGS = 500  # the offering filter's choices
MAX_RESOURCES = 500  # the "Who" filter's choices
DAY, WEEK = 1, 7
# The hours shown when no booking or clock change asks for more.
WORKING_HOURS = (7, 21)
# The UTC window that holds one local day of every zone (widest offsets from UTC).
_EARLIEST_OFFSET = timedelta(hours=14)
_LATEST_OFFSET = timedelta(hours=12)

Row = tuple[int, int]  # (wall-clock hour, fold): fold 1 is the repeated hour's second pass


@dataclass(frozen=True)
class ClockChange:
    """The provider's clocks change on ``day``: at ``old_wall`` they jump to ``new_wall``."""

    day: date
    old_wall: datetime  # the wall clock as it would read on the old offset (naive)
    new_wall: datetime  # the wall clock as it reads after the change (in the zone)
    forward: bool  # True: an hour is skipped (a 23-hour day); False: repeated (25 hours)
    old_abbreviation: str
    new_abbreviation: str

    @property
    def hours(self) -> range:
        """The wall-clock hours the change skips or repeats (the grid always shows them)."""
        low, high = sorted((self.old_wall.hour, self.new_wall.hour))
        return range(low, high + 1)


@dataclass(frozen=True)
class CalendarBooking:
    booking_id: int
    reference: str
    starts_at: datetime  # in the provider's zone
    ends_at: datetime  # in the provider's zone
    status: str
    quantity: int
    customer_name: str
    offering_id: int
    offering_name: str
    provider_id: int
    provider_name: str
    zone: str
    resources: tuple[str, ...] = ()  # who does it: staff first, then rooms and equipment
    top: float = 0.0  # rows from the top of the shown range (fractions of an hour)
    height: float = 1.0  # rows
    lane: int = 0  # side by side with the bookings it overlaps
    lanes: int = 1

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass(frozen=True)
class CalendarDay:
    day: date
    hours: float  # its real length: 23, 24 or 25 (in the provider's zone)
    missing_rows: frozenset[Row]  # wall-clock hours that do not exist on this day
    bookings: tuple[CalendarBooking, ...]
    change: ClockChange | None = None


@dataclass(frozen=True)
class CalendarView:
    first_day: date
    days: tuple[CalendarDay, ...]
    rows: tuple[Row, ...]  # the hour rows shown, top to bottom
    row_labels: tuple[str, ...]
    provider_id: int | None  # None: every provider
    zone: str | None  # the provider's zone; None when every provider is shown
    offering_id: int | None
    truncated: bool  # more than MAX_BOOKINGS bookings: only the first ones are shown
    changes: tuple[ClockChange, ...] = field(default=())
    resource_id: int | None = None  # only the bookings holding this resource's time

    @property
    def last_day(self) -> date:
        return self.days[-1].day

    @property
    def booking_count(self) -> int:
        return sum(len(day.bookings) for day in self.days)

    @property
    def names_resources(self) -> bool:
        """Some booking shown says who does it (its blocks need a line more)."""
        return any(booking.resources for day in self.days for booking in day.bookings)


def week_start(day: date) -> date:
    """The Monday of the week holding ``day``."""
    return day - timedelta(days=day.weekday())


def calendar_view(*, scope: Scope, first_day: date, days: int = WEEK,
                  offering_id: int | None = None, resource_id: int | None = None,
                  statuses: tuple[str, ...] = HOLDING) -> CalendarView:
    """``days`` days of bookings from ``first_day`` (local), laid out by time.

    Released bookings (expired, cancelled, refunded) are left out unless ``statuses``
    asks for them. ``offering_id`` narrows to one offering, ``resource_id`` to the
    bookings that hold one resource's time (check them with :func:`check_offering` and
    :func:`check_resource`: here they only narrow the scope's own rows).
    """
    provider_id = require_scope(scope).provider_id
    if days not in (DAY, WEEK):
        raise ValidationFailed("calendar.bad_range", "Show a day or a week.",
                               {"days": ["One or seven."]})
    if not FIRST_DAY <= first_day <= LAST_DAY - timedelta(days=days):
        raise ValidationFailed("agenda.bad_day", "Choose a day between 1900 and 2999.",
                               {"day": ["Out of range."]})
    zone_name = provider_zone(provider_id) if provider_id is not None else None
    day_list = [first_day + timedelta(days=n) for n in range(days)]
    start, end = _utc_window(day_list[0], day_list[-1], zone_name)
    rows, truncated = _booking_rows(scope, start, end, offering_id, resource_id, statuses)
    doers = booking_resources.resources_of_bookings([row.id for row in rows])
    by_day: dict[date, list[CalendarBooking]] = {day: [] for day in day_list}
    for row in rows:
        booking = _calendar_booking(row, doers.get(row.id, ()))
        if booking.starts_at.date() in by_day:  # another zone may put it outside the days
            by_day[booking.starts_at.date()].append(booking)
    changes = _clock_changes(day_list, zone_name) if zone_name else {}
    shape = {day: _day_shape(day, zone_name) for day in day_list} if zone_name else {}
    grid_rows = _grid_rows(shape, by_day, changes)
    labels = _row_labels(grid_rows, shape, zone_name)
    index = {row: position for position, row in enumerate(grid_rows)}
    laid_out = []
    for day in day_list:
        hours, present = shape.get(day, (24.0, None))
        missing = frozenset(r for r in grid_rows if present is not None and r not in present)
        laid_out.append(CalendarDay(
            day=day, hours=hours, missing_rows=missing,
            bookings=_lay_out(by_day[day], index, len(grid_rows)),
            change=changes.get(day)))
    return CalendarView(
        first_day=first_day, days=tuple(laid_out), rows=tuple(grid_rows),
        row_labels=tuple(labels), provider_id=provider_id, zone=zone_name,
        offering_id=offering_id, truncated=truncated,
        changes=tuple(changes[day] for day in day_list if day in changes),
        resource_id=resource_id)


def calendar_offerings(*, scope: Scope) -> list[tuple[int, str]]:
    """(id, name) of the scope's offerings for the filter; none for every provider."""
    if require_scope(scope).every_provider:
        return []
    query = scope.filter(select(Offering.id, Offering.name), Offering).order_by(
        Offering.name, Offering.id).limit(MAX_OFFERINGS)
    return [(row.id, row.name) for row in db.session.execute(query)]


@dataclass(frozen=True)
class ResourceChoice:
    resource_id: int
    name: str
    kind: str
    active: bool


def calendar_resources(*, scope: Scope, keep: int | None = None) -> list[ResourceChoice]:
    """The "Who" filter's choices: the scope's active resources, staff first, then rooms
    and equipment, each by name (``keep``: an inactive one chosen already stays on the
    list); none for every provider."""
    if require_scope(scope).every_provider:
        return []
    wanted = Resource.active.is_(True)
    if keep is not None:
        wanted = wanted | (Resource.id == keep)
    query = scope.filter(select(Resource.id, Resource.name, Resource.kind, Resource.active)
                         .where(wanted), Resource).order_by(Resource.name, Resource.id)
    rows = db.session.execute(query.limit(MAX_RESOURCES)).all()
    return sorted((ResourceChoice(row.id, row.name, row.kind, row.active) for row in rows),
                  key=lambda choice: _kind_rank(choice.kind))


def check_resource(resource_id: int, *, scope: Scope) -> None:
    """Refuse a resource outside the scope (NotFound), so a filter never reveals one."""
    found = db.session.scalar(require_scope(scope).filter(
        select(Resource.id).where(Resource.id == resource_id), Resource))
    if found is None:
        raise NotFound("resource.not_found", f"No resource with id {resource_id}.")


def _kind_rank(kind: str) -> int:
    return RESOURCE_KINDS.index(kind) if kind in RESOURCE_KINDS else len(RESOURCE_KINDS)


def check_offering(offering_id: int, *, scope: Scope) -> None:
    """Refuse an offering outside the scope (NotFound), so a filter never reveals one."""
    found = db.session.scalar(require_scope(scope).filter(
        select(Offering.id).where(Offering.id == offering_id), Offering))
    if found is None:
        raise NotFound("offering.not_found", f"No offering with id {offering_id}.")


# --- reading -----------------------------------------------------------------------------

def _utc_window(first: date, last: date, zone_name: str | None) -> tuple[datetime, datetime]:
    """The UTC half-open window [start, end) holding the local days ``first``..``last``."""
    if zone_name is None:
        start = datetime.combine(first, time.min, timezone.utc) - _EARLIEST_OFFSET
        end = datetime.combine(last + timedelta(days=1), time.min, timezone.utc)
        return start, end + _LATEST_OFFSET
    zone = zone_of(zone_name)
    return (datetime.combine(first, time.min, zone).astimezone(timezone.utc),
            datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(
                timezone.utc))


def _booking_rows(scope: Scope, start: datetime, end: datetime, offering_id: int | None,
                  resource_id: int | None, statuses: tuple[str, ...]):
    query = (
        select(Booking.id, Booking.reference, Booking.starts_at, Booking.ends_at,
               Booking.status, Booking.quantity, Booking.offering_id,
               Offering.name.label("offering_name"), Offering.duration_minutes,
               Booking.provider_id, Provider.name.label("provider_name"),
               Provider.timezone, Account.first_name, Account.last_name, Account.email)
        .join(Offering, Offering.id == Booking.offering_id)
        .join(Provider, Provider.id == Booking.provider_id)
        .join(Account, Account.id == Booking.customer_id)
        .where(Booking.starts_at >= start, Booking.starts_at < end,
               Booking.status.in_(statuses))
        .order_by(Booking.starts_at, Booking.id)
        .limit(MAX_BOOKINGS + 1)
    )
    if offering_id is not None:
        query = query.where(Booking.offering_id == offering_id)
    if resource_id is not None:
        query = query.where(exists().where(ResourceBooking.booking_id == Booking.id,
                                           ResourceBooking.resource_id == resource_id))
    rows = db.session.execute(scope.filter(query, Booking)).all()
    return rows[:MAX_BOOKINGS], len(rows) > MAX_BOOKINGS


def _calendar_booking(row, resources: tuple[str, ...] = ()) -> CalendarBooking:
    zone = zone_of(row.timezone)
    starts_at = row.starts_at.astimezone(zone)
    # A booking without an end (a product, an open offering) shows as its duration or an hour.
    ends_at = row.ends_at or row.starts_at + timedelta(minutes=row.duration_minutes or 60)
    name = f"{row.first_name or ''} {row.last_name or ''}".strip() or row.email
    return CalendarBooking(
        booking_id=row.id, reference=row.reference, starts_at=starts_at,
        ends_at=max(ends_at, row.starts_at + timedelta(minutes=1)).astimezone(zone),
        status=row.status, quantity=row.quantity, customer_name=name,
        offering_id=row.offering_id, offering_name=row.offering_name,
        provider_id=row.provider_id, provider_name=row.provider_name,
        zone=row.timezone or "UTC", resources=resources)


# --- the grid ----------------------------------------------------------------------------

def _row_of(moment: datetime) -> Row:
    return (moment.hour, moment.fold)


def _day_shape(day: date, zone_name: str) -> tuple[float, set[Row]]:
    """The day's real length in hours and the wall-clock hour rows it has."""
    zone = zone_of(zone_name)
    start = datetime.combine(day, time.min, zone).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time.min, zone).astimezone(timezone.utc)
    present: set[Row] = set()
    moment = start
    while moment < end:  # whole UTC hours: every zone's changes fall on them but a few
        present.add(_row_of(moment.astimezone(zone)))
        moment += timedelta(minutes=30)
    return (end - start).total_seconds() / 3600, present


def _clock_changes(day_list: list[date], zone_name: str) -> dict[date, ClockChange]:
    """The days whose offset changes, with the moment it does (found in 30-minute steps)."""
    zone = zone_of(zone_name)
    changes = {}
    for day in day_list:
        moment = datetime.combine(day, time.min, zone).astimezone(timezone.utc)
        end = datetime.combine(day + timedelta(days=1), time.min, zone).astimezone(
            timezone.utc)
        while moment < end:
            following = moment + timedelta(minutes=30)
            before, after = moment.astimezone(zone), following.astimezone(zone)
            if before.utcoffset() != after.utcoffset():
                old_wall = (following + before.utcoffset()).replace(tzinfo=None)
                changes[day] = ClockChange(
                    day=day, old_wall=old_wall, new_wall=after,
                    forward=after.utcoffset() > before.utcoffset(),
                    old_abbreviation=before.tzname() or "",
                    new_abbreviation=after.tzname() or "")
                break
            moment = following
    return changes


def _grid_rows(shape: dict[date, tuple[float, set[Row]]],
               by_day: dict[date, list[CalendarBooking]],
               changes: dict[date, ClockChange]) -> list[Row]:
    """Working hours, widened to every booking and to the hours the clocks change in."""
    every: set[Row] = {(hour, 0) for hour in range(24)}
    for _hours, present in shape.values():
        every |= present
    for bookings in by_day.values():
        for booking in bookings:
            every.add(_row_of(booking.starts_at))
    ordered = sorted(every)
    first_hour, last_hour = WORKING_HOURS
    wanted_first, wanted_last = first_hour, last_hour - 1
    for bookings in by_day.values():
        for booking in bookings:
            wanted_first = min(wanted_first, booking.starts_at.hour)
            if booking.ends_at.date() == booking.starts_at.date():
                last = booking.ends_at.hour - (1 if booking.ends_at.minute == 0 else 0)
                wanted_last = max(wanted_last, last, booking.starts_at.hour)
            else:
                wanted_last = 23
    for change in changes.values():
        wanted_first = min(wanted_first, change.hours.start)
        wanted_last = max(wanted_last, change.hours.stop - 1)
    return [row for row in ordered if wanted_first <= row[0] <= wanted_last]


def _row_labels(rows: list[Row], shape: dict, zone_name: str | None) -> list[str]:
    """"09:00"; the two passes of a repeated hour name their offsets ("02:00 CEST")."""
    repeated = {hour for hour, fold in rows if fold}
    labels = []
    for hour, fold in rows:
        label = f"{hour:02d}:00"
        if hour in repeated and not zone_name:
            label = f"{label} again" if fold else label
        elif hour in repeated:
            day = next(day for day, (_h, present) in shape.items() if (hour, 1) in present)
            moment = datetime.combine(day, time(hour), zone_of(zone_name)).replace(fold=fold)
            label = f"{label} {moment.tzname()}"
        labels.append(label)
    return labels


def _position(moment: datetime, index: dict[Row, int], total: int) -> float:
    """Rows from the top of the grid to ``moment`` (clamped to the grid)."""
    row = _row_of(moment)
    if row in index:
        return index[row] + moment.minute / 60
    # Before the shown range, after it, or in a skipped hour: the nearest edge.
    later = [position for (hour, fold), position in index.items() if (hour, fold) > row]
    return float(min(later)) if later else float(total)


def _lay_out(bookings: list[CalendarBooking], index: dict[Row, int],
             total: int) -> tuple[CalendarBooking, ...]:
    """Position each booking; overlapping ones share the width in lanes."""
    placed = []
    for booking in bookings:
        top = _position(booking.starts_at, index, total)
        if booking.ends_at.date() != booking.starts_at.date():
            bottom = float(total)
        else:
            bottom = _position(booking.ends_at, index, total)
        placed.append((top, max(bottom, top + 0.25), booking))  # a sliver stays clickable
    placed.sort(key=lambda item: (item[0], item[1]))
    result: list[CalendarBooking] = []
    cluster: list[tuple[float, float, CalendarBooking, int]] = []
    cluster_end = 0.0  # the bottom of the cluster's lowest booking

    def flush():
        lanes = max((lane for *_rest, lane in cluster), default=-1) + 1
        for top, bottom, booking, lane in cluster:
            result.append(replace(booking, top=top, height=bottom - top, lane=lane,
                                   lanes=lanes))

    for top, bottom, booking in placed:
        if cluster and top >= cluster_end:
            flush()
            cluster = []
        lane_ends: dict[int, float] = {}
        for _top, other_bottom, _booking, lane in cluster:
            lane_ends[lane] = max(lane_ends.get(lane, 0.0), other_bottom)
        lane = next((n for n in range(len(lane_ends) + 1)
                     if lane_ends.get(n, -1.0) <= top), len(lane_ends))
        cluster.append((top, bottom, booking, lane))
        cluster_end = max(cluster_end, bottom) if len(cluster) > 1 else bottom
    if cluster:
        flush()
    return tuple(result)


__all__ = ["CalendarBooking", "CalendarDay", "CalendarView", "ClockChange", "DAY",
           "ResourceChoice", "WEEK", "calendar_offerings", "calendar_resources",
           "calendar_view", "check_offering", "check_resource", "week_start"]
