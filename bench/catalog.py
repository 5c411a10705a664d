#!/usr/bin/env python
"""Catalog benchmark: seed PostgreSQL at scale, then time the public catalog API.

Seeds (COPY, with a progress line per table) 100 providers, 100,000 offerings and
1,000,000 slots by default, then measures p50/p99 latency and requests/s of

- search:  GET /api/v1/offerings?q=<word>&page_size=20
- near:    GET /api/v1/offerings?near=<lat,lng>&radius_km=<r>&sort=distance&page_size=20
- soonest: GET /api/v1/offerings?sort=soonest&page_size=20 (the storefront's default order),
           half of them with ``q=<word>``, pages 1 to 3
- price:   GET /api/v1/offerings?q=<word>&sort=price&page_size=20 (by currency, then price)
- slots:   GET /api/v1/offerings/<id>/slots?from=<now>&to=<now + 14 days>
- detail:  GET /api/v1/offerings/<id>
- free-days:  GET /api/v1/offerings/<id>/free-days?month=<this month>
- free-times: GET /api/v1/offerings/<id>/free-times?date=<a day of the next two weeks>

in-process (Flask test client) and through ``gunicorn wsgi:app`` (a closed-loop load
generator in this process, 127.0.0.1 only), with the catalog cache off, and the resident
memory of each gunicorn worker at start, at most and at the end.

    .venv/bin/python bench/catalog.py                      # seed if needed, measure once
    .venv/bin/python bench/catalog.py --reseed --runs 3    # fresh data, three runs, medians

Data already present (same counts, slots still ahead) is reused unless ``--reseed``.
The load generator is closed-loop: ``--concurrency`` threads (default: one per gunicorn
worker, so every worker is busy and nothing queues) each send the next request as soon
as the previous one is answered. Any 5xx before measuring stops the benchmark.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `app` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

ENDPOINTS = ("search", "near", "soonest", "price", "slots", "detail", "free-days",
             "free-times")
SLOT_WINDOW = timedelta(days=14)
CATALOG_TABLES = ("provider", "location", "category", "offering", "variant",
                  "availability_rule", "closed_day", "slot")

# name, lat, lng, timezone, currency
METROS = [
    ("Berlin", 52.5200, 13.4050, "Europe/Berlin", "EUR"),
    ("Munich", 48.1374, 11.5755, "Europe/Berlin", "EUR"),
    ("Hamburg", 53.5511, 9.9937, "Europe/Berlin", "EUR"),
    ("Vienna", 48.2082, 16.3738, "Europe/Vienna", "EUR"),
    ("London", 51.5072, -0.1276, "Europe/London", "GBP"),
    ("New York", 40.7128, -74.0060, "America/New_York", "USD"),
]
# What customers look for; each is the subject of about 1 in 40 offerings.
ACTIVITIES = [
    "yoga", "pilates", "massage", "haircut", "shave", "facial", "manicure", "pedicure",
    "spinning", "boxing", "climbing", "swimming", "tennis", "golf", "piano", "guitar",
    "violin", "singing", "salsa", "tango", "painting", "pottery", "photography", "cooking",
    "baking", "wine", "coffee", "french", "spanish", "german", "chess", "meditation",
    "physiotherapy", "acupuncture", "reflexology", "crossfit", "running", "rowing",
    "surfing", "kickboxing",
]
LEVELS = ["Beginner", "Intermediate", "Advanced", "Open", "Morning", "Evening", "Weekend",
          "Express", "Private", "Group", "Intensive", "Relaxing"]
FORMATS = ["Class", "Session", "Workshop", "Course", "Lesson", "Treatment", "Appointment",
           "Bootcamp", "Retreat", "Consultation"]
AUDIENCES = ["all levels", "beginners", "experienced students", "kids and teens",
             "small groups", "couples", "seniors", "busy professionals"]
FILLER = [
    "Led by certified instructors in a bright, quiet studio.",
    "Bring comfortable clothes; equipment is provided.",
    "Arrive ten minutes early for your first visit.",
    "Cancel free of charge up to 24 hours before.",
    "Small groups so everyone gets personal attention.",
    "Showers and lockers on site.",
    "Step-free access and bike parking available.",
    "Gift vouchers available at the front desk.",
]
PRODUCT_ADJECTIVES = ["Premium", "Classic", "Eco", "Travel", "Pro", "Starter", "Deluxe"]
PRODUCT_NOUNS = ["Kit", "Gift Card", "Handbook", "Voucher", "Accessory Set", "Bundle"]
PROVIDER_WORDS = ["Harbor", "North", "Urban", "Green", "Golden", "Blue", "River", "Park",
                  "Studio", "House", "Collective", "Lab", "Club", "Loft", "Corner"]
# Query words the benchmark sends: mostly activities, some prefixes, two-word queries and
# a few broad words that match a large share of the catalog.
PREFIXES = ["yog", "mass", "pil", "hairc", "phot", "med"]
TWO_WORDS = ["yoga beginner", "massage private", "piano lesson", "tennis group",
             "cooking workshop", "salsa evening"]
BROAD = ["class", "private", "session"]


@dataclass(frozen=True)
class CatalogSize:
    providers: int = 100
    offerings: int = 100_000
    slots: int = 1_000_000
    locations_per_provider: int = 5
    categories_per_provider: int = 6
    days: int = 30
    product_share: float = 0.15


@dataclass
class SeedState:
    """What earlier tables produced that later ones refer to (in memory, ~100k entries)."""

    currency: dict[int, str] = field(default_factory=dict)             # provider -> ISO
    locations: dict[int, list[int]] = field(default_factory=dict)      # provider -> ids
    categories: dict[int, list[int]] = field(default_factory=dict)     # provider -> ids
    services: list[tuple[int, int, int]] = field(default_factory=list)  # id, provider, min
    products: list[tuple[int, int]] = field(default_factory=list)       # id, provider


# --------------------------------------------------------------------------- seeding

def seeded_state(app, size: CatalogSize, now: datetime) -> tuple[bool, str]:
    """Is the database seeded at this size, with 14 days of slots still ahead of ``now``?"""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        providers, offerings, slots, last = db.session.execute(text(
            "SELECT (SELECT count(*) FROM provider), (SELECT count(*) FROM offering), "
            "(SELECT count(*) FROM slot), (SELECT max(starts_at) FROM slot)")).one()
        db.session.remove()
    if (providers, offerings, slots) != (size.providers, size.offerings, size.slots):
        return False, (f"found {providers:,} providers, {offerings:,} offerings, "
                       f"{slots:,} slots")
    if last is None or last < now + SLOT_WINDOW:
        return False, "the seeded slots are no longer ahead"
    return True, "data present"


def seed_catalog(app, size: CatalogSize, *, seed: int = 20261127,
                 now: datetime | None = None) -> dict[str, float]:
    """Empty the catalog tables and COPY a fresh catalog; returns seconds per step."""
    now = now or datetime.now(timezone.utc)
    rng = random.Random(seed)
    state = SeedState()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    tables = [
        ("provider", PROVIDER_COLUMNS, lambda: provider_rows(size, rng, now, state),
         size.providers),
        ("location", LOCATION_COLUMNS, lambda: location_rows(size, rng, state),
         size.providers * size.locations_per_provider),
        ("category", CATEGORY_COLUMNS, lambda: category_rows(size, state),
         size.providers * size.categories_per_provider),
        ("offering", OFFERING_COLUMNS, lambda: offering_rows(size, rng, now, state),
         size.offerings),
        ("variant", VARIANT_COLUMNS, lambda: variant_rows(rng, state), None),
        ("slot", SLOT_COLUMNS, lambda: slot_rows(size, rng, now, state), size.slots),
    ]
    with common.raw_connection(app) as conn:
        with conn.cursor() as cur:
            cur.execute(f"TRUNCATE {', '.join(CATALOG_TABLES)} RESTART IDENTITY CASCADE")
        if not common.skip_foreign_key_checks(conn):
            print("  (not a superuser: foreign keys checked row by row, slower)",
                  file=sys.stderr)
        for table, columns, rows, total in tables:
            t0 = time.perf_counter()
            common.copy_rows(conn, table, columns, rows(), total=total)
            timings[table] = time.perf_counter() - t0
        common.reset_sequences(conn, [table for table, *_ in tables])
    t0 = time.perf_counter()
    print("  vacuum analyze ...", file=sys.stderr, flush=True)
    with common.raw_connection(app, autocommit=True) as conn:
        common.vacuum_analyze(conn, CATALOG_TABLES)
    timings["vacuum analyze"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    return timings


PROVIDER_COLUMNS = ("id", "name", "slug", "timezone", "currency", "contact_email",
                    "contact_phone", "active", "created_at", "updated_at")
LOCATION_COLUMNS = ("id", "name", "address", "lat", "lng", "geocode_status", "provider_id")
CATEGORY_COLUMNS = ("id", "name", "parent_id", "position", "provider_id")
OFFERING_COLUMNS = ("id", "kind", "name", "description", "price_minor", "currency",
                    "duration_minutes", "active", "location_id", "category_id", "image_urls",
                    "created_at", "updated_at", "provider_id")
VARIANT_COLUMNS = ("id", "offering_id", "name", "sku", "price_minor", "stock", "active",
                   "provider_id")
SLOT_COLUMNS = ("id", "offering_id", "starts_at", "ends_at", "capacity", "booked",
                "provider_id")


def _metro(provider_id: int):
    return METROS[(provider_id - 1) % len(METROS)]


def provider_rows(size: CatalogSize, rng: random.Random, now: datetime, state: SeedState):
    created = now - timedelta(days=400)
    for p in range(1, size.providers + 1):
        city, _, _, zone, currency = _metro(p)
        state.currency[p] = currency
        name = f"{rng.choice(PROVIDER_WORDS)} {rng.choice(PROVIDER_WORDS)} {city} {p}"
        active = p % 50 != 0  # 2 in 100 providers are switched off
        yield (p, name, f"bench-provider-{p}", zone, currency, f"hello{p}@provider.example",
               f"+4930{p:07d}", active, created, created)


def location_rows(size: CatalogSize, rng: random.Random, state: SeedState):
    location_id = 0
    for p in range(1, size.providers + 1):
        _, lat0, lng0, _, _ = _metro(p)
        for k in range(size.locations_per_provider):
            location_id += 1
            state.locations.setdefault(p, []).append(location_id)
            if rng.random() < 0.03:  # not geocoded (yet)
                yield (location_id, f"Site {k + 1}", f"{k + 1} Bench Street", None, None,
                       "pending", p)
                continue
            # Spread over the metro area: about 6 km standard deviation each way.
            lat = round(lat0 + rng.gauss(0, 0.055), 6)
            lng = round(lng0 + rng.gauss(0, 0.055 / math.cos(math.radians(lat0))), 6)
            yield (location_id, f"Site {k + 1}", f"{k + 1} Bench Street", lat, lng,
                   "manual", p)


def category_rows(size: CatalogSize, state: SeedState):
    category_id = 0
    for p in range(1, size.providers + 1):
        for k in range(size.categories_per_provider):
            category_id += 1
            state.categories.setdefault(p, []).append(category_id)
            yield (category_id, f"Category {k + 1}", None, k, p)


def offering_rows(size: CatalogSize, rng: random.Random, now: datetime, state: SeedState):
    """Services (with a duration, at a location) and products (some shipped, no location).
    Names are "<level> <Activity> <format>", so one activity word matches ~2.5-3%."""
    created = now - timedelta(days=400)
    per_provider = math.ceil(size.offerings / size.providers)
    for o in range(1, size.offerings + 1):
        p = (o - 1) // per_provider + 1
        activity = rng.choice(ACTIVITIES)
        active = rng.random() >= 0.03
        if rng.random() < size.product_share:
            kind, minutes = "product", None
            name = (f"{rng.choice(PRODUCT_ADJECTIVES)} {activity.capitalize()} "
                    f"{rng.choice(PRODUCT_NOUNS)}")
            description = f"Everything you need for {activity}. {rng.choice(FILLER)}"
            location = rng.choice(state.locations[p]) if rng.random() < 0.4 else None
            state.products.append((o, p))
        else:
            kind, minutes = "service", rng.choice((30, 45, 60, 60, 75, 90))
            fmt = rng.choice(FORMATS)
            name = f"{rng.choice(LEVELS)} {activity.capitalize()} {fmt}"
            description = (f"{activity.capitalize()} {fmt.lower()} for "
                           f"{rng.choice(AUDIENCES)}. {rng.choice(FILLER)} "
                           f"{rng.choice(FILLER)}")
            if rng.random() < 0.08:
                description += f" Pairs well with {rng.choice(ACTIVITIES)}."
            location = rng.choice(state.locations[p])
            if active:
                state.services.append((o, p, minutes))
        images = json.dumps([f"https://img.example/o/{o}.jpg"] if rng.random() < 0.7 else [])
        stamp = created + timedelta(minutes=o)
        yield (o, kind, name, description, rng.randrange(500, 20_000, 50), state.currency[p],
               minutes, active, location, rng.choice(state.categories[p]), images, stamp,
               stamp, p)


def variant_rows(rng: random.Random, state: SeedState):
    """One to three variants per product; the first keeps the offering's price."""
    variant_id = 0
    for offering_id, p in state.products:
        for k in range(rng.randint(1, 3)):
            variant_id += 1
            stock = None if rng.random() < 0.1 else rng.choice((0, 1, 3, 10, 50))
            price = None if k == 0 else rng.randrange(500, 20_000, 50)
            yield (variant_id, offering_id, f"Option {k + 1}", f"SKU-{offering_id}-{k}", price,
                   stock, rng.random() >= 0.05, p)


