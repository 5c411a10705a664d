#!/usr/bin/env python
"""Resources at scale: an offering's free times for 14 days when staff and rooms do it.

Builds (or reuses) its own PostgreSQL database, ``bookwell_bench_resources`` (created and
migrated here): 500 providers with 5 resources each (staff and rooms, every one keeping
weekly hours 08:00-20:00 on the provider's clock, staff with a day off a week, so every
resource has its shifts laid out as the app lays them out), 100,000 services each linked
to 3 of their provider's resources, their slots for the coming 16 days, 1,000,000
bookings (the coming days' and, going back, as many past days' as it takes) with the
resource time each holding booking took, some time off and busy hours. The data is
consistent by construction: no resource is booked twice at a time (the exclusion
constraint would refuse it), off its shift or when busy; a slot's booked count is its
holding bookings; cancelled bookings hold no resource time.

Then it times, in-process (app context, real PostgreSQL, catalog cache off), for random
offerings, in turns so every kind of read is measured under the same conditions:

- any available: the offering's free times for the provider's next 14 days
  (``free_times._free_between``, what the picker's reads are built on), nobody chosen;
- chosen person: the same, with one of the offering's staff chosen (``resource_id``);
- free days (picker): ``free_times.free_days`` of this month, nobody chosen.

Prints p50/p95/p99 per read. ``--explain`` also prints PostgreSQL's plan (EXPLAIN
ANALYZE, BUFFERS) of the slowest "any available" read. ``--compare-index`` weighs an
index the schema does not have: the same reads in alternating rounds without it and with
it (created, then dropped again: the database keeps the app's schema), on a machine
whose speed drifts as the rest of this one's does.

    .venv/bin/python bench/resources.py                  # build if needed, 1000 reads each
    .venv/bin/python bench/resources.py --reseed --explain
    .venv/bin/python bench/resources.py --compare-index \
        "resource_booking (resource_id, ends_at) INCLUDE (starts_at)"

Needs a PostgreSQL superuser (the tables are loaded over parallel COPY streams, with
foreign-key triggers off as ``pg_restore --disable-triggers`` does).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as wall_time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `app` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

DATABASE = "bookwell_bench_resources"
WINDOW_DAYS = 14
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "UTC", "Asia/Tokyo")
CURRENCIES = ("EUR", "GBP", "USD", "EUR", "EUR")
STAFF, ROOM = "staff", "room"
# The kinds of a provider's five resources: mostly three staff and two rooms.
KIND_MIXES = ((STAFF, STAFF, STAFF, ROOM, ROOM),) * 6 + \
    ((STAFF, STAFF, STAFF, STAFF, ROOM),) * 3 + ((STAFF, STAFF, ROOM, ROOM, ROOM),)
OPENS, CLOSES = 8 * 60, 20 * 60  # every resource's weekly hours, minutes of the local day
ACTIVITIES = ("Haircut", "Colour", "Shave", "Massage", "Facial", "Manicure", "Pedicure",
              "Physiotherapy", "Personal training", "Tattoo", "Piercing", "Consultation",
              "Lash lift", "Brow shaping", "Reflexology", "Acupuncture")
HOLDING = ("pending", "confirmed", "completed", "no_show")
TABLES = ("provider", "ab_user", "resource", "resource_hours", "resource_shift",
          "resource_busy", "offering", "offering_resource", "slot", "booking",
          "resource_booking")
READS = ("any available", "chosen person", "free days (picker)")


@dataclass(frozen=True)
class Size:
    providers: int = 500
    offerings: int = 100_000
    resources_per_provider: int = 5
    links: int = 3               # resources linked to each offering
    bookings: int = 1_000_000
    customers: int = 5_000
    days_ahead: int = 16         # days of slots from the provider's today (today included)
    tries_per_day: int = 12      # bookings tried per provider and day (some find nobody);
    #                              the coming days' fewer the further ahead they are


# --------------------------------------------------------------------------- building

def seeded(app, size: Size, now: datetime) -> tuple[bool, str]:
    """Is the database built at this size, with slots and shifts 14 days ahead of now?"""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        offerings, bookings, resources, last_slot, last_shift = db.session.execute(text(
            "SELECT (SELECT count(*) FROM offering), (SELECT count(*) FROM booking), "
            "(SELECT count(*) FROM resource), (SELECT max(starts_at) FROM slot), "
            "(SELECT max(ends_at) FROM resource_shift)")).one()
        db.session.remove()
    wanted = (size.offerings, size.bookings, size.providers * size.resources_per_provider)
    if (offerings, bookings, resources) != wanted:
        return False, (f"found {offerings:,} offerings, {bookings:,} bookings, "
                       f"{resources:,} resources")
    ahead = now + timedelta(days=WINDOW_DAYS + 1)
    if last_slot is None or last_slot < ahead or last_shift is None or last_shift < ahead:
        return False, "the slots or shifts no longer reach 15 days ahead"
    return True, "data present"


class Streams:
    """One COPY per table, each on its own connection and transaction, all open at once:
    rows are written as they are made (nothing held in memory) and PostgreSQL fills the
    tables and their indexes in parallel. Foreign-key triggers are off in each
    transaction (``session_replication_role = replica``; needs a superuser): the rows
    refer to rows of other, not yet committed, transactions. Constraints (checks, unique
    keys, the resources' exclusion constraint) are still enforced. All commit at the end,
    or all roll back."""

    def __init__(self, conninfo: str, tables: dict[str, tuple[str, ...]]) -> None:
        self.conninfo, self.tables = conninfo, tables
        self.counts: Counter = Counter()
        self._conns, self._copy_contexts, self._copies = {}, {}, {}
        self._started = self._last = time.perf_counter()

    def __enter__(self) -> Streams:
        import psycopg

        for table, columns in self.tables.items():
            conn = psycopg.connect(self.conninfo)
            self._conns[table] = conn
            with conn.cursor() as cur:
                cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if not cur.fetchone()[0]:
                    raise common.BenchmarkError("building needs a PostgreSQL superuser")
                cur.execute("SET LOCAL session_replication_role = replica")
            context = conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
            self._copy_contexts[table] = context
            self._copies[table] = context.__enter__()
        return self

    def write(self, table: str, row) -> None:
        self._copies[table].write_row(row)
        self.counts[table] += 1

    def progress(self, label: str, final: bool = False) -> None:
        now = time.perf_counter()
        if not final and now - self._last < 5:
            return
        self._last = now
        counts = ", ".join(f"{table} {count:,}" for table, count in self.counts.items()
                           if count >= 1000)
        print(f"  {now - self._started:6.1f} s  {label}: {counts}", file=sys.stderr,
              flush=True)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            for table, context in self._copy_contexts.items():
                context.__exit__(exc_type, exc, tb)
            if exc_type is None:
                for conn in self._conns.values():
                    conn.commit()
        finally:
            for conn in self._conns.values():
                if exc_type is not None:
                    conn.rollback()
                conn.close()


COLUMNS = {
    "provider": ("id", "name", "slug", "timezone", "currency", "contact_email", "active",
                 "tax_rate_bp", "tax_inclusive", "created_at", "updated_at"),
    "resource": ("id", "provider_id", "name", "kind", "active", "keeps_hours", "created_at"),
    "resource_hours": ("provider_id", "resource_id", "weekday", "start_time", "end_time"),
    "resource_shift": ("provider_id", "resource_id", "starts_at", "ends_at"),
    "resource_busy": ("provider_id", "resource_id", "starts_at", "ends_at", "reason"),
    "offering": ("id", "provider_id", "kind", "name", "description", "price_minor",
                 "currency", "duration_minutes", "active", "image_urls", "pay_at_venue",
                 "free_cancellation_hours", "min_notice_minutes", "booking_horizon_days",
                 "buffer_before_minutes", "buffer_after_minutes", "created_at",
                 "updated_at"),
    "offering_resource": ("offering_id", "resource_id"),
    "slot": ("id", "provider_id", "offering_id", "starts_at", "ends_at", "capacity",
             "booked", "resource_from", "resource_until"),
    "booking": ("id", "reference", "provider_id", "customer_id", "offering_id", "slot_id",
                "quantity", "status", "unit_price_minor", "total_minor", "currency",
                "pay_at_venue", "notes", "starts_at", "ends_at", "created_at",
                "updated_at"),
    "resource_booking": ("id", "provider_id", "resource_id", "booking_id", "starts_at",
                         "ends_at"),
}


@dataclass
class OfferingPlan:
    id: int
    needs: dict[str, list[int]]   # kind -> linked resource ids
    minutes: int
    before: int
    after: int
    weekdays: frozenset[int]
    starts: tuple[int, ...]       # minutes of the local day
    price: int


@dataclass
class ProviderPlan:
    id: int
    zone: object
    currency: str
    resources: list[tuple[int, str]]          # (id, kind)
    day_off: dict[int, int]                   # staff resource id -> weekday off
    offerings: list[OfferingPlan] = field(default_factory=list)


class Builder:
    """Makes every row, provider by provider, day by day, and writes it to its stream."""

    def __init__(self, size: Size, now: datetime, shift_days: int, first_customer: int,
                 streams: Streams, *, share_keys: bool, seed: int = 20261206) -> None:
        self.size, self.now, self.shift_days = size, now, shift_days
        # Each appointment's resource time is its own (``booking:<id>``), where the schema
        # says who may share a time (``resource_booking.share_key``).
        self.share_keys = share_keys
        self.first_customer, self.streams = first_customer, streams
        self.rng = random.Random(seed)
        self.ids = Counter()

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def build(self) -> None:
        from app.services import agenda

        size, out = self.size, self.streams
        created = self.now - timedelta(days=400)
        per_provider = -(-size.offerings // size.providers)
        quota, extra = divmod(size.bookings, size.providers)
        for p in range(1, size.providers + 1):
            zone_name = ZONES[p % len(ZONES)]
            plan = ProviderPlan(p, agenda.zone_of(zone_name), CURRENCIES[p % len(ZONES)], [],
                                {})
            out.write("provider", (p, f"Bench salon {p}", f"bench-salon-{p}", zone_name,
                                   plan.currency, f"salon{p}@bench.example", True, 0, True,
                                   created, created))
            self.resources(plan, created)
            first = (p - 1) * per_provider + 1
            for o in range(first, min(first + per_provider, size.offerings + 1)):
                self.offering(plan, o, created)
            self.bookings(plan, quota + (1 if p <= extra else 0))
            out.progress(f"provider {p} of {size.providers}")
        out.progress("done", final=True)

    def resources(self, plan: ProviderPlan, created: datetime) -> None:
        from app.services.resource_hours import shifts_for
        from app.services.weekly_hours import TimeRange

        kinds = KIND_MIXES[plan.id % len(KIND_MIXES)][:self.size.resources_per_provider]
        today = self.now.astimezone(plan.zone).date()
        for k, kind in enumerate(kinds):
            rid = (plan.id - 1) * self.size.resources_per_provider + k + 1
            plan.resources.append((rid, kind))
            number = sum(1 for other in kinds[:k + 1] if other == kind)
            self.streams.write("resource", (rid, plan.id, f"{kind.capitalize()} {number}",
                                            kind, True, True, created))
            weekdays = list(range(7))
            if kind == STAFF:
                plan.day_off[rid] = (plan.id + k) % 7
                weekdays.remove(plan.day_off[rid])
            ranges = [TimeRange(d, wall_time(OPENS // 60), wall_time(CLOSES // 60))
                      for d in weekdays]
            for span in ranges:
                self.streams.write("resource_hours", (plan.id, rid, span.weekday, span.start,
                                                      span.end))
            # As the app lays them out: from yesterday, the slot-generation days ahead.
            for start, end in shifts_for(ranges, str(plan.zone.key),
                                         today - timedelta(days=1), self.shift_days):
                self.streams.write("resource_shift", (plan.id, rid, start, end))

    def offering(self, plan: ProviderPlan, o: int, created: datetime) -> None:
        rng = self.rng
        linked = rng.sample(plan.resources, self.size.links)
        needs: dict[str, list[int]] = defaultdict(list)
        for rid, kind in sorted(linked):
            needs[kind].append(rid)
        minutes = rng.choice((30, 45, 60, 60, 60, 90))
        before, after = rng.choice((0, 0, 0, 5, 10)), rng.choice((0, 0, 10, 15))
        per_day = rng.choice((1, 1, 2, 2, 4, 8))
        offset = rng.choice((0, 15, 30))
        starts = tuple(
            start for start in (OPENS + offset + j * (CLOSES - OPENS) // per_day
                                for j in range(per_day))
            if start - before >= OPENS and start + minutes + after <= CLOSES)
        weekdays = frozenset(rng.sample(range(7), rng.choice((3, 4, 5, 6))))
        price = rng.randrange(1500, 12000, 100)
        plan.offerings.append(OfferingPlan(o, dict(needs), minutes, before, after, weekdays,
                                           starts, price))
        stamp = created + timedelta(minutes=o)
        self.streams.write("offering", (
            o, plan.id, "service", f"{rng.choice(ACTIVITIES)} {o}", "With one of our team.",
            price, plan.currency, minutes, True, "[]", o % 9 == 0, 24,
            rng.choice((0, 0, 0, 60, 120)), 60, before, after, stamp, stamp))
        for rid, _kind in linked:
            self.streams.write("offering_resource", (o, rid))

    # --- bookings, day by day ------------------------------------------------------------

    def bookings(self, plan: ProviderPlan, quota: int) -> None:
        """The provider's coming days (every slot, some booked), then past days going back
        (only the booked slots: the others were never kept) until ``quota`` bookings."""
        today = self.now.astimezone(plan.zone).date()
        made = 0
        for offset in range(self.size.days_ahead):
            if made >= quota:
                break
            made += self.day(plan, today + timedelta(days=offset), quota - made, future=True)
        offset = 1
        while made < quota:
            made += self.day(plan, today - timedelta(days=offset), quota - made, future=False)
            offset += 1

    def day(self, plan: ProviderPlan, day: date, left: int, *, future: bool) -> int:
        rng, out = self.rng, self.streams
        midnight = datetime.combine(day, wall_time(0), plan.zone)
        weekday = day.weekday()

        def instant(minutes: int) -> datetime:
            return (midnight + timedelta(minutes=minutes)).astimezone(timezone.utc)

        # Who is busy today: a staff member's day off now and then, a busy hour or two.
        taken: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        blocked: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        for rid, kind in plan.resources:
            if plan.day_off.get(rid) == weekday:
                blocked[rid].append((instant(0), instant(24 * 60)))  # no shift today
            elif kind == STAFF and rng.random() < 0.015:
                span = (instant(0), instant(24 * 60))
                blocked[rid].append(span)
                out.write("resource_busy", (plan.id, rid, *span, "Time off"))
            elif rng.random() < 0.04:
                start = rng.randrange(OPENS, CLOSES - 60, 30)
                span = (instant(start), instant(start + rng.choice((60, 120))))
                blocked[rid].append(span)
                out.write("resource_busy", (plan.id, rid, *span, "Busy"))

        def book(offering: OfferingPlan, start: int) -> list[int] | None:
            """One free resource of each kind (the least booked today first), or None."""
            lo, hi = instant(start - offering.before), instant(start + offering.minutes
                                                                + offering.after)
            chosen = []
            for candidates in offering.needs.values():
                for rid in sorted(candidates, key=lambda r: len(taken[r])):
                    if not any(s < hi and lo < e for s, e in taken[rid] + blocked[rid]):
                        chosen.append(rid)
                        break
                else:
                    return None
            return chosen

        offered = [(o, start) for o in plan.offerings if weekday in o.weekdays
                   for start in o.starts]
        ahead = (day - self.now.astimezone(plan.zone).date()).days
        tries = self.size.tries_per_day
        if ahead > 0:  # booked less the further ahead: a third as much 16 days out
            tries = round(tries * (1 - 0.65 * ahead / self.size.days_ahead))
        picks = rng.sample(range(len(offered)), min(tries, len(offered))) if offered else []
        booked: dict[int, tuple[list[int], str]] = {}
        for index in picks:
            if len(booked) >= left:
                break
            offering, start = offered[index]
            chosen = book(offering, start)
            if chosen is None:
                continue
            status = self.status(instant(start), future)
            if status in HOLDING:
                lo = instant(start - offering.before)
                hi = instant(start + offering.minutes + offering.after)
                for rid in chosen:
                    taken[rid].append((lo, hi))
            booked[index] = (chosen, status)
        # Slots: every one of a coming day; of a past day only the booked ones.
        for index in (range(len(offered)) if future else sorted(booked)):
            offering, start = offered[index]
            starts_at, ends_at = instant(start), instant(start + offering.minutes)
            buffered = offering.before or offering.after
            resource_from = instant(start - offering.before) if buffered else None
            resource_until = instant(start + offering.minutes + offering.after) \
                if buffered else None
            chosen, status = booked.get(index, ((), None))
            holding = status in HOLDING
            slot_id = self.next_id("slot")
            out.write("slot", (slot_id, plan.id, offering.id, starts_at, ends_at, 1,
                               1 if holding else 0, resource_from, resource_until))
            if status is None:
                continue
            booking_id = self.next_id("booking")
            created = min(starts_at - timedelta(days=self.rng.randint(1, 30)), self.now)
            pay_at_venue = status == "pending" or offering.id % 9 == 0
            out.write("booking", (
                booking_id, f"BR{booking_id:09d}", plan.id,
                self.first_customer + self.rng.randrange(self.size.customers), offering.id,
                slot_id, 1, status, offering.price, offering.price, plan.currency,
                pay_at_venue, "", starts_at, ends_at, created, created))
            if holding:
                for rid in chosen:
                    row = (self.next_id("resource_booking"), plan.id, rid, booking_id,
                           resource_from or starts_at, resource_until or ends_at)
                    out.write("resource_booking", row + ((f"booking:{booking_id}",)
                                                         if self.share_keys else ()))
        return len(booked)

    def status(self, starts_at: datetime, future: bool) -> str:
        r = self.rng.random()
        if r < 0.08:
            return "cancelled"
        if starts_at < self.now:
            return "no_show" if r < 0.12 else "completed"
        return "pending" if r < 0.13 else "confirmed"


def build(app, database_url: str, size: Size, now: datetime) -> dict[str, float]:
    """Empty the tables and build the data; returns seconds per step."""
    from sqlalchemy.engine import make_url
    from werkzeug.security import generate_password_hash

    timings = {}
    started = time.perf_counter()
    with common.raw_connection(app) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE provider, ab_user, resource, offering, slot, booking "
                    "RESTART IDENTITY CASCADE")
        # Customers never sign in here: one password hash for all.
        cur.execute(f"""
            INSERT INTO ab_user (first_name, last_name, username, password, active, email,
                                 locale, timezone, marketing_consent, notify_email,
                                 notify_sms, sms_opted_out, created_on, changed_on)
            SELECT 'Customer', c::text, 'customer' || c || '@bench.example', %(password)s,
                   true, 'customer' || c || '@bench.example', 'en', 'UTC', false, true,
                   false, false, now(), now()
            FROM generate_series(1, {size.customers}) AS c RETURNING id""",
                    {"password": generate_password_hash("bench-password")})
        first_customer = min(row[0] for row in cur.fetchall())
        cur.execute("SELECT 1 FROM information_schema.columns WHERE table_name = "
                    "'resource_booking' AND column_name = 'share_key'")
        share_keys = cur.fetchone() is not None
    columns = dict(COLUMNS)
    if share_keys:
        columns["resource_booking"] += ("share_key",)
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    t0 = time.perf_counter()
    with app.app_context():
        shift_days = app.config["SLOT_DAYS_AHEAD"] + 2
        with Streams(conninfo, columns) as streams:
            Builder(size, now, shift_days, first_customer, streams,
                    share_keys=share_keys).build()
    timings["rows (COPY)"] = time.perf_counter() - t0
    with common.raw_connection(app) as conn:
        common.reset_sequences(conn, ("provider", "resource", "resource_hours",
                                      "resource_shift", "resource_busy", "offering", "slot",
                                      "booking", "resource_booking"))
    t0 = time.perf_counter()
    with common.raw_connection(app, autocommit=True) as conn:
        common.vacuum_analyze(conn, TABLES)
    timings["vacuum analyze"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    return timings


def data_summary(app) -> str:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        row = db.session.execute(text("""
            SELECT (SELECT count(*) FROM provider) AS providers,
                   (SELECT count(*) FROM resource) AS resources,
                   (SELECT count(*) FROM offering) AS offerings,
                   (SELECT count(*) FROM slot) AS slots,
                   (SELECT count(*) FROM slot WHERE starts_at >= now()) AS slots_ahead,
                   (SELECT count(*) FROM booking) AS bookings,
                   (SELECT count(*) FROM resource_booking) AS resource_bookings,
                   (SELECT count(*) FROM resource_booking WHERE starts_at >= now())
                       AS resource_bookings_ahead,
                   (SELECT count(*) FROM resource_busy) AS busy,
                   (SELECT count(*) FROM resource_shift) AS shifts,
                   (SELECT min(starts_at) FROM booking) AS first_booking""")).one()
        db.session.remove()
    return (f"{row.providers:,} providers, {row.resources:,} resources (all keeping weekly "
            f"hours, {row.shifts:,} shifts), {row.offerings:,} offerings, {row.slots:,} "
            f"slots ({row.slots_ahead:,} ahead), {row.bookings:,} bookings since "
            f"{row.first_booking:%Y-%m-%d}, {row.resource_bookings:,} resource bookings "
            f"({row.resource_bookings_ahead:,} ahead), {row.busy:,} busy times")


# --------------------------------------------------------------------------- measuring

def picks(app, count: int, rng: random.Random) -> list[tuple[int, int]]:
    """``count`` random offerings, each with one of its staff (one of its resources if it
    has none) for the "chosen person" read."""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        last = db.session.scalar(text("SELECT max(id) FROM offering"))
        ids = [rng.randrange(1, last + 1) for _ in range(count)]
        linked = defaultdict(list)
        for offering_id, resource_id, kind in db.session.execute(text(
                "SELECT l.offering_id, r.id, r.kind FROM offering_resource l "
                "JOIN resource r ON r.id = l.resource_id WHERE l.offering_id = ANY(:ids) "
                "ORDER BY r.kind <> 'staff', r.id"), {"ids": ids}):
            linked[offering_id].append((resource_id, kind))
        db.session.remove()
    chosen = []
    for offering_id in ids:
        staff = [rid for rid, kind in linked[offering_id] if kind == STAFF]
        chosen.append((offering_id, rng.choice(staff or [rid for rid, _ in
                                                          linked[offering_id]])))
    return chosen


def offering_zones(app, offering_ids) -> dict[int, str]:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        zones = dict(db.session.execute(text(
            "SELECT o.id, p.timezone FROM offering o JOIN provider p ON p.id = o.provider_id "
            "WHERE o.id = ANY(:ids)"), {"ids": list(offering_ids)}).all())
        db.session.remove()
    return zones


def read(app, label: str, offering_id: int, resource_id: int, zones: dict[int, str]) -> int:
    """One read, as a request would make it (its own app context and session); returns
    how many free times (or free days) it found."""
    from app.services import agenda, free_times

    with app.app_context():
        now = datetime.now(timezone.utc)
        if label == "free days (picker)":
            # This month on the provider's clock: the UTC date is a month behind on the
            # last evening of a month in Tokyo (and the read then refuses it).
            month = agenda.local_today(zones[offering_id], now=now)
            days = free_times.free_days(offering_id, month=month, now=now)
            return len(days.free_times_per_day)
        zone = free_times._zone_of_visible_offering(offering_id)
        today = agenda.local_today(zone, now=now)
        times = free_times._free_between(
            offering_id, zone, today, today + timedelta(days=WINDOW_DAYS), 1, now,
            resource_id=resource_id if label == "chosen person" else None)
        return len(times)


def measure(app, chosen: list[tuple[int, int]], zones: dict[int, str], warmup: int
            ) -> tuple[dict[str, common.Stats], dict[str, list[int]], dict]:
    stats = {label: common.Stats() for label in READS}
    found: dict[str, list[int]] = {label: [] for label in READS}
    slowest: dict[str, tuple[float, int, int]] = {}
    for offering_id, resource_id in chosen[:warmup]:
        for label in READS:
            read(app, label, offering_id, resource_id, zones)
    started = time.perf_counter()
    for offering_id, resource_id in chosen:
        for label in READS:  # in turns: every read under the same conditions
            t0 = time.perf_counter()
            found[label].append(read(app, label, offering_id, resource_id, zones))
            elapsed = (time.perf_counter() - t0) * 1000
            stats[label].latencies_ms.append(elapsed)
            if elapsed > slowest.get(label, (0.0,))[0]:
                slowest[label] = (elapsed, offering_id, resource_id)
    for label in READS:
        stats[label].wall_s = time.perf_counter() - started
    return stats, found, slowest


def explain(app, offering_id: int, resource_id: int | None = None) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the slot query of one "any available" read: the
    statement and parameters the app sent, caught on their way to PostgreSQL."""
    from sqlalchemy import event

    from app.extensions import db

    caught = []

    def catch(conn, cursor, statement, parameters, context, executemany):
        if "FROM slot" in statement and "resource_booking" in statement:
            caught.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", catch)
    try:
        read(app, "any available" if resource_id is None else "chosen person", offering_id,
             resource_id or 0, {})
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    if not caught:
        return "(no slot query caught)"
    statement, parameters = caught[-1]
    with common.raw_connection(app) as conn, conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = "\n".join(row[0] for row in cur.fetchall())
        conn.rollback()
    return f"{statement}\n-- {parameters}\n{plan}"


COMPARED_INDEX = "ix_bench_compared"


def compare_index(app, definition: str, chosen, zones, *, rounds: int, warmup: int,
                  markdown: bool) -> str:
    """The reads without and with ``CREATE INDEX ix_bench_compared ON <definition>``, in
    ``rounds`` alternating rounds of all of ``chosen``; the index is dropped at the end."""
    stats = {variant: {label: common.Stats() for label in READS}
             for variant in ("without", "with")}
    build_s = []
    try:
        for _round in range(rounds):
            for variant in ("without", "with"):
                with common.raw_connection(app, autocommit=True) as conn, \
                        conn.cursor() as cur:
                    cur.execute(f"DROP INDEX IF EXISTS {COMPARED_INDEX}")
                    if variant == "with":
                        t0 = time.perf_counter()
                        cur.execute(f"CREATE INDEX {COMPARED_INDEX} ON {definition}")
                        build_s.append(time.perf_counter() - t0)
                        cur.execute(f"ANALYZE {definition.split()[0]}")
                measured, _found, _slowest = measure(app, chosen, zones, warmup)
                for label in READS:
                    stats[variant][label].latencies_ms += measured[label].latencies_ms
                print(f"  round {_round + 1} {variant:7} index: any available p50 "
                      f"{measured['any available'].p50:.1f} ms, p99 "
                      f"{measured['any available'].p99:.1f} ms", file=sys.stderr, flush=True)
    finally:
        with common.raw_connection(app, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(f"DROP INDEX IF EXISTS {COMPARED_INDEX}")
    rows = [[f"{label}, {variant} the index", s.p50, s.percentile(95), s.p99,
             max(s.latencies_ms)]
            for label in READS for variant, s in
            (("without", stats["without"][label]), ("with", stats["with"][label]))]
    return "\n".join([
        f"Index {definition}: {rounds} alternating rounds of {len(chosen)} offerings "
        f"(built in {common.median(build_s):.1f} s)", "",
        common.format_table(("read", "p50 ms", "p95 ms", "p99 ms", "max ms"), rows,
                            markdown=markdown)])


def report(stats, found, args, summary: str, building: str, loads) -> str:
    lines = [f"Free times with resources: {args.requests} random offerings, each read in "
             f"turns, in-process (app context, PostgreSQL), catalog cache off",
             f"data: {summary}", f"building: {building}",
             f"machine load (1-min average, {os.cpu_count()} CPUs): "
             f"{loads[0]:.1f} -> {loads[1]:.1f}", ""]
    rows = []
    for label in READS:
        s = stats[label]
        unit = "days" if label == "free days (picker)" else "times"
        rows.append([f"{label}" + ("" if unit == "days" else f", {WINDOW_DAYS} days"),
                     s.p50, s.percentile(95), s.p99, max(s.latencies_ms),
                     f"{common.median(found[label]):.0f} {unit}"])
    lines.append(common.format_table(("read", "p50 ms", "p95 ms", "p99 ms", "max ms",
                                      "median found"), rows, markdown=args.markdown))
    p99 = stats["any available"].p99
    lines.append("")
    lines.append(f"any available, {WINDOW_DAYS} days: p99 {p99:.1f} ms "
                 f"({'under' if p99 < 50 else 'NOT under'} the 50 ms target)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    url = common.default_database_url().rsplit("/", 1)[0] + "/" + DATABASE
    parser.add_argument("--database-url", default=url)
    # The app gets a Redis database, as in production: nothing periodic runs in-process.
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11",
                        help="the app's REDIS_URL (default db 11; 'none' for none)")
    parser.add_argument("--providers", type=int, default=Size.providers)
    parser.add_argument("--offerings", type=int, default=Size.offerings)
    parser.add_argument("--bookings", type=int, default=Size.bookings)
    parser.add_argument("--reseed", action="store_true", help="empty and build again")
    parser.add_argument("--seed-only", action="store_true", help="build, then stop")
    parser.add_argument("--requests", type=int, default=1000,
                        help="random offerings read, each read of each kind (1000)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--explain", action="store_true",
                        help="print the plan of the slowest 'any available' read")
    parser.add_argument("--compare-index", metavar="DEFINITION",
                        help='weigh an index: "<table> (<columns>) [INCLUDE (...)]", '
                             "in alternating rounds without and with it")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of --compare-index (3)")
    parser.add_argument("--markdown", action="store_true", help="the table in Markdown")
    parser.add_argument("--random-seed", type=int, default=19)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    redis_url = None if args.redis_url == "none" else args.redis_url
    instance_dir = common.prepare_environment()
    app = common.migrated_app(args.database_url, instance_dir, redis_url=redis_url)
    size = Size(providers=args.providers, offerings=args.offerings, bookings=args.bookings)
    now = datetime.now(timezone.utc)
    ready, why = (False, "--reseed") if args.reseed else seeded(app, size, now)
    if ready:
        building = f"skipped ({why}; --reseed to time it)"
    else:
        print(f"building {DATABASE} ({why}) ...", file=sys.stderr, flush=True)
        timings = build(app, args.database_url, size, now)
        building = f"{timings.pop('total'):.0f} s (" + ", ".join(
            f"{step} {seconds:.0f} s" for step, seconds in timings.items()) + ")"
    print(f"building: {building}", file=sys.stderr, flush=True)
    summary = data_summary(app)
    print(f"data: {summary}", file=sys.stderr, flush=True)
    if args.seed_only:
        return 0
    rng = random.Random(args.random_seed)
    chosen = picks(app, args.requests, rng)
    zones = offering_zones(app, [offering_id for offering_id, _ in chosen])
    if args.compare_index:
        loads = [common.load_average()]
        table = compare_index(app, args.compare_index, chosen, zones, rounds=args.rounds,
                              warmup=args.warmup, markdown=args.markdown)
        print(f"\ndata: {summary}\nmachine load (1-min average): {loads[0]:.1f} -> "
              f"{common.load_average():.1f}\n\n{table}")
        return 0
    loads = [common.load_average()]
    stats, found, slowest = measure(app, chosen, zones, args.warmup)
    loads.append(common.load_average())
    print()
    print(report(stats, found, args, summary, building, loads))
    if args.explain:
        _ms, offering_id, _resource_id = slowest["any available"]
        print(f"\nslowest 'any available' read: offering {offering_id} ({_ms:.1f} ms); "
              f"its slot query:\n")
        print(explain(app, offering_id, None))
    return 0


if __name__ == "__main__":
    common.run_main(main)
