"""Benchmark of outgoing webhooks on PostgreSQL with Redis: delivery throughput with a slow
and a failing receiver among healthy ones, and what webhooks cost a booking.

1. Delivery: ``--events`` outbox events (``booking.completed`` of one booking) are fanned
   out to ``--endpoints`` endpoints of the provider (default 10): one answers after
   ``--slow-seconds`` (2 s), one answers 500, the others at once. ``--workers`` RQ
   workers (``events,webhooks,webhooks_slow``, ``--no-fork``) start once every event is
   published; measured: the time until every healthy endpoint has all its deliveries,
   i.e. deliveries per second to the healthy ones, and how many the slow and the
   failing receivers got meanwhile. The receivers run in this process, on threads.
2. Bookings: ``POST /api/v1/bookings`` through gunicorn (the low-contention shape of
   ``bench/booking.py``, ``--clients`` clients for ``--duration`` seconds), with webhooks
   on (the booking's provider has ``--booking-endpoints`` healthy endpoints subscribed to
   every topic, so each ``booking.created`` is fanned out and delivered by the RQ worker
   running beside) and off (no endpoints: the event costs no job), taking turns
   ``--rounds`` times in one run; the ratio of the medians is what webhooks cost a
   booking (the issue's bound: at most 5 % slower). Both again with the RQ worker
   stopped (SIGSTOP) during the run, "off, worker paused" and "on, worker paused": their
   ratio is what the booking request itself pays, without the worker's fan-out and
   deliveries competing for the same CPUs; on a machine with few cores the difference
   between the two ratios is that competition. Before each variant, what the one before
   left to the worker (marked events, pending deliveries) is given up and the queues
   drained, so that none pays for another's backlog.

    .venv/bin/python bench/webhooks.py [--events 10000] [--workers 2] [--duration 20] \\
        [--clients 16] [--rounds 3]

Talks to 127.0.0.1 only. Needs PostgreSQL (BENCH_DATABASE_URL) and Redis (--redis-url).
Check it works with ``--events 200 --duration 3 --rounds 1``; full runs on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

TOPIC = "booking.completed"  # no other handler: the workers do webhooks only
BATCH = 500


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=common.default_database_url().replace(
        "bookwell_bench", "bookwell_bench_webhooks"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2, help="RQ workers for part 1")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="give up waiting for the healthy deliveries after this")
    parser.add_argument("--duration", type=float, default=20.0, help="per booking run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--booking-endpoints", type=int, default=1)
    parser.add_argument("--web-workers", type=int, default=2)
    return parser.parse_args()


# --- receivers -------------------------------------------------------------------------------

class Receivers(ThreadingHTTPServer):
    """Answers ``/ok/<n>`` at once, ``/slow`` after a while, ``/fail`` with 500; counts."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, slow_seconds: float):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.slow_seconds = slow_seconds
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_POST(self):
        server: Receivers = self.server
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with server.lock:
            server.counts[self.path] = server.counts.get(self.path, 0) + 1
        if self.path == "/slow":
            time.sleep(server.slow_seconds)
        status = 500 if self.path == "/fail" else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


# --- part 1: delivery ------------------------------------------------------------------------

def seed_delivery(app, receivers: Receivers, endpoints: int) -> dict:
    from sqlalchemy import text

    from app.extensions import db
    from app.services import bookings, webhook_endpoints
    from app.services.scopes import Scope

    with app.app_context():
        db.session.execute(text(
            "TRUNCATE webhook_attempt, webhook_delivery, webhook_endpoint, booking, "
            "booking_history, outbox_event, consumed_event, notification, audit_log, slot, "
            "variant, offering, provider RESTART IDENTITY CASCADE"))
        db.session.commit()
        provider_id, offering_id = common.bench_service(
            slug="bench-webhooks", name="Bench Webhooks", offering_name="Bench class",
            price_minor=0)
        slot_id = common.bench_slot(provider_id, offering_id, days_ahead=30, capacity=10)
        customer = common.bench_customer("webhooks@example.com")
        reference = bookings.place_booking(customer_id=customer.id, offering_id=offering_id,
                                           slot_id=slot_id).reference
        paths = [f"/ok/{n}" for n in range(endpoints - 2)] + ["/slow", "/fail"]
        scope = Scope.of_provider(provider_id)
        ids = {}
        for path in paths:
            ids[path] = webhook_endpoints.create_endpoint(
                scope=scope, url=receivers.url(path), topics=[TOPIC]).id
        return {"provider": provider_id, "reference": reference, "endpoints": ids}