def slot_rows(size: CatalogSize, rng: random.Random, now: datetime, state: SeedState):
    """Every day for ``days`` days from today (UTC): busy services run up to 8 slots a
    day, quiet ones 1; a quarter of the slots are full. Stops at ``size.slots``."""
    if not state.services:
        raise RuntimeError("no active services to give slots to")
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
    services = list(state.services)
    rng.shuffle(services)
    slot_id = 0
    while True:
        for offering_id, p, minutes in services:
            per_day = rng.choice((1, 2, 4, 4, 8))
            capacity = rng.choice((1, 1, 2, 4, 8, 12, 20))
            first = day0 + timedelta(hours=7, minutes=rng.choice((0, 15, 30)))
            starts = [first + timedelta(days=d, hours=round(j * 12 / per_day))
                      for d in range(size.days) for j in range(per_day)]
            length = timedelta(minutes=minutes)
            for start in starts:
                if slot_id >= size.slots:
                    return
                slot_id += 1
                r = rng.random()
                booked = capacity if r < 0.25 else (int(r * 997) % capacity if r < 0.6 else 0)
                yield (slot_id, offering_id, start, start + length, capacity, booked, p)
        # More slots asked for than one round gives: a second round 30 days later.
        day0 += timedelta(days=size.days)


# --------------------------------------------------------------------------- requests

