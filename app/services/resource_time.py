"""The time of resources: which an offering needs, which are free at a time, and taking,
moving and giving back a booking's share of it. One place for the rule.

An offering linked to resources needs one active resource of each kind among them. A
booking of one of its slots takes, of each resource it is given, the slot's time widened
by the offering's buffers (stored on the slot as ``resource_from``/``resource_until``,
so that lists compare columns, never add minutes in SQL). A resource is free at a time
when none of its booked times (``resource_booking``) and none of its busy times
(``resource_busy``: time off, an outside calendar's events) overlap it, and, if it keeps
weekly hours, one of its shifts (``resource_shift``, see
:mod:`app.services.resource_hours`) covers it; intervals are half open, so back to back
is fine.

No double booking, ever: on PostgreSQL an exclusion constraint refuses a second
overlapping time of one resource (the insert waits for a concurrent one to commit, then
fails, and "any available" tries the next resource); SQLite has one writer at a time,
and the overlap is checked before the insert in the same transaction.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import (
    Booking,
    Offering,
    Provider,
    Resource,
    ResourceBooking,
    ResourceBusy,
    ResourceShift,
    Slot,
)
from app.models.resources import RESOURCE_KINDS, offering_resource
from app.services import agenda

NO_OVERLAP = "ex_resource_booking_no_overlap"
RESOURCE_BUSY = ("booking.resource_busy", "Nobody is free to do this at that time any more; "
                 "choose another time.")


@dataclass(frozen=True)
class Needs:
    """Per kind, the active resources (ids, by name) that can do the offering; ``shared``:
    the bookings of one time share them (a class and its teacher)."""

    by_kind: dict[str, list[int]]
    shared: bool = False

    def __bool__(self) -> bool:
        return bool(self.by_kind)


def needs(executor, offering_id: int) -> Needs:
    """A kind whose linked resources are all inactive stays needed, with nobody to do it:
    the offering's times are then neither listed nor bookable."""
    return needs_of_offerings(executor, [offering_id]).get(offering_id, Needs({}))


def needs_of_offerings(executor, offering_ids) -> dict[int, Needs]:
    """The needs of many offerings in one read (those needing none are left out)."""
    if not offering_ids:
        return {}
    rows = executor.execute(_needs_read(), {"offering_ids": list(offering_ids)}).all()
    return _needs_from(rows)


@lru_cache(maxsize=4)
def _needs_read(dialect_name: str = "", with_day_load: bool = False):
    """The read of offerings' resources (bound ``offering_ids``); ``with_day_load``: of
    one offering (bound ``offering_id``), with each resource's bookings in the day
    between ``day_from`` and ``day_until`` (a class counts once, however many are in
    it), for "any available", and the time a booking of ``slot_id`` takes. Built once
    per dialect."""
    columns = [offering_resource.c.offering_id, Resource.id, Resource.kind, Resource.active,
               Offering.resources_shared]
    offerings = offering_resource.c.offering_id.in_(bindparam("offering_ids",
                                                              expanding=True))
    if with_day_load:
        columns.append(select(func.count(func.distinct(ResourceBooking.share_key)))
                       .where(ResourceBooking.resource_id == Resource.id,
                              _meets(ResourceBooking, bindparam("day_from"),
                                     bindparam("day_until"), dialect_name))
                       .correlate(Resource).scalar_subquery().label("day_load"))
        # The time a booking of the slot (bound ``slot_id``) takes, buffers included.
        for name, bound, own in (("taken_from", Slot.resource_from, Slot.starts_at),
                                 ("taken_until", Slot.resource_until, Slot.ends_at)):
            columns.append(select(func.coalesce(bound, own))
                           .where(Slot.id == bindparam("slot_id"))
                           .scalar_subquery().label(name))
        offerings = offering_resource.c.offering_id == bindparam("offering_id")
    return (select(*columns)
            .join(Resource, Resource.id == offering_resource.c.resource_id)
            .join(Offering, Offering.id == offering_resource.c.offering_id)
            .where(offerings)
            .order_by(Resource.name, Resource.id))


def _needs_from(rows) -> dict[int, Needs]:
    found: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    shared: dict[int, bool] = {}
    for row in rows:
        found[row.offering_id][row.kind] += [row.id] if row.active else []
        shared[row.offering_id] = row.resources_shared
    return {offering_id: Needs({kind: kinds[kind] for kind in RESOURCE_KINDS if kind in kinds},
                               shared[offering_id])
            for offering_id, kinds in found.items()}


