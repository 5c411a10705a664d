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

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    all_,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, distinct_on
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


# pg_advisory_xact_lock(TAKING_TURN, provider id): one provider's bookings take their
# resources' time one at a time (the first of the two keys: this lock's kind).
TAKING_TURN = 1


class NobodyFree(Conflict):
    """No resource of a kind the offering needs is free (or the one chosen is busy).
    ``took_any``: some other kind's time was taken in the transaction before that was
    found; if not, the transaction wrote nothing here."""

    def __init__(self, details: dict, *, took_any: bool):
        super().__init__(*RESOURCE_BUSY, details)
        self.took_any = took_any


@dataclass(frozen=True)
class Needs:
    """Per kind, the active resources (ids, by name) that can do the offering; ``shared``:
    the bookings of one time share them (a class and its teacher)."""

    by_kind: dict[str, list[int]]
    shared: bool = False
    # Every linked resource as "id:kind:active", by id: what a remembered copy is
    # checked against (:func:`_links_unchanged`).
    fingerprint: str = ""

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
    rows = executor.execute(_NEEDS_READ, {"offering_ids": list(offering_ids)}).all()
    return _needs_from(rows)


# Built once: every booking of an offering done by staff or rooms reads it.
_NEEDS_READ = (select(offering_resource.c.offering_id, Resource.id, Resource.kind,
                      Resource.active, Offering.resources_shared)
               .join(Resource, Resource.id == offering_resource.c.resource_id)
               .join(Offering, Offering.id == offering_resource.c.offering_id)
               .where(offering_resource.c.offering_id.in_(
                   bindparam("offering_ids", expanding=True)))
               .order_by(Resource.name, Resource.id))


def _needs_from(rows) -> dict[int, Needs]:
    found: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    shared: dict[int, bool] = {}
    links: dict[int, list] = defaultdict(list)
    for row in rows:
        found[row.offering_id][row.kind] += [row.id] if row.active else []
        shared[row.offering_id] = row.resources_shared
        links[row.offering_id].append((row.id, row.kind, row.active))
    return {offering_id: Needs({kind: kinds[kind] for kind in RESOURCE_KINDS if kind in kinds},
                               shared[offering_id], _fingerprint(links[offering_id]))
            for offering_id, kinds in found.items()}


def _fingerprint(links) -> str:
    return ",".join(f"{rid}:{kind}:{int(bool(active))}" for rid, kind, active
                    in sorted(links))


def _links_unchanged():
    """PostgreSQL: the offering's (bound ``offering_id``) linked resources, kinds and
    active flags are still the ``fingerprint`` remembered, and its sharing ``shared``:
    one uncorrelated read of a few rows per statement."""
    link = func.concat(cast(Resource.id, String), literal(":"), Resource.kind, literal(":"),
                       case((Resource.active.is_(True), literal("1")), else_=literal("0")))
    now = (select(func.string_agg(link, aggregate_order_by(literal(","), Resource.id)))
           .join(offering_resource, offering_resource.c.resource_id == Resource.id)
           .where(offering_resource.c.offering_id == bindparam("offering_id"))
           .scalar_subquery())
    return and_(now == bindparam("fingerprint", type_=String),
                exists().where(Offering.id == bindparam("offering_id"),
                               Offering.resources_shared == bindparam("shared")))


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

# For the rest of the transaction, also plans made once per prepared statement: the
# taking statement reads arrays, whose lengths PostgreSQL sees only in a plan made for
# the values, so it would plan that statement again at every booking (about 1 ms, more
# than running it) instead of keeping the plan it made once for any values.
_START_TAKING = text(
    "SELECT nextval('booking_id_seq'), "
    "set_config('plan_cache_mode', 'force_generic_plan', true), "
    f"pg_advisory_xact_lock({TAKING_TURN}, CAST(:provider_id AS integer))")


def start_taking(conn, provider_id: int) -> int:
    """PostgreSQL, first in the transaction of a new booking that takes resources' time
    before its own row is written: its id, drawn now, once its provider's other bookings
    have taken theirs (see :func:`assign`'s ``turn_taken``); one round trip."""
    return conn.execute(_START_TAKING, {"provider_id": provider_id}).scalar_one()