def publish_events(app, data: dict, count: int) -> float:
    from app import events
    from app.services.transactions import unit_of_work

    started = time.monotonic()
    payload = {"booking_reference": data["reference"], "provider_id": data["provider"],
               "status": "completed"}
    with app.app_context():
        for first in range(0, count, BATCH):
            with unit_of_work():
                for _ in range(min(BATCH, count - first)):
                    events.publish(TOPIC, payload, provider_id=data["provider"])
    return time.monotonic() - started


def rq_workers(env: dict, count: int, queues: str, *, fork: bool = False
               ) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "flask", "bookwell", "worker",
                              "--queues", queues, "--fork" if fork else "--no-fork"],
                             cwd=common.REPO_ROOT,
                             env={**env, "FLASK_APP": "wsgi"}, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(count)]


def succeeded_by_endpoint(app) -> dict[int, int]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import WebhookDelivery

    with app.app_context():
        rows = db.session.execute(select(WebhookDelivery.endpoint_id,
                                         func.count(WebhookDelivery.id))
                                  .where(WebhookDelivery.status == "succeeded")
                                  .group_by(WebhookDelivery.endpoint_id)).all()
        db.session.rollback()
    return dict(rows)


def run_delivery(app, env: dict, args) -> dict:
    receivers = Receivers(args.slow_seconds)
    data = seed_delivery(app, receivers, args.endpoints)
    healthy = [endpoint_id for path, endpoint_id in data["endpoints"].items()
               if path.startswith("/ok/")]
    published = publish_events(app, data, args.events)
    print(f"  published {args.events:,} events in {published:.1f} s", flush=True)
    workers = rq_workers(env, args.workers, "events,webhooks,webhooks_slow")
    started = time.monotonic()
    done_at = None
    try:
        while time.monotonic() - started < args.timeout:
            counts = succeeded_by_endpoint(app)
            if all(counts.get(endpoint_id, 0) >= args.events for endpoint_id in healthy):
                done_at = time.monotonic()
                break
            time.sleep(0.5)
    finally:
        for worker in workers:
            stop(worker)
    elapsed = (done_at or time.monotonic()) - started
    counts = succeeded_by_endpoint(app)
    delivered = sum(counts.get(endpoint_id, 0) for endpoint_id in healthy)
    receivers.shutdown()
    return {"healthy_endpoints": len(healthy), "delivered": delivered,
            "expected": args.events * len(healthy), "seconds": elapsed,
            "finished": done_at is not None,
            "slow_received": receivers.counts.get("/slow", 0),
            "failing_received": receivers.counts.get("/fail", 0)}


# --- part 2: bookings with webhooks on and off ------------------------------------------------

def set_endpoints(app, provider_id: int, receivers: Receivers, count: int) -> None:
    """``count`` healthy endpoints for the provider (0: none at all)."""
    from sqlalchemy import delete

    from app.extensions import db
    from app.models import WebhookEndpoint
    from app.services import webhook_endpoints
    from app.services.scopes import Scope

    with app.app_context():
        db.session.execute(delete(WebhookEndpoint))
        db.session.commit()
        for n in range(count):
            webhook_endpoints.create_endpoint(scope=Scope.of_provider(provider_id),
                                              url=receivers.url(f"/ok/booking-{n}"),
                                              topics=["*"])


def run_bookings(app, env: dict, args) -> list[tuple[str, object]]:
    from bench import booking

    receivers = Receivers(args.slow_seconds)
    data = booking.seed(app, booking.SHAPES["low"], customers=max(args.clients, 16))
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import Offering

        provider_id = db.session.scalar(select(Offering.provider_id).where(
            Offering.id == data["bookings"]["offering"]))
    worker = rq_workers(env, 1, "events,webhooks,webhooks_slow,default")[0]
    server = common.GunicornServer(env=env, workers=args.web_workers).start()
    results = []
    slots = data["bookings"]
    try:
        for round_number in range(1, args.rounds + 1):
            for label, count in (("webhooks off", 0), ("webhooks on", args.booking_endpoints),
                                 ("off, worker paused", 0),
                                 ("on, worker paused", args.booking_endpoints)):
                settle(app, args.redis_url)
                set_endpoints(app, provider_id, receivers, count)
                time.sleep(float(env["WEBHOOK_ENDPOINT_CACHE_SECONDS"]) + 0.5)
                booking.wait_for_jobs(args.redis_url)
                paused = label.endswith("worker paused")
                if paused:
                    os.kill(worker.pid, signal.SIGSTOP)

                def bodies(rng, slots=slots):
                    return {"offering_id": slots["offering"],
                            "slot_id": rng.choice(slots["slots"])}

                try:
                    stats = booking.drive(server.port, "/api/v1/bookings", bodies,
                                          data["tokens"], clients=args.clients,
                                          duration=args.duration)
                finally:
                    if paused:
                        os.kill(worker.pid, signal.SIGCONT)
                results.append((label, stats))
                print(f"  round {round_number} {label:17} {stats.rps:7.1f} bookings/s "
                      f"p50 {stats.p50:6.1f} ms p99 {stats.p99:6.1f} ms "
                      f"statuses {stats.statuses}", flush=True)
    finally:
        server.stop()
        stop(worker)
        receivers.shutdown()
    return results


