"""CPU per booking in one process: ``POST /api/v1/bookings`` straight into the WSGI app.

No HTTP, no gunicorn, one request after another on PostgreSQL: what the web worker's
Python costs per booking, apart from the network and the other processes, steadier than
requests per second on a machine whose speed drifts. ``--profile`` adds the functions
with the most CPU time of their own (cProfile on the CPU clock; it inflates small calls).

    .venv/bin/python bench/booking_cpu.py [--requests 1500] [--repeats 5] [--profile]
                                          [--shape resource]

Seeds the same data as ``bench/booking.py`` (low contention, or ``--shape resource``:
staff and rooms, "any available", a quarter refused) in its own database, and counts the
statements each booking sends to PostgreSQL. The resource shape runs with Redis (db 10),
as production does: in embedded mode the periodic work would lay the resources' shifts
out afresh, for the coming weeks only, under the benchmark's bookings a year ahead. No RQ
worker runs: the events' jobs stay queued in that database.
"""
from __future__ import annotations

import argparse
import io
import itertools
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import booking, common  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=common.default_database_url().replace(
        "bookwell_bench", "bookwell_bench_booking"))
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--shape", choices=("low", "resource"), default="low")
    parser.add_argument("--redis-url", default=None,
                        help="default: none for low (embedded mode), db 10 for resource")
    return parser.parse_args()


def booking_requests(app, data: dict):
    """A function that sends one booking through the app and returns its status line."""
    rng = random.Random(1)
    slots, tokens = data["bookings"], data["tokens"]
    if "hours" in slots:  # the resource shape: the four slots of each fresh hour in turn
        bodies = booking.resource_bodies(slots["hours"], itertools.count())
    else:
        def bodies(rng):
            return {"offering_id": slots["offering"], "slot_id": rng.choice(slots["slots"])}

    def send() -> str:
        body = json.dumps(bodies(rng)).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/bookings", "SCRIPT_NAME": "",
            "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": False,
            "wsgi.multiprocess": True, "wsgi.run_once": False,
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Bearer {rng.choice(tokens)}",
            "HTTP_USER_AGENT": "bench"}
        status = []
        body_iter = app(environ, lambda line, headers, exc_info=None: status.append(line))
        b"".join(body_iter)
        body_iter.close()
        return status[0]

    return send


def counting_statements(app) -> Counter:
    """Counts, from now on, the statements the app's engines send, by first word."""
    from sqlalchemy import event

    from app.extensions import db

    counts: Counter = Counter()

    def count(conn, cursor, statement, parameters, context, executemany):
        counts[statement.split(None, 1)[0].upper()] += 1

    with app.app_context():
        for engine in {db.engine, *db.engines.values()}:
            event.listen(engine, "before_cursor_execute", count)
    return counts


def main() -> int:
    args = parse_args()
    instance = common.prepare_environment()
    redis_url = args.redis_url or ("redis://127.0.0.1:6379/10" if args.shape == "resource"
                                   else None)
    app = common.migrated_app(args.database_url, instance, redis_url=redis_url)
    requests = 200 + (args.repeats + (1 if args.profile else 0)) * args.requests
    data = booking.seed(app, booking.SHAPES[args.shape],
                        hours=requests // booking.PER_HOUR + 1)
    send = booking_requests(app, data)
    statuses = Counter(send() for _ in range(200))  # warm-up: imports, caches, pool
    statements = counting_statements(app)
    cpu_ms = []
    for _ in range(args.repeats):
        started = time.process_time()
        statuses.update(send() for _ in range(args.requests))
        cpu_ms.append((time.process_time() - started) / args.requests * 1000)
    sent = args.repeats * args.requests
    print(f"CPU per booking, ms ({args.repeats} x {args.requests} requests): "
          f"min {min(cpu_ms):.3f}, median {sorted(cpu_ms)[len(cpu_ms) // 2]:.3f}, "
          f"max {max(cpu_ms):.3f}; answers {dict(statuses)}")
    print(f"statements per booking: {sum(statements.values()) / sent:.1f} (" + ", ".join(
        f"{word} {count / sent:.2f}" for word, count in statements.most_common()) + ")")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)
        profiler.runcall(lambda: [send() for _ in range(args.requests)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    expected = {"201 CREATED"} | ({"409 CONFLICT"} if args.shape == "resource" else set())
    return 0 if set(statuses) <= expected else 1


if __name__ == "__main__":
    sys.exit(main())