def request_paths(app, count: int, *, rng: random.Random, now: datetime) -> dict[str, list[str]]:
    """``count`` varied paths per endpoint, drawn from what is in the database."""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        visible = list(db.session.scalars(text(
            "SELECT o.id FROM offering o JOIN provider p ON p.id = o.provider_id "
            "WHERE o.active AND p.active")))
        with_slots = list(db.session.scalars(text(
            "SELECT s.offering_id FROM slot s JOIN offering o ON o.id = s.offering_id "
            "JOIN provider p ON p.id = o.provider_id WHERE o.active AND p.active "
            "AND s.starts_at >= :now AND s.starts_at < :end GROUP BY s.offering_id"),
            {"now": now, "end": now + SLOT_WINDOW}))
        db.session.remove()
    if not visible or not with_slots:
        raise RuntimeError("nothing to request: seed first")

    def word() -> str:
        r = rng.random()
        if r < 0.80:
            return rng.choice(ACTIVITIES)
        if r < 0.90:
            return rng.choice(PREFIXES)
        if r < 0.95:
            return rng.choice(TWO_WORDS).replace(" ", "%20")
        return rng.choice(BROAD)

    def point() -> str:
        _, lat, lng, _, _ = rng.choice(METROS)
        return f"{lat + rng.gauss(0, 0.04):.5f},{lng + rng.gauss(0, 0.06):.5f}"

    start = now.replace(second=0, microsecond=0)
    window = (f"from={start:%Y-%m-%dT%H:%M:%S}Z"
              f"&to={start + SLOT_WINDOW:%Y-%m-%dT%H:%M:%S}Z")
    prefix = "/api/v1/offerings"
    return {
        "search": [f"{prefix}?q={word()}&page_size=20" for _ in range(count)],
        "near": [f"{prefix}?near={point()}&radius_km={rng.choice((2, 5, 10, 20))}"
                 f"&sort=distance&page_size=20" for _ in range(count)],
        "soonest": [f"{prefix}?sort=soonest&page_size=20&page={rng.choice((1, 1, 2, 3))}"
                    + (f"&q={word()}" if i % 2 else "") for i in range(count)],
        "price": [f"{prefix}?q={word()}&sort=price&page_size=20" for _ in range(count)],
        "slots": [f"{prefix}/{rng.choice(with_slots)}/slots?{window}" for _ in range(count)],
        # Half the detail pages are of services with upcoming slots (the next-slots query
        # then has rows to return), half of any visible offering.
        "detail": [f"{prefix}/{rng.choice(with_slots if i % 2 else visible)}"
                   for i in range(count)],
        # The storefront's time picker: this month's free days, then one day's times.
        "free-days": [f"{prefix}/{rng.choice(with_slots)}/free-days?month={start:%Y-%m}"
                      f"&quantity={rng.choice((1, 1, 2))}" for _ in range(count)],
        "free-times": [f"{prefix}/{rng.choice(with_slots)}/free-times"
                       f"?date={(start + timedelta(days=rng.randrange(1, 14))):%Y-%m-%d}"
                       for _ in range(count)],
    }