def share_key(needs_: Needs, *, booking_id: int, slot_id: int) -> str:
    """Which rows of a resource may overlap this booking's: the time's other bookings
    when the offering shares its resources, else none."""
    return f"slot:{slot_id}" if needs_.shared else f"booking:{booking_id}"


# --- what a slot takes ---------------------------------------------------------------------

def slot_bounds(starts_at: datetime, ends_at: datetime, buffer_before: int,
                buffer_after: int) -> tuple[datetime | None, datetime | None]:
    """A slot's ``resource_from``/``resource_until``: None without buffers (its own times)."""
    if not buffer_before and not buffer_after:
        return None, None
    return (starts_at - timedelta(minutes=buffer_before),
            ends_at + timedelta(minutes=buffer_after))


def taken_between(slot) -> tuple[datetime, datetime]:
    """The time a booking of ``slot`` (a row with the four columns) takes of a resource."""
    return (slot.resource_from or slot.starts_at, slot.resource_until or slot.ends_at)


def _overlapping(model, resource_id, start, end, dialect_name: str = ""):
    # Correlated to every outer table (the resource, the slot of a list), not only the
    # one around it.
    return exists().where(model.resource_id == resource_id,
                          _meets(model, start, end, dialect_name)).correlate_except(model)


def _meets(model, start, end, dialect_name: str = ""):
    """The row's time overlaps [start, end). On PostgreSQL, booked times are asked as
    ranges, which the exclusion constraint's GiST index answers by resource and time;
    as two column comparisons the btree index would read the resource's whole history
    up to ``end``."""
    if model is ResourceBooking and (dialect_name or db.engine.dialect.name) == "postgresql":
        return func.tstzrange(model.starts_at, model.ends_at, "[)").op("&&")(
            func.tstzrange(start, end, "[)"))
    return and_(model.starts_at < end, model.ends_at > start)


def _on_shift(resource_id, start, end):
    """A shift of the resource covers the whole time (for resources keeping hours)."""
    return exists().where(ResourceShift.resource_id == resource_id,
                          ResourceShift.starts_at <= start,
                          ResourceShift.ends_at >= end).correlate_except(ResourceShift)


def _unavailable(resource_id, start, end):
    """Busy (time off, an outside calendar) or off duty then: anything but a booking."""
    return or_(_overlapping(ResourceBusy, resource_id, start, end),
               exists().where(Resource.id == resource_id, Resource.keeps_hours.is_(True),
                              ~_on_shift(resource_id, start, end)))


# --- lists: the times with a resource free --------------------------------------------------

def free_conditions(needs_: Needs, resource_id: int | None = None,
                    moving_booking: int | None = None) -> list:
    """WHERE conditions on ``Slot``: for each kind the offering needs, one of its resources
    (``resource_id`` alone, for its kind, when the customer chose one) is free for the
    slot's time, buffers included. ``moving_booking``: a booking being moved, whose own
    time is given back as it moves, so it is not in its own way."""
    start = func.coalesce(Slot.resource_from, Slot.starts_at)
    end = func.coalesce(Slot.resource_until, Slot.ends_at)
    booked = _overlapping(ResourceBooking, Resource.id, start, end)
    if moving_booking is not None:
        booked = booked.where(ResourceBooking.booking_id != moving_booking)
    if needs_.shared:  # the time's own bookings share its teacher, not take them
        booked = booked.where(
            ResourceBooking.share_key != literal("slot:") + cast(Slot.id, String))
    conditions = []
    for kind, candidates in needs_.by_kind.items():
        if resource_id is not None and resource_id in candidates:
            if needs_.shared:  # a class someone else of that kind has already
                conditions.append(~exists().where(
                    ResourceBooking.share_key == literal("slot:") + cast(Slot.id, String),
                    ResourceBooking.resource_id.in_(candidates),
                    ResourceBooking.resource_id != resource_id))
            candidates = [resource_id]
        conditions.append(exists().where(
            Resource.id.in_(candidates),
            ~booked,
            ~_overlapping(ResourceBusy, Resource.id, start, end),
            or_(Resource.keeps_hours.is_(False), _on_shift(Resource.id, start, end))))
    return conditions


