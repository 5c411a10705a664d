"""Benchmark of POST /api/v1/bookings through gunicorn on PostgreSQL with Redis.

Two shapes: low contention (requests spread over 10,000 slots) and high contention (all
requests on 10 slots of large capacity), each at 16 and 64 concurrent clients for
``--duration`` seconds. The same load against a floor (``bench/floor_app.py``: the
capacity UPDATE alone, on Core, on its own copy of the slots) gives the ratio. Both
servers stay up for a shape and take turns, ``--rounds`` times: on a machine whose speed
drifts, each ratio compares runs seconds apart, and the table gives the median of the
rounds. Then an overbooking audit: every slot's booked count must equal the places its
holding bookings take, and never exceed capacity. Also the resident memory of each
gunicorn worker and of the RQ worker, start and end.

    .venv/bin/python bench/booking.py [--duration 20] [--clients 16 64] [--rounds 3]
                                      [--workers 2]

Talks to 127.0.0.1 only. Needs PostgreSQL (BENCH_DATABASE_URL) and Redis (--redis-url).
"""
from __future__ import annotations

import argparse
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

SHAPES = {"low": dict(slots=10_000, capacity=1_000), "high": dict(slots=10, capacity=1_000_000)}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=common.default_database_url().replace(
        "bookwell_bench", "bookwell_bench_booking"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    return parser.parse_args()


def seed(app, shape: dict, customers: int = 64) -> dict:
    """A provider, a paid service, the shape's slots (and a copy for the floor) and
    customers with tokens."""
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
            provider_id, offering_id = common.bench_service(
                slug=f"bench-{name}", name=f"Bench Studio ({name})",
                offering_name="Bench class", price_minor=2500)
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
        return {**slots, "tokens": tokens}


def drive(port: int, path: str, bodies, tokens, *, clients: int, duration: float):
    """Closed loop: ``clients`` threads POST bookings for ``duration`` s; returns Stats."""
    rngs = {}

    def request_for(n: int, i: int):
        rng = rngs.setdefault(n, random.Random(n))
        return json.dumps(bodies(rng)), {"Content-Type": "application/json",
                                        "Authorization": f"Bearer {tokens[n % len(tokens)]}"}

    return common.post_for(port, path, request_for, clients=clients, duration=duration,
                           ok=lambda s: s in (200, 201))


def audit(app, offering_id: int) -> tuple[int, int]:
    """(slots of the booked offering whose count disagrees with their bookings, slots
    over capacity: the floor's included)."""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        mismatched = db.session.scalar(text("""
            SELECT count(*) FROM slot s LEFT JOIN (
              SELECT slot_id, sum(quantity) AS held FROM booking
              WHERE status IN ('pending', 'confirmed', 'completed', 'no_show')
              GROUP BY slot_id) b ON b.slot_id = s.id
            WHERE s.offering_id = :offering AND s.booked <> coalesce(b.held, 0)"""),
            {"offering": offering_id})
        over = db.session.scalar(text("SELECT count(*) FROM slot WHERE booked > capacity"))
        return mismatched, over


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
    env = common.server_environment(args.database_url, instance, redis_url=args.redis_url,
                                    JWT_SECRET_KEY=os.environ["JWT_SECRET_KEY"],
                                    SECRET_KEY=os.environ["SECRET_KEY"])
    results = []
    memory = {}
    worker = rq_worker(env)
    time.sleep(3)
    worker_start = common.rss_kb(worker.pid)
    targets = (("bookings", "wsgi:app", "/api/v1/bookings"),
               ("floor", "bench.floor_app:app", "/floor/bookings"))
    try:
        for shape_name, shape in SHAPES.items():
            data = seed(app, shape)
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
                            cpu_before = common.cpu_seconds_by_pid()
                            stats = drive(servers[target].port, path,
                                          lambda rng, slots=slots: {
                                              "offering_id": slots["offering"],
                                              "slot_id": rng.choice(slots["slots"])},
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
                                  f"p99 {stats.p99:6.1f} ms statuses {stats.statuses}",
                                  flush=True)
            finally:
                for target, server in servers.items():
                    samplers[target].mark_end()
                    server.stop()
                    memory[(shape_name, target)] = samplers[target].records
            mismatched, over = audit(app, data["bookings"]["offering"])
            print(f"  audit after '{shape_name}': {mismatched} slots disagree with their "
                  f"bookings, {over} over capacity", flush=True)
            results.append((shape_name, "audit", mismatched, over))
    finally:
        worker_end = common.rss_kb(worker.pid)
        worker.terminate()
        worker.wait(30)
    report(results, memory, worker_start, worker_end, args)
    return 0


def report(results, memory, worker_start, worker_end, args) -> None:
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
    for shape in SHAPES:
        for clients in args.clients:
            ours, floor = runs[(shape, clients, "bookings")], runs[(shape, clients, "floor")]
            ratios = [o.rps / f.rps for o, f in zip(ours, floor)]
            print(f"{shape:6} {clients:>7} | {_median(ours, 'rps'):>10.1f} "
                  f"{_median(ours, 'p50'):>7.1f} {_median(ours, 'p99'):>7.1f} | "
                  f"{_median(floor, 'rps'):>11.1f} {_median(floor, 'p50'):>7.1f} "
                  f"{_median(floor, 'p99'):>7.1f} | {statistics.median(ratios):>6.2f} "
                  f"({' '.join(f'{r:.2f}' for r in ratios)})")
    print("CPU per request, ms (medians: gunicorn workers / PostgreSQL / load generator / "
          "RQ worker / Redis):")
    for shape in SHAPES:
        for clients in args.clients:
            print(f"  {shape:4} {clients:3} clients  " + "   ".join(
                f"{target} {_cpu(runs[(shape, clients, target)])}"
                for target in ("bookings", "floor")))
    for shape, _, mismatched, over in (r for r in results if r[1] == "audit"):
        print(f"overbooking audit ({shape}): {mismatched} slots disagree, {over} over capacity")
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


def _median(runs, attribute: str) -> float:
    return statistics.median(getattr(run, attribute) for run in runs)


if __name__ == "__main__":
    sys.exit(main())