class ResultSizes:
    """What the responses held: matches (X-Pagination total) and items per page."""

    def __init__(self) -> None:
        self.totals: dict[str, list[int]] = {}
        self.items: dict[str, list[int]] = {}

    def inspector(self, endpoint: str):
        def inspect(path, response):
            status, headers, body = response
            if status != 200:
                return
            if "X-Pagination" in headers:
                self.totals.setdefault(endpoint, []).append(
                    json.loads(headers["X-Pagination"])["total"])
            data = json.loads(body)
            if isinstance(data, list):
                self.items.setdefault(endpoint, []).append(len(data))
            elif isinstance(data, dict) and "next_slots" in data:
                self.items.setdefault(endpoint, []).append(len(data["next_slots"]))
        return inspect


# --------------------------------------------------------------------------- measuring

@dataclass
class RunResult:
    in_process: dict[str, common.Stats] = field(default_factory=dict)
    gunicorn: dict[str, common.Stats] = field(default_factory=dict)
    rss: dict[int, common.RssRecord] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)  # 1-minute load average, start and end


def measure_in_process(app, paths: dict[str, list[str]], *, warmup: int,
                       sizes: ResultSizes | None = None) -> dict[str, common.Stats]:
    client = app.test_client()
    common.preflight_in_process(client, [endpoint_paths[0] for endpoint_paths in paths.values()])
    results = {}
    for endpoint in paths:
        inspect = sizes.inspector(endpoint) if sizes is not None else None
        results[endpoint] = common.run_in_process(client, paths[endpoint], warmup=warmup,
                                                  inspect=inspect)
        _progress_line("in-process", endpoint, results[endpoint])
    return results