def free_counts(needs_: Needs, resource_id: int | None = None) -> list:
    """Per kind the offering needs, how many of its resources (``resource_id`` alone for
    its kind, when chosen) are free for the slot (a column each, on ``Slot``): for an
    appointment, how many more bookings the time can take whatever its places say. Empty
    for an offering that shares them (a class)."""
    if needs_.shared:
        return []
    start = func.coalesce(Slot.resource_from, Slot.starts_at)
    end = func.coalesce(Slot.resource_until, Slot.ends_at)
    chosen = [[resource_id] if resource_id in candidates else candidates
              for candidates in needs_.by_kind.values()]
    return [select(func.count(Resource.id)).where(
        Resource.id.in_(candidates),
        ~_overlapping(ResourceBooking, Resource.id, start, end),
        ~_overlapping(ResourceBusy, Resource.id, start, end),
        or_(Resource.keeps_hours.is_(False), _on_shift(Resource.id, start, end)))
        .correlate(Slot).scalar_subquery()
        for candidates in chosen]


def slot_conditions_for(executor, offering_id: int, resource_id: int | None = None,
                        moving_booking: int | None = None) -> list:
    """The conditions for one offering's slots (none when it needs no resources)."""
    found = needs(executor, offering_id)
    _check_choice(found, resource_id)
    return free_conditions(found, resource_id, moving_booking) if found else []


def someone_free(executor, offering_id: int, slot_id: int) -> bool:
    """One of each kind the offering needs is free for the slot (True when it needs
    none)."""
    found = needs(executor, offering_id)
    if not found:
        return True
    return bool(executor.scalar(select(exists().where(Slot.id == slot_id,
                                                      *free_conditions(found)))))


def _check_choice(found: Needs, chosen: int | None) -> None:
    """The customer's choice must be one of the offering's resources."""
    if chosen is not None and not any(chosen in ids for ids in found.by_kind.values()):
        raise ValidationFailed("resource.not_of_offering", "Nobody of that name does this.",
                               {"resource_id": ["Not one of this offering's resources."]})


# --- a booking's share ------------------------------------------------------------------------

def assign(conn, *, booking_id: int, provider_id: int, offering_id: int, slot_id: int,
           starts_at: datetime, chosen: int | None = None, prefer: tuple[int, ...] = (),
           zone_name: str | None = None) -> list[int]:
    """Take, for the booking, one free resource of each kind the offering needs, in the
    caller's transaction; returns the resources' ids. ``chosen``: the customer's choice
    (refused when busy); otherwise "any available", the least booked that day first
    (``prefer`` first: a moved booking keeps its people if they are free). When the
    offering shares its resources and the time has bookings already, its resources are
    theirs (the class has its teacher): a choice of someone else is refused.
    ``starts_at``: the slot's start (its day); ``zone_name``: the provider's time zone,
    read here when not given (a stale one only changes whom "any available" tries
    first)."""
    if zone_name is None:
        zone_name = conn.scalar(select(Provider.timezone).where(Provider.id == provider_id))
    day = _local_day(zone_name, starts_at)
    rows = conn.execute(_needs_read(conn.dialect.name, with_day_load=True),
                        {"offering_id": offering_id, "slot_id": slot_id,
                         "day_from": day[0], "day_until": day[1]}).all()
    found = _needs_from(rows).get(offering_id)
    if not found:
        return []
    load = {row.id: row.day_load for row in rows}
    start, end = rows[0].taken_from, rows[0].taken_until
    _check_choice(found, chosen)
    key = share_key(found, booking_id=booking_id, slot_id=slot_id)
    with_the_time = _sharing(conn, key) if found.shared else set()
    orders = []  # per kind, the resources to try, in order
    for kind, candidates in found.by_kind.items():
        present = [rid for rid in candidates if rid in with_the_time]
        if present and chosen in candidates and chosen not in present:
            raise Conflict(*RESOURCE_BUSY, {"resource_id": [
                "That time is with someone else."]})
        if present:
            orders.append((kind, present))
        elif chosen in candidates:
            orders.append((kind, [chosen]))
        else:
            orders.append((kind, _fairest_first(candidates, load, prefer)))
    taker = _take_first_free_of_each if conn.dialect.name == "postgresql" else \
        _take_first_free_one_writer
    taken = taker(conn, [order for _kind, order in orders], booking_id, provider_id,
                  start, end, key)
    for (kind, order), resource_id in zip(orders, taken):
        if resource_id is None:
            raise Conflict(*RESOURCE_BUSY, {"resource_id": [
                "Busy at that time." if chosen in found.by_kind[kind] else
                f"No {kind} is free at that time."]})
    return taken


