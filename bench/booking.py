"""Benchmark of POST /api/v1/bookings through gunicorn on PostgreSQL with Redis.

Three shapes, each at 16 and 64 concurrent clients for ``--duration`` seconds: low
contention (requests spread over 10,000 slots), high contention (all requests on 10 slots
of large capacity), and resource: bookings competing for shared staff and rooms across
offerings (see ``seed_resources``: 60 providers, each with 3 staff and 2 rooms shared by
4 offerings; the clients book "any available" four at a time on the four offerings' slots
of one hour, which three staff and two rooms cannot all do, so assignments collide and
some are refused, 409). The same load against a floor (``bench/floor_app.py``: the
capacity UPDATE alone, on Core, on its own copy of the slots; for the resource shape
also the resource time, see there) gives the ratio. Both servers stay up for a shape and
take turns, ``--rounds`` times: on a machine whose speed drifts, each ratio compares runs
seconds apart, and the table gives the median of the rounds. Each run starts once the RQ
worker has no jobs left (our bookings hand ``booking.created`` to it), so that no run pays
for the one before. Then an overbooking audit: every slot's booked count must equal the
places its holding bookings take, and never exceed capacity; for the resource shape
also, after some holds expire and some bookings
are cancelled, no two overlapping times of one resource, every holding booking with one
resource of each kind its offering needs, and no resource time left for a booking that
no longer holds its place. Also the resident memory of each gunicorn worker and of the RQ
worker, start and end.

    .venv/bin/python bench/booking.py [--duration 20] [--clients 16 64] [--rounds 3]
                                      [--workers 2] [--shapes low high resource]

Talks to 127.0.0.1 only. Needs PostgreSQL (BENCH_DATABASE_URL) and Redis (--redis-url).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

SHAPES = {"low": dict(slots=10_000, capacity=1_000), "high": dict(slots=10, capacity=1_000_000),
          "resource": dict(providers=60, resources=True)}
# The resource shape: each provider's five resources and its four offerings, each linked
# to three of them (so it needs one of each kind among those: a staff member, and for
# three of them a room too). Four requests book one hour, one on each offering.
RESOURCE_KINDS = ("staff", "staff", "staff", "room", "room")
RESOURCE_NAMES = ("Staff 1", "Staff 2", "Staff 3", "Room 1", "Room 2")
OFFERING_LINKS = ((0, 1, 2), (0, 1, 3), (1, 2, 4), (2, 3, 4))
PER_HOUR = len(OFFERING_LINKS)
OPENS, CLOSES = 8, 20  # every resource's hours (local), and the offerings' slots
FASTEST = 2_000  # requests per second the fresh hours are sized for (the floor: 1,000-1,400)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=common.default_database_url().replace(
        "bookwell_bench", "bookwell_bench_booking"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    return parser.parse_args()


def seed(app, shape: dict, customers: int = 64, *, hours: int = 0) -> dict:
    """A provider, a paid service, the shape's slots (and a copy for the floor) and
    customers with tokens; for the resource shape ``seed_resources`` instead, with
    ``hours`` fresh hours of its providers to book."""
    from datetime import timedelta

    from flask_jwt_extended import create_access_token
    from sqlalchemy import text

    from app.extensions import db
    from app.models.types import utcnow
    from app.services.roles import sync_roles

    with app.app_context():
        sync_roles(app.appbuilder)
        db.session.execute(text("TRUNCATE booking, booking_history, attribution, outbox_event, "
                                "consumed_event, idempotency_record, audit_log, slot, "
                                "variant, offering, provider RESTART IDENTITY CASCADE"))
        db.session.commit()
        # A year ahead: past any window of the slot generation that embedded mode runs
        # periodically, which removes never-booked slots no availability rule asks for.
        start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=366)
        slots = {}
        for name in ("bookings", "floor"):
            if shape.get("resources"):
                slots[name] = seed_resources(app, name, start, shape["providers"], hours)
                continue
            # Bookable as far ahead as the last slot: 10,000 hourly slots from a year ahead
            # run 417 days past that, beyond the default 400 days of booking horizon.
            provider_id, offering_id = common.bench_service(
                slug=f"bench-{name}", name=f"Bench Studio ({name})",
                offering_name="Bench class", price_minor=2500,
                offering_fields={"booking_horizon_days": 3650})
            with common.raw_connection(app) as conn:
                rows = ((provider_id, offering_id, start + timedelta(hours=i),
                         start + timedelta(hours=i, minutes=60), shape["capacity"], 0)
                        for i in range(shape["slots"]))
                common.copy_rows(conn, "slot", ["provider_id", "offering_id", "starts_at",
                                                "ends_at", "capacity", "booked"], rows,
                                 total=shape["slots"], label=f"slots ({name})")
            slots[name] = {"offering": offering_id, "slots": [
                row[0] for row in db.session.execute(text(
                    "SELECT id FROM slot WHERE offering_id = :o ORDER BY id"),
                    {"o": offering_id})]}
        tokens = []
        for n in range(customers):
            user = common.bench_customer(f"bench{n}@example.com", last_name=str(n))
            tokens.append(create_access_token(identity=str(user.id),
                                              expires_delta=timedelta(hours=2)))
        if shape.get("resources"):
            floor_placeholder(app, slots["floor"], user.id)
        return {**slots, "tokens": tokens}


def seed_resources(app, name: str, start, providers: int, hours: int) -> dict:
    """``providers`` providers (Europe/Berlin), each with 3 staff and 2 rooms keeping
    weekly hours 08:00-20:00 every day (their shifts laid out for the days booked) and 4
    paid 60-minute services linked as ``OFFERING_LINKS`` says, with a slot of one place
    every hour from 08:00 to 20:00. Returns the hours in the order the clients book them:
    the first hour of every provider, then the second, and so on, each hour the four
    offerings' slots in an order of its own (the same for both copies)."""
    from datetime import datetime, time as wall_time, timedelta

    from app.extensions import db
    from app.models.types import utcnow
    from app.services.agenda import zone_of
    from app.services.resource_hours import shifts_for
    from app.services.weekly_hours import TimeRange

    zone_name = "Europe/Berlin"
    zone = zone_of(zone_name)
    per_day = CLOSES - OPENS
    first_day = start.astimezone(zone).date()
    days = -(-hours // providers) // per_day + 1
    ranges = [TimeRange(d, wall_time(OPENS), wall_time(CLOSES)) for d in range(7)]
    shifts = shifts_for(ranges, zone_name, first_day, days)
    now = utcnow()
    offerings: list[list[int]] = []
    resources: list[int] = []
    with common.raw_connection(app) as conn, conn.cursor() as cur:
        for p in range(providers):
            cur.execute(
                "INSERT INTO provider (name, slug, timezone, currency, active, tax_rate_bp, "
                "tax_inclusive, created_at, updated_at) VALUES (%s, %s, %s, 'EUR', true, 0, "
                "true, %s, %s) RETURNING id",
                (f"Bench salon ({name}) {p + 1}", f"bench-{name}-salon-{p + 1}", zone_name,
                 now, now))
            provider_id = cur.fetchone()[0]
            ids = []
            for kind, resource_name in zip(RESOURCE_KINDS, RESOURCE_NAMES):
                cur.execute(
                    "INSERT INTO resource (provider_id, name, kind, active, keeps_hours, "
                    "created_at) VALUES (%s, %s, %s, true, true, %s) RETURNING id",
                    (provider_id, resource_name, kind, now))
                ids.append(cur.fetchone()[0])
            resources += [(provider_id, rid) for rid in ids]
            mine = []
            for n, links in enumerate(OFFERING_LINKS):
                cur.execute(
                    "INSERT INTO offering (provider_id, kind, name, description, price_minor, "
                    "currency, duration_minutes, active, image_urls, booking_horizon_days, "
                    "created_at, updated_at) VALUES (%s, 'service', %s, '', 2500, 'EUR', 60, "
                    "true, '[]', 3650, %s, %s) RETURNING id",
                    (provider_id, f"Bench appointment {n + 1}", now, now))
                offering_id = cur.fetchone()[0]
                cur.executemany("INSERT INTO offering_resource (offering_id, resource_id) "
                                "VALUES (%s, %s)", [(offering_id, ids[k]) for k in links])
                mine.append((provider_id, offering_id))
            offerings.append(mine)
        # A year ahead, past the days for which the app lays out shifts itself: the
        # resources' shifts for the days booked are laid out here, as the app would.
        common.copy_rows(conn, "resource_hours",
                         ("provider_id", "resource_id", "weekday", "start_time", "end_time"),
                         ((p, rid, span.weekday, span.start, span.end)
                          for p, rid in resources for span in ranges),
                         label=f"hours ({name})")
        common.copy_rows(conn, "resource_shift",
                         ("provider_id", "resource_id", "starts_at", "ends_at"),
                         ((p, rid, s, e) for p, rid in resources for s, e in shifts),
                         label=f"shifts ({name})")

        def hour(t: int):
            day = first_day + timedelta(days=t // per_day)
            local = datetime.combine(day, wall_time(OPENS + t % per_day), zone)
            return local.astimezone(start.tzinfo)

        per_provider = -(-hours // providers)
        common.copy_rows(
            conn, "slot", ("provider_id", "offering_id", "starts_at", "ends_at", "capacity",
                           "booked"),
            ((p, o, hour(t), hour(t) + timedelta(hours=1), 1, 0)
             for t in range(per_provider) for mine in offerings for p, o in mine),
            total=per_provider * providers * PER_HOUR, label=f"slots ({name})")
        cur.execute("SELECT offering_id, starts_at, id FROM slot WHERE provider_id = ANY(%s)",
                    ([mine[0][0] for mine in offerings],))
        slot_of = {(o, starts_at): slot_id for o, starts_at, slot_id in cur.fetchall()}
    order = []
    for g in range(hours):
        mine, t = offerings[g % providers], g // providers
        pairs = [(o, slot_of[(o, hour(t))]) for _p, o in mine]
        random.Random(g).shuffle(pairs)
        order.append(pairs)
    db.session.remove()
    return {"offering": None, "hours": order,
            "providers": [mine[0][0] for mine in offerings]}


def floor_placeholder(app, floor: dict, customer_id: int) -> None:
    """The one booking the floor's resource time points at (the table needs one)."""
    from sqlalchemy import text

    from app.extensions import db
    from bench.floor_app import PLACEHOLDER

    offering_id, slot_id = floor["hours"][0][0]
    with app.app_context():
        db.session.execute(text("""
            INSERT INTO booking (reference, customer_id, offering_id, slot_id, quantity,
                                 status, unit_price_minor, total_minor, currency,
                                 pay_at_venue, notes, created_at, updated_at, provider_id)
            SELECT :reference, :customer, o.id, :slot, 1, 'confirmed', 0, 0, 'EUR', true,
                   '', now(), now(), o.provider_id FROM offering o WHERE o.id = :offering"""),
            {"reference": PLACEHOLDER, "customer": customer_id, "slot": slot_id,
             "offering": offering_id})
        db.session.commit()


def resource_bodies(hours: list, used: itertools.count):
    """Request bodies of the resource shape: the next fresh hour's four slots, one per
    request, from one counter shared by all clients (and all runs against this server),
    so that the four requests of an hour arrive together, whichever clients send them."""
    def body(_rng):
        k = next(used)
        offering_id, slot_id = hours[(k // PER_HOUR) % len(hours)][k % PER_HOUR]
        return {"offering_id": offering_id, "slot_id": slot_id}
    return body


def drive(port, path: str, bodies, tokens, *, clients: int, duration: float):
    """Closed loop: ``clients`` threads POST bookings for ``duration`` s to the port (or
    to several in turn, see ``common.post_for``); returns Stats."""
    rngs = {}

    def request_for(n: int, i: int):
        rng = rngs.setdefault(n, random.Random(n))
        return json.dumps(bodies(rng)), {"Content-Type": "application/json",
                                        "Authorization": f"Bearer {tokens[n % len(tokens)]}"}

    return common.post_for(port, path, request_for, clients=clients, duration=duration,
                           ok=lambda s: s in (200, 201))


def audit(app, data: dict) -> tuple[int, int]:
    """(slots of the booked offering (offerings: the resource shape's providers') whose
    count disagrees with their bookings, slots over capacity: the floor's included)."""
    from sqlalchemy import text

    from app.extensions import db

    ours = data["bookings"]
    where = ("s.provider_id = ANY(:providers)" if ours["offering"] is None
             else "s.offering_id = :offering")
    with app.app_context():
        mismatched = db.session.scalar(text(f"""
            SELECT count(*) FROM slot s LEFT JOIN (
              SELECT slot_id, sum(quantity) AS held FROM booking
              WHERE status IN ('pending', 'confirmed', 'completed', 'no_show')
              GROUP BY slot_id) b ON b.slot_id = s.id
            WHERE {where} AND s.booked <> coalesce(b.held, 0)"""),
            {"offering": ours["offering"], "providers": ours.get("providers")})
        over = db.session.scalar(text("SELECT count(*) FROM slot WHERE booked > capacity"))
        return mismatched, over


HOLDING_SQL = "('pending', 'confirmed', 'completed', 'no_show')"


def give_back_some(app, providers: list[int], *, expire: int = 300, cancel: int = 200
                   ) -> tuple[int, int]:
    """Places given back the ways the app gives them back, so the audit has bookings that
    no longer hold theirs: ``expire`` holds run out (the periodic job, as if an hour
    later), ``cancel`` bookings cancelled by staff. Returns (expired, cancelled)."""
    from datetime import timedelta

    from sqlalchemy import text

    from app.extensions import db
    from app.models.types import utcnow
    from app.services import booking_lifecycle
    from app.services.scopes import Actor, Scope

    with app.app_context():
        expired = booking_lifecycle.expire_holds(scope=Scope.all_providers(),
                                                 now=utcnow() + timedelta(hours=1),
                                                 limit=expire)
        references = list(db.session.scalars(text(
            f"SELECT reference FROM booking WHERE provider_id = ANY(:providers) "
            f"AND status IN {HOLDING_SQL} ORDER BY id DESC LIMIT :n"),
            {"providers": providers, "n": cancel}))
        db.session.remove()
    for reference in references:
        with app.app_context():
            booking_lifecycle.cancel_booking(reference, actor=Actor(None, "bench audit"),
                                             scope=Scope.all_providers())
    return expired, len(references)


def audit_resources(app, providers: list[int]) -> dict[str, int]:
    """The resource shape's audit (our copy; the overlap check also covers the floor's):

    - overlaps: pairs of times of one resource that overlap (where the schema lets some
      share a time, ``share_key``: pairs not sharing one), both held;
    - missing: holding bookings of our offerings without, for some kind the offering
      needs, exactly one of its resources of that kind for the slot's time;
    - extra: resource times of our bookings that are not one of those (a resource not
      linked to the offering, another time, a booking no longer holding);
    - left behind: resource times of bookings that no longer hold their places."""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        shared = db.session.scalar(text(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = "
            "'resource_booking' AND column_name = 'share_key'"))
        not_shared = "AND a.share_key <> b.share_key" if shared else ""
        found = {}
        # Each time against the others of its resource it overlaps, through the
        # exclusion constraint's GiST index.
        found["overlaps"] = db.session.scalar(text(f"""
            SELECT count(*) FROM resource_booking a
            JOIN booking ba ON ba.id = a.booking_id AND ba.status IN {HOLDING_SQL}
            JOIN resource_booking b ON b.resource_id = a.resource_id AND b.id > a.id
                 AND tstzrange(b.starts_at, b.ends_at, '[)')
                     && tstzrange(a.starts_at, a.ends_at, '[)') {not_shared}
            JOIN booking bb ON bb.id = b.booking_id AND bb.status IN {HOLDING_SQL}"""))
        found["missing"] = db.session.scalar(text(f"""
            SELECT count(*) FROM booking b JOIN slot s ON s.id = b.slot_id
            JOIN (SELECT DISTINCT l.offering_id, r.kind FROM offering_resource l
                  JOIN resource r ON r.id = l.resource_id WHERE r.active) need
                 ON need.offering_id = b.offering_id
            CROSS JOIN LATERAL (
                SELECT count(*) AS n FROM resource_booking rb
                JOIN resource r ON r.id = rb.resource_id AND r.kind = need.kind
                JOIN offering_resource l ON l.resource_id = rb.resource_id
                     AND l.offering_id = b.offering_id
                WHERE rb.booking_id = b.id
                  AND rb.starts_at = coalesce(s.resource_from, s.starts_at)
                  AND rb.ends_at = coalesce(s.resource_until, s.ends_at)) held
            WHERE b.provider_id = ANY(:providers) AND b.status IN {HOLDING_SQL}
              AND held.n <> 1"""), {"providers": providers})
        found["extra"] = db.session.scalar(text(f"""
            SELECT count(*) FROM resource_booking rb JOIN booking b ON b.id = rb.booking_id
            WHERE rb.provider_id = ANY(:providers) AND NOT EXISTS (
                SELECT 1 FROM slot s JOIN offering_resource l
                     ON l.offering_id = b.offering_id AND l.resource_id = rb.resource_id
                WHERE s.id = b.slot_id AND b.status IN {HOLDING_SQL}
                  AND rb.starts_at = coalesce(s.resource_from, s.starts_at)
                  AND rb.ends_at = coalesce(s.resource_until, s.ends_at))"""),
            {"providers": providers})
        found["left behind"] = db.session.scalar(text(f"""
            SELECT count(*) FROM resource_booking rb JOIN booking b ON b.id = rb.booking_id
            WHERE b.status NOT IN {HOLDING_SQL}"""))
        found["holding bookings"] = db.session.scalar(text(
            f"SELECT count(*) FROM booking WHERE provider_id = ANY(:providers) "
            f"AND status IN {HOLDING_SQL}"), {"providers": providers})
        found["resource times"] = db.session.scalar(text(
            "SELECT count(*) FROM resource_booking WHERE provider_id = ANY(:providers)"),
            {"providers": providers})
        db.session.remove()
    return found


def wait_for_jobs(redis_url: str, timeout: float = 300.0) -> float:
    """Until the RQ worker's queues are empty (and a moment for the job in hand), so that
    no run pays for the jobs the one before it left (a booking hands ``booking.created``
    to the staff notifications). Returns the seconds waited."""
    import redis

    client = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    while time.monotonic() - started < timeout and any(
            client.llen(f"rq:queue:{queue}") for queue in ("events", "default")):
        time.sleep(0.2)
    client.close()
    time.sleep(0.5)
    return time.monotonic() - started


def rq_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "bookwell", "worker",
                             "--queues", "events,default", "--no-fork"], cwd=common.REPO_ROOT,
                            env={**env, "FLASK_APP": "wsgi"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def mb(kb) -> str:
    return "-" if kb is None else f"{kb / 1024:.0f}"


def main() -> int:
    args = parse_args()
    instance = common.prepare_environment()
    app = common.migrated_app(args.database_url, instance, redis_url=args.redis_url)
    env = common.server_environment(args.database_url, instance, redis_url=args.redis_url)
    results = []
    memory = {}
    worker = rq_worker(env)
    time.sleep(3)
    worker_start = common.rss_kb(worker.pid)
    shapes = {name: SHAPES[name] for name in args.shapes}
    # The resource shape books each hour once: enough fresh hours for the fastest server
    # we expect over all its runs (each server books its own copy).
    hours = int(len(args.clients) * args.rounds * args.duration * FASTEST / PER_HOUR)
    audits = {}
    try:
        for shape_name, shape in shapes.items():
            data = seed(app, shape, hours=hours if shape.get("resources") else 0)
            resources = bool(shape.get("resources"))
            targets = (("bookings", "wsgi:app", "/api/v1/bookings"),
                       ("floor", "bench.floor_app:app",
                        "/floor/resource-bookings" if resources else "/floor/bookings"))
            used = {target: itertools.count() for target, _, _ in targets}
            servers, samplers = {}, {}
            try:
                for target, app_path, _ in targets:
                    servers[target] = common.GunicornServer(env=env, workers=args.workers,
                                                            app=app_path).start()
                    samplers[target] = common.RssSampler(servers[target].worker_pids)
                    samplers[target].mark_start()
                for clients in args.clients:
                    for round_number in range(1, args.rounds + 1):
                        for target, _, path in targets:
                            slots = data[target]
                            if resources:
                                bodies = resource_bodies(slots["hours"], used[target])
                            else:
                                def bodies(rng, slots=slots):
                                    return {"offering_id": slots["offering"],
                                            "slot_id": rng.choice(slots["slots"])}
                            waited = wait_for_jobs(args.redis_url)
                            cpu_before = common.cpu_seconds_by_pid()
                            stats = drive(servers[target].port, path, bodies,
                                          data["tokens"], clients=clients,
                                          duration=args.duration)
                            workers = set(servers[target].worker_pids())
                            stats.cpu = common.cpu_ms_per_request(
                                cpu_before, common.cpu_seconds_by_pid(),
                                sum(stats.statuses.values()),
                                {"workers": lambda pid, _: pid in workers,
                                 "postgres": lambda _, name: name == "postgres",
                                 "load": lambda pid, _: pid == os.getpid(),
                                 "rq": lambda pid, _: pid == worker.pid,
                                 "redis": lambda _, name: name.startswith("redis-server")})
                            results.append((shape_name, clients, target, stats))
                            print(f"  {shape_name:4} {clients:3} clients round {round_number} "
                                  f"{target:8} {stats.rps:7.1f} req/s p50 {stats.p50:6.1f} ms "
                                  f"p99 {stats.p99:6.1f} ms statuses {stats.statuses} "
                                  f"(waited {waited:.1f} s for the RQ worker first)",
                                  flush=True)
            finally:
                for target, server in servers.items():
                    samplers[target].mark_end()
                    server.stop()
                    memory[(shape_name, target)] = samplers[target].records
            if resources:
                for target, counter in used.items():
                    booked_hours = next(counter) // PER_HOUR
                    if booked_hours > hours:
                        print(f"  WARNING: {target} ran out of fresh hours ({booked_hours:,} "
                              f"booked, {hours:,} seeded): later requests found them taken",
                              flush=True)
                expired, cancelled = give_back_some(app, data["bookings"]["providers"])
                audits[shape_name] = {"holds expired": expired, "cancelled": cancelled,
                                      **audit_resources(app, data["bookings"]["providers"])}
                print(f"  resource audit after '{shape_name}': {audits[shape_name]}",
                      flush=True)
            mismatched, over = audit(app, data)
            print(f"  audit after '{shape_name}': {mismatched} slots disagree with their "
                  f"bookings, {over} over capacity", flush=True)
            results.append((shape_name, "audit", mismatched, over))
    finally:
        worker_end = common.rss_kb(worker.pid)
        worker.terminate()
        worker.wait(30)
    report(results, memory, worker_start, worker_end, args, audits)
    return 0


def report(results, memory, worker_start, worker_end, args, audits) -> None:
    print()
    print(f"POST /api/v1/bookings, gunicorn --workers {args.workers}, {args.duration:.0f} s "
          f"per run, {args.rounds} alternating rounds (medians), PostgreSQL + Redis, "
          f"{os.cpu_count()} CPUs")
    print(f"{'shape':6} {'clients':>7} | {'ours req/s':>10} {'p50 ms':>7} {'p99 ms':>7} | "
          f"{'floor req/s':>11} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>6} "
          f"{'(rounds)':>16}")
    runs: dict[tuple, list] = {}
    for result in results:
        if result[1] != "audit":
            runs.setdefault(result[:3], []).append(result[3])
    for shape in args.shapes:
        for clients in args.clients:
            ours, floor = runs[(shape, clients, "bookings")], runs[(shape, clients, "floor")]
            ratios = [o.rps / f.rps for o, f in zip(ours, floor)]
            print(f"{shape:6} {clients:>7} | {_median(ours, 'rps'):>10.1f} "
                  f"{_median(ours, 'p50'):>7.1f} {_median(ours, 'p99'):>7.1f} | "
                  f"{_median(floor, 'rps'):>11.1f} {_median(floor, 'p50'):>7.1f} "
                  f"{_median(floor, 'p99'):>7.1f} | {statistics.median(ratios):>6.2f} "
                  f"({' '.join(f'{r:.2f}' for r in ratios)})")
    for shape in (s for s in args.shapes if SHAPES[s].get("resources")):
        for clients in args.clients:
            print(f"  {shape} {clients} clients, answers: " + "   ".join(
                f"{target} {_answers(runs[(shape, clients, target)])}"
                for target in ("bookings", "floor")))
    print("CPU per request, ms (medians: gunicorn workers / PostgreSQL / load generator / "
          "RQ worker / Redis):")
    for shape in args.shapes:
        for clients in args.clients:
            print(f"  {shape:4} {clients:3} clients  " + "   ".join(
                f"{target} {_cpu(runs[(shape, clients, target)])}"
                for target in ("bookings", "floor")))
    for shape, _, mismatched, over in (r for r in results if r[1] == "audit"):
        print(f"overbooking audit ({shape}): {mismatched} slots disagree, {over} over capacity")
        if shape in audits:
            found = audits[shape]
            print(f"resource audit ({shape}), after {found['holds expired']} holds expired and "
                  f"{found['cancelled']} bookings cancelled: {found['overlaps']} overlapping "
                  f"times of a resource, {found['missing']} needed resources missing, "
                  f"{found['extra']} resource times not needed, {found['left behind']} left "
                  f"behind by bookings no longer holding ({found['holding bookings']:,} "
                  f"holding bookings, {found['resource times']:,} resource times)")
    print("resident memory, MB (start / max / end):")
    for (shape, target), records in memory.items():
        for pid, record in sorted(records.items()):
            growth = ((record.end_kb or 0) - (record.start_kb or 0)) / max(record.start_kb or 1, 1)
            print(f"  {shape:4} {target:8} gunicorn worker {pid}: {mb(record.start_kb)} / "
                  f"{mb(record.max_kb)} / {mb(record.end_kb)} ({growth:+.0%})")
    print(f"  RQ worker: {mb(worker_start)} at start, {mb(worker_end)} at end")


def _cpu(runs) -> str:
    return " / ".join(f"{statistics.median(run.cpu[group] for run in runs):.2f}"
                      for group in ("workers", "postgres", "load", "rq", "redis"))


def _answers(runs) -> str:
    """All rounds' answers: how many were placed (201) and refused (409, busy or full)."""
    statuses = {}
    for run in runs:
        for status, count in run.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    total = sum(statuses.values()) or 1
    return " ".join(f"{status}: {count:,} ({count / total:.0%})"
                    for status, count in sorted(statuses.items()))


def _median(runs, attribute: str) -> float:
    return statistics.median(getattr(run, attribute) for run in runs)


if __name__ == "__main__":
    sys.exit(main())