def measure_gunicorn(env: dict, paths: dict[str, list[str]], *, workers: int,
                     concurrency: int, duration: float | None, warmup: int,
                     ) -> tuple[dict[str, common.Stats], dict[int, common.RssRecord]]:
    results = {}
    with common.GunicornServer(env=env, workers=workers) as server:
        sampler = common.RssSampler(server.worker_pids)
        sampler.mark_start()  # booted, before any catalog request
        try:
            common.preflight_http(server.host, server.port,
                                  [endpoint_paths[0] for endpoint_paths in paths.values()],
                                  server.log_path)
            for endpoint in paths:
                results[endpoint] = common.run_http(
                    server.host, server.port, paths[endpoint], concurrency=concurrency,
                    duration=duration, warmup=warmup)
                _progress_line(f"gunicorn x{workers} c{concurrency}", endpoint,
                               results[endpoint])
        finally:
            sampler.mark_end()
    return results, sampler.records


def _progress_line(label: str, endpoint: str, stats: common.Stats) -> None:
    errors = f"  errors {stats.errors} {stats.statuses}" if stats.errors else ""
    print(f"  {label:<18} {endpoint:<7} n={stats.count:<6} p50 {stats.p50:6.1f} ms  "
          f"p99 {stats.p99:6.1f} ms  {stats.rps:7.1f} req/s{errors}", file=sys.stderr,
          flush=True)