def take_turn(conn, provider_id: int) -> None:
    """PostgreSQL: wait for the provider's turn at its resources' time, held to the end
    of the transaction (see :func:`assign`); nothing on SQLite, one writer already."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(select(func.pg_advisory_xact_lock(literal_column(str(TAKING_TURN)),
                                                   bindparam("provider_id", type_=Integer))),
                 {"provider_id": provider_id})


def assign(conn, *, booking_id: int, provider_id: int, offering_id: int, slot_id: int,
           starts_at: datetime | None = None, chosen: int | None = None,
           prefer: tuple[int, ...] = (), zone_name: str | None = None,
           turn_taken: bool = False) -> list[int]:
    """Take, for the booking, one free resource of each kind the offering needs, in the
    caller's transaction; returns the resources' ids. ``chosen``: the customer's choice
    (refused when busy); otherwise "any available", the least booked that day first
    (``prefer`` first: a moved booking keeps its people if they are free). When the
    offering shares its resources and the time has bookings already, its resources are
    theirs (the class has its teacher): a choice of someone else is refused.
    ``starts_at``: the slot's start (its day); ``zone_name``: the provider's time zone,
    read here when not given (a stale one only changes whom "any available" tries
    first). On PostgreSQL the statement reads the slot's day itself, and ``starts_at``
    may be None; the booking's row may come later in the transaction (the foreign key is
    checked at commit). Nobody free of a kind raises :class:`NobodyFree`.

    On PostgreSQL one provider's bookings take their resources' time one at a time (a
    transaction-level advisory lock, taken here unless ``turn_taken``: by
    :func:`start_taking` or :func:`take_turn`, before any slot's row): each sees the people the one before took, so concurrent
    bookings do not collide on a person, and none holds one person while waiting for
    another (two bookings each waiting for the other's were a deadlock). The exclusion
    constraint still decides, for every other writer of the table.

    On PostgreSQL the offering's needs are remembered per process: the statement that
    takes the time takes nothing unless the offering's links, their kinds and active
    flags and its sharing are still as remembered, and a kind it finds nobody for is
    asked again with the needs read afresh, so a stale memory costs a statement, never
    a wrong booking or a person left out."""
    if zone_name is None:
        zone_name = conn.scalar(select(Provider.timezone).where(Provider.id == provider_id))
    postgres = conn.dialect.name == "postgresql"
    day = None if postgres else _local_day(zone_name, starts_at)
    found = _remembered_needs.get(offering_id) if postgres else None
    remembered = found is not None and (chosen is None or _does(found, chosen))
    if not remembered:
        found = _read_needs(conn, offering_id, remember=postgres)
    if postgres and found and not turn_taken:  # before the statements that look
        take_turn(conn, provider_id)
    take = _take_first_free_of_each if postgres else _take_first_free_one_writer
    taken: dict[str, int] = {}
    while found:
        _check_choice(found, chosen)
        key = share_key(found, booking_id=booking_id, slot_id=slot_id)
        missing = [(kind, order) for kind, order in _orders(conn, found, chosen, key)
                   if kind not in taken]
        picked, as_remembered, short = take(conn, missing, _TakeRequest(
            booking_id=booking_id, provider_id=provider_id, offering_id=offering_id,
            slot_id=slot_id, share_key=key, shared=found.shared,
            fingerprint=found.fingerprint, prefer=tuple(prefer), zone_name=zone_name,
            day=day))
        taken.update((kind, resource_id) for (kind, _order), resource_id
                     in zip(missing, picked) if resource_id is not None)
        nobody = short or [kind for kind in found.by_kind if kind not in taken]
        if not nobody:
            return [taken[kind] for kind in found.by_kind]
        if remembered and not as_remembered:  # linked, unlinked or switched since
            found, remembered = _read_needs(conn, offering_id, remember=True), False
            continue
        raise NobodyFree({"resource_id": [
            "Busy at that time." if chosen in found.by_kind[nobody[0]] else
            f"No {nobody[0]} is free at that time."]}, took_any=bool(taken))
    return list(taken.values())


@dataclass(frozen=True)
class _TakeRequest:
    booking_id: int
    provider_id: int
    offering_id: int
    slot_id: int
    share_key: str
    shared: bool
    fingerprint: str
    prefer: tuple[int, ...]
    zone_name: str
    day: tuple[datetime, datetime] | None  # SQLite's (PostgreSQL's statement reads it)

    def parameters(self, tried) -> dict:
        day = {"day_from": self.day[0], "day_until": self.day[1]} if self.day else {
            "zone_name": self.zone_name}
        return {"booking_id": self.booking_id, "provider_id": self.provider_id,
                "offering_id": self.offering_id, "slot_id": self.slot_id,
                "share_key": self.share_key, "shared": self.shared,
                "fingerprint": self.fingerprint, "prefer": list(self.prefer), "tried": list(tried),
                **day}


def _does(found: Needs, resource_id: int) -> bool:
    return any(resource_id in ids for ids in found.by_kind.values())


def _orders(conn, found: Needs, chosen: int | None, key: str):
    """Per kind, the resources that may be given: the time's own for a class that has
    them, the customer's choice, or all of the kind (the statement orders them)."""
    with_the_time = _sharing(conn, key) if found.shared else set()
    for kind, candidates in found.by_kind.items():
        present = [rid for rid in candidates if rid in with_the_time]
        if present and chosen in candidates and chosen not in present:
            raise Conflict(*RESOURCE_BUSY, {"resource_id": [
                "That time is with someone else."]})
        yield kind, present or ([chosen] if chosen in candidates else candidates)


REMEMBERED_NEEDS = 10_000
_remembered_needs: dict[int, Needs] = {}
_remembering = threading.Lock()  # threaded servers: one writer at a time


def _read_needs(conn, offering_id: int, *, remember: bool) -> Needs:
    found = needs(conn, offering_id)
    if remember and found:
        with _remembering:
            _remembered_needs.pop(offering_id, None)
            if len(_remembered_needs) >= REMEMBERED_NEEDS:
                del _remembered_needs[next(iter(_remembered_needs))]
            _remembered_needs[offering_id] = found
    return found


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


def _take_first_free_of_each(conn, groups, request: _TakeRequest):
    """PostgreSQL: per kind (``groups``: (kind, resource ids)), the first resource free
    then in fair order (:func:`_fair_order`), or None; every kind in one statement, which
    takes nothing unless it finds someone of each kind asked. A resource free when the
    statement began but taken by a concurrent booking since is left out by the exclusion
    constraint, and the kinds it leaves are asked again without it. Also whether the
    offering's links were as remembered (if not, nothing was taken), and the kinds the
    last statement found nobody free of (then it took nothing)."""
    taken: dict[int, int | None] = {}
    tried: list[int] = []
    as_remembered = True
    short: list[str] = []
    while len(taken) < len(groups):
        asked = [group for group in range(len(groups)) if group not in taken]
        ids, numbers, kinds = [], [], []
        for group in asked:
            kind, order = groups[group]
            ids += order
            numbers += [group] * len(order)
            kinds += [kind] * len(order)
        rows = conn.execute(_take_first_free_statement(), {
            "ids": ids, "groups": numbers, "kinds": kinds, "group_count": len(asked),
            **request.parameters(tried)}).all()
        as_remembered = as_remembered and rows[0].links_as_remembered
        picked = {row.grp: row for row in rows if row.resource_id is not None}
        short = [groups[group][0] for group in asked if group not in picked]
        if short:  # nobody free of a kind: the others were not taken either
            taken.update((group, None) for group in asked)
            break
        for group in asked:
            if picked[group].taken:
                taken[group] = picked[group].resource_id
            else:  # taken by another writer meanwhile: ask again without them
                tried.append(picked[group].resource_id)
    return [taken[group] for group in range(len(groups))], as_remembered, short


def _take_first_free_one_writer(conn, groups, request: _TakeRequest):
    """SQLite: one writer at a time, so the first resource free then (in fair order) of
    each kind is inserted, when every kind has one; per kind its id, or None (and True:
    the needs were read in this transaction; and the kinds with nobody free)."""
    person = _PERSON
    start, end = _slot_time()
    parameters = request.parameters(())
    bounds = conn.execute(select(start, end), parameters).one()
    picked = [conn.scalar(
        select(person.c.id).where(person.c.id.in_(order),
                                  *_free_and_needed(person, start, end, "sqlite"))
        .order_by(*_fair_order(person, "sqlite")).limit(1), parameters)
        for _kind, order in groups]
    short = [kind for (kind, _order), resource_id in zip(groups, picked)
             if resource_id is None]
    if short:
        return [None] * len(groups), True, short
    for resource_id in picked:
        conn.execute(insert(ResourceBooking).values(
            resource_id=resource_id, booking_id=request.booking_id,
            provider_id=request.provider_id, starts_at=bounds[0], ends_at=bounds[1],
            share_key=request.share_key))
    return picked, True, []


_PERSON = Resource.__table__.alias("person")
_TAKEN_COLUMNS = ["resource_id", "booking_id", "provider_id", "starts_at", "ends_at",
                  "share_key"]


def _slot_time():
    """The time a booking of the slot (bound ``slot_id``) takes, buffers included."""
    return tuple(select(func.coalesce(bound, own)).where(Slot.id == bindparam("slot_id"))
                 .scalar_subquery()
                 for bound, own in ((Slot.resource_from, Slot.starts_at),
                                    (Slot.resource_until, Slot.ends_at)))


def _slot_day():
    """PostgreSQL: the provider's day (bound ``zone_name``) around the slot's start, as
    two moments (what :func:`_local_day` gives in Python; a day of 23 or 25 hours
    included)."""
    zone = bindparam("zone_name", type_=String)
    midnight = func.date_trunc(literal_column("'day'"), func.timezone(zone, Slot.starts_at))
    return tuple(select(func.timezone(zone, local)).where(Slot.id == bindparam("slot_id"))
                 .scalar_subquery()
                 for local in (midnight, midnight + literal_column("interval '1 day'")))


def _free_and_needed(person, start, end, dialect_name: str) -> list:
    """``person`` (a resource) is active, free for the time and not among those
    ``tried``."""
    booked = _overlapping(ResourceBooking, person.c.id, start, end, dialect_name).where(
        ResourceBooking.share_key != bindparam("share_key", type_=String))
    not_tried = (person.c.id != all_(bindparam("tried", type_=ARRAY(Integer)))
                 if dialect_name == "postgresql" else
                 ~person.c.id.in_(bindparam("tried", expanding=True)))
    return [person.c.active.is_(True), not_tried, ~_unavailable(person.c.id, start, end),
            ~booked]


def _fair_order(person, dialect_name: str, day=None) -> list:
    """Whom "any available" tries first: ``prefer`` (a moved booking's people), then the
    least booked in the day (``day``, two moments; else bound ``day_from`` to
    ``day_until``; a class counts once, however many are in it), then by name."""
    day_from, day_until = day or (bindparam("day_from"), bindparam("day_until"))
    day_load = (select(func.count(func.distinct(ResourceBooking.share_key)))
                .where(ResourceBooking.resource_id == person.c.id,
                       _meets(ResourceBooking, day_from, day_until, dialect_name))
                .correlate_except(ResourceBooking).scalar_subquery())
    preferred = (person.c.id == any_(bindparam("prefer", type_=ARRAY(Integer)))
                 if dialect_name == "postgresql" else
                 person.c.id.in_(bindparam("prefer", expanding=True)))
    return [case((preferred, 0), else_=1), day_load, person.c.name, person.c.id]


@lru_cache(maxsize=1)
def _take_first_free_statement():
    """``WITH slot_time, links (whether the offering's links are as remembered), pick AS
    (per group the first in fair order that is free, when they are), inserted AS (INSERT
    … SELECT FROM pick WHERE every group has one ON CONFLICT … DO NOTHING RETURNING
    …)``: every pick, with
    whether it was inserted, and at least one row, which says whether the links were as
    remembered. The slot and the links are read once each."""
    candidates = func.unnest(
        bindparam("ids", type_=ARRAY(Integer)), bindparam("groups", type_=ARRAY(Integer)),
        bindparam("kinds", type_=ARRAY(String))).table_valued(
        "resource_id", "grp", "kind").render_derived(name="candidate")
    person = _PERSON
    slot_time = select(*(column.label(name) for name, column in zip(
        ("starts_at", "ends_at", "day_from", "day_until"), _slot_time() + _slot_day()))
    ).cte("slot_time")
    links = select(_links_unchanged().label("as_remembered")).cte("links")
    start, end = slot_time.c.starts_at, slot_time.c.ends_at
    values = (person.c.id, bindparam("booking_id", type_=Integer),
              bindparam("provider_id", type_=Integer), start, end,
              bindparam("share_key", type_=String))
    pick = (select(candidates.c.grp, *(value.label(name) for name, value in
                                       zip(_TAKEN_COLUMNS, values)))
            .select_from(candidates.join(person, and_(
                person.c.id == candidates.c.resource_id,
                person.c.kind == candidates.c.kind))
                .join(slot_time, true()).join(links, links.c.as_remembered))
            .where(*_free_and_needed(person, start, end, "postgresql"))
            .ext(distinct_on(candidates.c.grp))
            .order_by(candidates.c.grp, *_fair_order(
                person, "postgresql", (slot_time.c.day_from, slot_time.c.day_until)))
            .cte("pick"))
    # All or nothing: someone of each kind asked (``group_count``), or nobody taken.
    every_kind = select(func.count()).select_from(pick).scalar_subquery() == bindparam(
        "group_count", type_=Integer)
    inserted = (pg_insert(ResourceBooking)
                .from_select(_TAKEN_COLUMNS, select(*(pick.c[name]
                                                      for name in _TAKEN_COLUMNS))
                             .where(every_kind))
                .on_conflict_do_nothing(constraint=NO_OVERLAP)
                .returning(ResourceBooking.resource_id).cte("inserted"))
    return (select(links.c.as_remembered.label("links_as_remembered"), pick.c.resource_id,
                   pick.c.grp, inserted.c.resource_id.is_not(None).label("taken"))
            .select_from(links.outerjoin(pick, true())
                         .outerjoin(inserted, inserted.c.resource_id == pick.c.resource_id)))


def _local_day(zone_name: str | None, moment: datetime) -> tuple[datetime, datetime]:
    """The provider's day around ``moment``, as two moments."""
    zone = agenda.zone_of(zone_name or "UTC")
    local_day = moment.astimezone(zone).date()
    first = datetime.combine(local_day, time(0), zone)
    following = datetime.combine(local_day + timedelta(days=1), time(0), zone)
    return first, following