def settle(app, redis_url: str) -> None:
    """What the run before left to the worker (events to fan out, deliveries to make) is
    given up, and the queues drained, so that no variant pays for the one before it."""
    from sqlalchemy import update

    from app.extensions import db
    from app.models import OutboxEvent, WebhookDelivery
    from bench import booking

    with app.app_context():
        db.session.execute(update(OutboxEvent).where(OutboxEvent.webhooks_pending.is_(True))
                           .values(webhooks_pending=False))
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.status == "pending")
                           .values(status="cancelled"))
        db.session.commit()
    import redis

    client = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    while time.monotonic() - started < 300 and any(
            client.llen(f"rq:queue:{queue}") for queue in ("webhooks", "webhooks_slow")):
        time.sleep(0.2)
    client.close()
    booking.wait_for_jobs(redis_url)


def stop(process: subprocess.Popen) -> None:
    """Ask a worker to stop after its job in hand; kill it if that takes long."""
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def main() -> int:
    args = parse_args()
    instance = common.prepare_environment()
    settings = {"WEBHOOK_ALLOWED_HOSTS": ("127.0.0.1",), "WEBHOOK_READ_TIMEOUT": 10.0,
                "WEBHOOK_DISABLE_AFTER_FAILURES": 10**9, "WEBHOOK_ENDPOINT_CACHE_SECONDS": 1.0}
    app = common.migrated_app(args.database_url, instance, redis_url=args.redis_url,
                              **settings)
    env = common.server_environment(
        args.database_url, instance, redis_url=args.redis_url,
        WEBHOOK_ALLOWED_HOSTS="127.0.0.1", WEBHOOK_READ_TIMEOUT="10",
        WEBHOOK_DISABLE_AFTER_FAILURES=str(10**9), WEBHOOK_ENDPOINT_CACHE_SECONDS="1")
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()

    print(f"delivery: {args.events:,} events to {args.endpoints} endpoints "
          f"(1 slow, 1 failing), {args.workers} workers", flush=True)
    delivery = run_delivery(app, env, args)
    print("bookings: webhooks off and on, side by side", flush=True)
    bookings = run_bookings(app, env, args)

    rate = delivery["delivered"] / delivery["seconds"] if delivery["seconds"] else 0.0
    rows = [
        ["healthy endpoints", delivery["healthy_endpoints"]],
        ["deliveries to them", f"{delivery['delivered']:,} of {delivery['expected']:,}"
         + ("" if delivery["finished"] else " (timed out)")],
        ["time (s)", round(delivery["seconds"], 1)],
        ["deliveries/s to healthy endpoints", round(rate, 1)],
        ["requests to the slow one meanwhile", delivery["slow_received"]],
        ["requests to the failing one meanwhile", delivery["failing_received"]],
    ]
    print()
    print(common.format_table(["delivery", "value"], rows))
    def median_of(label, attribute):
        return statistics.median(getattr(stats, attribute) for name, stats in bookings
                                 if name == label)

    labels = ("webhooks off", "webhooks on", "off, worker paused", "on, worker paused")
    rps = [median_of(label, "rps") for label in labels]
    p50 = [median_of(label, "p50") for label in labels]
    print()
    print(common.format_table(
        ["bookings (medians)", *labels, "on/off", "on/off paused"],
        [["bookings/s", *rps, rps[1] / rps[0], rps[3] / rps[2]],
         ["p50 ms", *p50, p50[1] / p50[0], p50[3] / p50[2]]]))
    print(f"\nwebhooks on: {100 * (1 - rps[1] / rps[0]):.1f} % fewer bookings per second "
          f"with the worker delivering beside; {100 * (1 - rps[3] / rps[2]):.1f} % in the "
          f"request alone, the worker paused in both (the bound: at most 5 %)")
    return 0


if __name__ == "__main__":
    common.run_main(main)