# --------------------------------------------------------------------------- reporting

HEADERS = ("endpoint", "in-proc p50 ms", "p99 ms", "req/s", "gunicorn p50 ms", "p99 ms",
           "req/s", "errors")


def endpoint_rows(runs: list[RunResult]) -> list[list]:
    """Per endpoint: the median over runs of each figure."""
    rows = []
    measured = {e for run in runs for e in (*run.in_process, *run.gunicorn)}
    for endpoint in (e for e in ENDPOINTS if e in measured):
        row: list = [endpoint]
        errors = 0
        for mode in ("in_process", "gunicorn"):
            stats = [getattr(run, mode)[endpoint] for run in runs if endpoint in getattr(run, mode)]
            row += [common.median(s.p50 for s in stats), common.median(s.p99 for s in stats),
                    common.median(s.rps for s in stats)]
            errors += sum(s.errors for s in stats)
        rows.append(row + [errors])
    return rows


def rss_rows(runs: list[RunResult]) -> list[list]:
    rows = []
    for n, run in enumerate(runs, 1):
        for pid, record in sorted(run.rss.items()):
            rows.append([f"run {n} worker {pid}", _mb(record.start_kb), _mb(record.max_kb),
                         _mb(record.end_kb)])
    return rows


def _mb(kb: int | None) -> float:
    return float("nan") if kb is None else kb / 1024