def rekey_offering(conn, offering_id: int) -> int:
    """The offering's bookings' resource rows follow its sharing (switched by staff): a
    class's bookings of one time come to share their teacher, or each booking has them
    to itself again. Refused as a whole (``Conflict``) when a time has several bookings
    sharing someone, as they could not each have them. Returns the rows changed."""
    shared = conn.scalar(select(Offering.resources_shared).where(Offering.id == offering_id))
    of_offering = select(Booking.id).where(Booking.offering_id == offering_id)
    if not shared:
        check_unsharable(conn, offering_id)
        wanted = literal("booking:") + cast(ResourceBooking.booking_id, String)
    else:
        wanted = literal("slot:") + cast(select(Booking.slot_id).where(
            Booking.id == ResourceBooking.booking_id).scalar_subquery(), String)
    return conn.execute(update(ResourceBooking).where(
        ResourceBooking.booking_id.in_(of_offering), ResourceBooking.share_key != wanted)
        .values(share_key=wanted)).rowcount


def check_unsharable(executor, offering_id: int) -> None:
    """Refused (``Conflict``) while a time of the offering has several bookings sharing a
    person or room: they could not each have them to themselves."""
    crowded = executor.scalar(select(ResourceBooking.share_key).where(
        ResourceBooking.booking_id.in_(select(Booking.id).where(
            Booking.offering_id == offering_id)),
        ResourceBooking.share_key.like("slot:%"))
        .group_by(ResourceBooking.share_key, ResourceBooking.resource_id)
        .having(func.count() > 1).limit(1))
    if crowded is not None:
        raise Conflict("resource.shared_in_use",
                       "Some times of this offering have several bookings sharing a "
                       "person or room; move or cancel them first, or keep it shared.",
                       {"resources_shared": ["Several bookings share someone."]})


def release(conn, booking_id: int) -> None:
    """The booking no longer holds its place: its resources' time is free again."""
    conn.execute(delete(ResourceBooking).where(ResourceBooking.booking_id == booking_id))


def assigned(executor, booking_id: int) -> list[int]:
    return list(executor.scalars(select(ResourceBooking.resource_id).where(
        ResourceBooking.booking_id == booking_id).order_by(ResourceBooking.id)))


def _sharing(conn, key: str) -> set[int]:
    """The resources the time's other bookings have (an offering that shares them)."""
    return set(conn.scalars(select(ResourceBooking.resource_id).where(
        ResourceBooking.share_key == key)))


def _take_first_free_of_each(conn, orders, booking_id, provider_id, start, end,
                             key) -> list[int | None]:
    """PostgreSQL: per kind (``orders``: the resources of each, in order), the first
    resource free then, or None; every kind in one statement while nobody takes the same
    people at the same moment. A resource free when the statement began but taken by a
    concurrent booking since is left out by the exclusion constraint; the ones after it
    are then tried one by one."""
    ids, groups, ranks = [], [], []
    for group, order in enumerate(orders):
        ids += order
        groups += [group] * len(order)
        ranks += range(len(order))
    picked = {row.grp: row for row in conn.execute(_take_first_free_of_each_statement(), {
        "ids": ids, "groups": groups, "ranks": ranks, "booking_id": booking_id,
        "provider_id": provider_id, "starts_at": start, "ends_at": end,
        "share_key": key})}
    taken: list[int | None] = []
    for group, order in enumerate(orders):
        row = picked.get(group)
        if row is None:  # nobody of the kind free
            taken.append(None)
        elif row.taken:
            taken.append(row.resource_id)
        else:
            taken.append(_take_first_free(conn, order[order.index(row.resource_id) + 1:],
                                          booking_id, provider_id, start, end, key))
    return taken


def _take_first_free(conn, order, booking_id, provider_id, start, end, key) -> int | None:
    """PostgreSQL: one statement per resource tried, which inserts the time only if the
    resource is neither busy nor off shift, and leaves it out when the exclusion
    constraint finds an overlapping time (after a concurrent taker commits): no
    savepoint, no separate check."""
    for resource_id in order:
        taken = conn.execute(_TAKE_IF_FREE, {
            "resource_id": resource_id, "booking_id": booking_id,
            "provider_id": provider_id, "starts_at": start, "ends_at": end,
            "share_key": key}).first()
        if taken is not None:
            return resource_id
    return None