def report(runs: list[RunResult], *, args, seeding: str, sizes: ResultSizes,
           markdown: bool) -> str:
    title = (f"Catalog benchmark: {args.providers:,} providers, {args.offerings:,} "
             f"offerings, {args.slots:,} slots; {args.requests} requests per endpoint; "
             f"gunicorn {args.workers} workers, concurrency {args.concurrency}"
             f"{f', {args.duration:g} s per endpoint' if args.duration else ''}; "
             f"cache off; {'REDIS_URL set' if args.redis_url else 'no Redis'}; "
             f"{len(runs)} run(s), medians")
    loads = "; ".join(f"run {n}: {run.load[0]:.1f} -> {run.load[-1]:.1f}"
                      for n, run in enumerate(runs, 1))
    lines = [title, f"seeding: {seeding}",
             f"machine load (1-min average, {os.cpu_count()} CPUs) {loads}", ""]
    lines.append(common.format_table(HEADERS, endpoint_rows(runs), markdown=markdown))
    lines.append("")
    rss = rss_rows(runs)
    if rss:
        lines.append(common.format_table(("gunicorn worker RSS", "start MB", "max MB",
                                          "end MB"), rss, markdown=markdown))
        worst = max(r[2] for r in rss)
        lines.append(f"largest worker RSS: {worst:.1f} MB (limit 200 MB: "
                     f"{'ok' if worst < 200 else 'OVER'})")
        lines.append("")
    for endpoint in ENDPOINTS:
        parts = []
        if sizes.totals.get(endpoint):
            parts.append(f"median matches {common.median(sizes.totals[endpoint]):,.0f} "
                         f"(max {max(sizes.totals[endpoint]):,})")
        if sizes.items.get(endpoint):
            label = "next slots" if endpoint == "detail" else "items per response"
            parts.append(f"median {label} {common.median(sizes.items[endpoint]):,.0f}")
        if parts:
            lines.append(f"{endpoint}: " + ", ".join(parts))
    over = [row[0] for row in endpoint_rows(runs)
            if any(v == v and v >= 50 for v in (row[2], row[5]))]
    lines.append("p99 under 50 ms: " + ("all endpoints" if not over
                                          else "NOT for " + ", ".join(over)))
    errors = sum(row[-1] for row in endpoint_rows(runs))
    if errors:
        lines.append(f"WARNING: {errors} responses were not 2xx; the figures include them")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=common.default_database_url(),
                        help="PostgreSQL URL (default: $BENCH_DATABASE_URL or "
                             f"{common.DEFAULT_DATABASE_URL})")
    parser.add_argument("--providers", type=int, default=100)
    parser.add_argument("--offerings", type=int, default=100_000)
    parser.add_argument("--slots", type=int, default=1_000_000)
    parser.add_argument("--reseed", action="store_true",
                        help="empty the catalog tables and seed again")
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop")
    parser.add_argument("--requests", type=int, default=1000,
                        help="measured requests per endpoint and mode (default 1000)")
    parser.add_argument("--warmup", type=int, default=50,
                        help="unmeasured requests per endpoint first (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="load generator threads (default: one per worker)")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds per endpoint through gunicorn instead of --requests")
    parser.add_argument("--runs", type=int, default=1,
                        help="repeat the measurements; the table shows medians")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS),
                        help=f"comma-separated subset of {','.join(ENDPOINTS)}")
    parser.add_argument("--skip-in-process", action="store_true")
    parser.add_argument("--skip-gunicorn", action="store_true")
    # Without Redis the app does its periodic work from requests (embedded mode), and slot
    # generation would retire the seeded slots, which no availability rule asks for.
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                        help="give the app (and gunicorn) this REDIS_URL; the catalog cache "
                             "stays off (CATALOG_CACHE_SECONDS=0). Default: db 14 on "
                             "127.0.0.1; 'none' for embedded mode")
    parser.add_argument("--markdown", action="store_true", help="tables as Markdown")
    parser.add_argument("--random-seed", type=int, default=7,
                        help="seed of the request mix (data has its own fixed seed)")
    args = parser.parse_args(argv)
    args.concurrency = args.concurrency or args.workers
    args.endpoints = tuple(e for e in ENDPOINTS if e in args.endpoints.split(","))
    if not args.endpoints:
        parser.error(f"--endpoints: choose from {', '.join(ENDPOINTS)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.redis_url == "none":
        args.redis_url = None
    instance_dir = common.prepare_environment()
    size = CatalogSize(providers=args.providers, offerings=args.offerings, slots=args.slots)
    now = datetime.now(timezone.utc)

    if common.ensure_database(args.database_url):
        print(f"created database {args.database_url.rsplit('/', 1)[-1]}", file=sys.stderr)
    app = common.make_app(args.database_url, instance_dir, redis_url=args.redis_url)
    common.migrate(app)

    ready, why = (False, "--reseed") if args.reseed else seeded_state(app, size, now)
    if ready:
        seeding = f"skipped ({why}; --reseed to time it)"
        print(f"seeding: {seeding}", file=sys.stderr)
    else:
        print(f"seeding ({why}) ...", file=sys.stderr, flush=True)
        timings = seed_catalog(app, size, now=now)
        seeding = (f"{timings['total']:.1f} s in all; "
                   + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()
                               if name != "total"))
        print(f"seeding: {seeding}", file=sys.stderr)
    if args.seed_only:
        return 0

    rng = random.Random(args.random_seed)
    paths = {endpoint: endpoint_paths for endpoint, endpoint_paths
             in request_paths(app, args.requests, rng=rng, now=now).items()
             if endpoint in args.endpoints}
    env = common.server_environment(args.database_url, instance_dir, redis_url=args.redis_url)
    sizes = ResultSizes()
    runs = []
    for n in range(1, args.runs + 1):
        print(f"run {n} of {args.runs}", file=sys.stderr, flush=True)
        run = RunResult(load=[common.load_average()])
        if not args.skip_in_process:
            run.in_process = measure_in_process(app, paths, warmup=args.warmup,
                                                sizes=sizes if n == 1 else None)
        if not args.skip_gunicorn:
            run.gunicorn, run.rss = measure_gunicorn(
                env, paths, workers=args.workers, concurrency=args.concurrency,
                duration=args.duration, warmup=args.warmup)
        run.load.append(common.load_average())
        runs.append(run)
    print()
    print(report(runs, args=args, seeding=seeding, sizes=sizes, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    common.run_main(main)