_TAKEN_COLUMNS = ["resource_id", "booking_id", "provider_id", "starts_at", "ends_at",
                  "share_key"]


def _new_row_values(resource_id):
    start = bindparam("starts_at", type_=ResourceBooking.starts_at.type)
    end = bindparam("ends_at", type_=ResourceBooking.ends_at.type)
    return start, end, (resource_id, bindparam("booking_id", type_=Integer),
                        bindparam("provider_id", type_=Integer), start, end,
                        bindparam("share_key", type_=String))


def _take_if_free():
    resource_id = bindparam("resource_id", type_=ResourceBooking.resource_id.type)
    start, end, values = _new_row_values(resource_id)
    new_row = select(*values).where(~_unavailable(resource_id, start, end))
    return (pg_insert(ResourceBooking).from_select(_TAKEN_COLUMNS, new_row)
            .on_conflict_do_nothing(constraint=NO_OVERLAP)
            .returning(ResourceBooking.id))


@lru_cache(maxsize=1)
def _take_first_free_of_each_statement():
    """``WITH pick AS (the first of each group neither busy, off shift nor booked then),
    ins AS (INSERT … SELECT FROM pick ON CONFLICT … DO NOTHING RETURNING …)`` and
    every pick, with whether it was inserted."""
    candidates = func.unnest(
        bindparam("ids", type_=ARRAY(Integer)), bindparam("groups", type_=ARRAY(Integer)),
        bindparam("ranks", type_=ARRAY(Integer))).table_valued(
        "resource_id", "grp", "rnk").render_derived(name="candidate")
    start, end, values = _new_row_values(candidates.c.resource_id)
    booked = _overlapping(ResourceBooking, candidates.c.resource_id, start, end,
                          "postgresql").where(
        ResourceBooking.share_key != bindparam("share_key", type_=String))
    pick = (select(candidates.c.grp, *(value.label(name) for name, value in
                                       zip(_TAKEN_COLUMNS, values)))
            .where(~_unavailable(candidates.c.resource_id, start, end), ~booked)
            .ext(distinct_on(candidates.c.grp))
            .order_by(candidates.c.grp, candidates.c.rnk)
            .cte("pick"))
    inserted = (pg_insert(ResourceBooking)
                .from_select(_TAKEN_COLUMNS, select(*(pick.c[name]
                                                      for name in _TAKEN_COLUMNS)))
                .on_conflict_do_nothing(constraint=NO_OVERLAP)
                .returning(ResourceBooking.resource_id).cte("inserted"))
    return (select(pick.c.resource_id, pick.c.grp,
                   inserted.c.resource_id.is_not(None).label("taken"))
            .select_from(pick.outerjoin(inserted,
                                        inserted.c.resource_id == pick.c.resource_id)))


_TAKE_IF_FREE = _take_if_free()


def _take_first_free_one_writer(conn, orders, booking_id, provider_id, start, end,
                                key) -> list[int | None]:
    """SQLite: one writer at a time, so the overlap is checked before the insert; per
    kind the first resource free then, or None."""
    taken: list[int | None] = []
    for order in orders:
        taken.append(None)
        for resource_id in order:
            if conn.scalar(select(_unavailable(resource_id, start, end))):
                continue
            if conn.scalar(select(_overlapping(ResourceBooking, resource_id, start,
                                               end).where(
                    ResourceBooking.share_key != key))):
                continue
            conn.execute(insert(ResourceBooking).values(
                resource_id=resource_id, booking_id=booking_id, provider_id=provider_id,
                starts_at=start, ends_at=end, share_key=key))
            taken[-1] = resource_id
            break
    return taken


def _fairest_first(candidates, load: dict[int, int], prefer) -> list[int]:
    """The least booked that day first (then by name); ``prefer`` before them all."""
    return sorted(candidates, key=lambda rid: (rid not in prefer, load.get(rid) or 0,
                                               candidates.index(rid)))


def _local_day(zone_name: str | None, moment: datetime) -> tuple[datetime, datetime]:
    """The provider's day around ``moment``, as two moments."""
    zone = agenda.zone_of(zone_name or "UTC")
    local_day = moment.astimezone(zone).date()
    first = datetime.combine(local_day, time(0), zone)
    following = datetime.combine(local_day + timedelta(days=1), time(0), zone)
    return first, following
