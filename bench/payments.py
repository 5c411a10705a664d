"""Benchmark of Stripe webhook handling through gunicorn on PostgreSQL with Redis.

1. Ingestion: ``--senders`` threads POST signed ``payment_intent.succeeded`` events (each
   a new event id) to ``/api/v1/webhooks/stripe`` for ``--duration`` seconds, with no
   payments worker running: what is measured is verify + store + enqueue. Afterwards the
   inbox must hold exactly one row per accepted event.
2. End to end: with an RQ worker on the ``payments`` and ``events`` queues and a local
   Stripe-compatible server, ``--bookings`` pending bookings are paid at the gateway, then
   their webhook is posted; the time from the POST to the booking reading ``confirmed`` in
   the database is measured (the worker re-reads each intent from the gateway first).

    .venv/bin/python bench/payments.py [--duration 20] [--senders 16] [--bookings 100]

Talks to 127.0.0.1 only. Needs PostgreSQL (BENCH_DATABASE_URL) and Redis (--redis-url).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

WEBHOOK_SECRET = "whsec_bench_secret"
PATH = "/api/v1/webhooks/stripe"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=common.default_database_url().replace(
        "bookwell_bench", "bookwell_bench_payments"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--bookings", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-fork", action="store_true",
                        help="run the RQ worker with --no-fork (jobs in its own process)")
    return parser.parse_args()


def reset(app, redis_url: str) -> None:
    from redis import Redis
    from sqlalchemy import text

    from app.extensions import db
    from app.services.roles import sync_roles

    with app.app_context():
        sync_roles(app.appbuilder)
        db.session.execute(text(
            "TRUNCATE payment_event, refund, payment, booking, booking_history, attribution, "
            "outbox_event, consumed_event, idempotency_record, audit_log, slot, variant, "
            "offering, provider RESTART IDENTITY CASCADE"))
        db.session.commit()
    Redis.from_url(redis_url).flushdb()


def signed(event_type: str, obj: dict, event_id: str) -> tuple[str, str]:
    import stripe

    body = json.dumps({"id": event_id, "object": "event", "type": event_type,
                       "created": int(time.time()), "data": {"object": obj}})
    return body, stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)


def ingest(port: int, *, senders: int, duration: float) -> common.Stats:
    """Closed loop: each sender posts new signed events until the time is up."""
    def request_for(n: int, i: int):
        body, header = signed("payment_intent.succeeded",
                              {"id": f"pi_bench_{n}_{i}", "object": "payment_intent",
                               "status": "succeeded", "metadata": {}}, f"evt_bench_{n}_{i}")
        return body, {"Content-Type": "application/json", "Stripe-Signature": header}

    return common.post_for(port, PATH, request_for, clients=senders, duration=duration,
                           ok=lambda s: s == 200)


def pending_bookings(app, count: int) -> tuple[list[str], int]:
    """A provider, a paid service with one large slot, a customer and ``count`` bookings."""
    from datetime import timedelta

    from app.extensions import db
    from app.models import Slot
    from app.models.types import utcnow
    from app.services import bookings

    with app.app_context():
        provider_id, offering_id = common.bench_service(
            slug="bench-pay", name="Bench Payments", offering_name="Paid class",
            price_minor=4200)
        start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
        slot = Slot(provider_id=provider_id, offering_id=offering_id, starts_at=start,
                    ends_at=start + timedelta(hours=1), capacity=count + 10, booked=0)
        db.session.add(slot)
        customer = common.bench_customer("bench-payer@example.com", last_name="Payer")
        db.session.commit()
        references = [bookings.place_booking(customer_id=customer.id, offering_id=offering_id,
                                             slot_id=slot.id).reference
                      for _ in range(count)]
        return references, customer.id


def end_to_end(app, port: int, references: list[str], customer_id: int, server_url: str
               ) -> tuple[common.Stats, int]:
    """Pay each booking at the gateway, post its webhook, wait until it is confirmed."""
    import stripe
    from sqlalchemy import text

    from app.extensions import db
    from app.services import payments

    client = stripe.StripeClient("sk_test_local", base_addresses={"api": server_url},
                                 max_network_retries=0)
    stats, unconfirmed = common.Stats(), 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    with app.app_context():
        for n, reference in enumerate(references):
            payment_id = payments.start_payment(reference, customer_id=customer_id).payment_id
            intent_id = db.session.scalar(text(
                "SELECT provider_reference FROM payment WHERE id = :id"), {"id": payment_id})
            db.session.rollback()
            client.v1.payment_intents.update(intent_id, params={"payment_method": "pm_card_visa"})
            intent = client.v1.payment_intents.confirm(intent_id).to_dict()
            body, header = signed("payment_intent.succeeded", intent, f"evt_e2e_{n}")
            t0 = time.perf_counter()
            conn.request("POST", PATH, body=body, headers={
                "Content-Type": "application/json", "Stripe-Signature": header})
            response = conn.getresponse()
            response.read()
            stats.note_status(response.status, lambda s: s == 200)
            deadline = t0 + 30
            while time.perf_counter() < deadline:
                status = db.session.scalar(text(
                    "SELECT status FROM booking WHERE reference = :r"), {"r": reference})
                db.session.rollback()
                if status == "confirmed":
                    break
                time.sleep(0.002)
            else:
                unconfirmed += 1
                continue
            stats.latencies_ms.append((time.perf_counter() - t0) * 1000)
    conn.close()
    stats.wall_s = time.perf_counter() - started
    return stats, unconfirmed


def rq_worker(env: dict, *, fork: bool) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "bookwell", "worker",
                             "--queues", "payments,events"] + ([] if fork else ["--no-fork"]),
                            cwd=common.REPO_ROOT,
                            env={**env, "FLASK_APP": "wsgi"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def main() -> int:
    args = parse_args()
    instance = common.prepare_environment()
    from devservices.stripe_server import LocalStripe

    stripe_server = LocalStripe().start()
    stripe_settings = {"STRIPE_SECRET_KEY": "sk_test_local",
                       "STRIPE_PUBLISHABLE_KEY": "pk_test_local",
                       "STRIPE_API_BASE": stripe_server.url,
                       "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
    app = common.migrated_app(args.database_url, instance, redis_url=args.redis_url,
                              **stripe_settings)
    env = common.server_environment(args.database_url, instance, redis_url=args.redis_url,
                                    JWT_SECRET_KEY=os.environ["JWT_SECRET_KEY"],
                                    SECRET_KEY=os.environ["SECRET_KEY"], **stripe_settings)
    reset(app, args.redis_url)

    server = common.GunicornServer(env=env, workers=args.workers)
    server.start()
    sampler = common.RssSampler(server.worker_pids)
    sampler.mark_start()
    try:
        ingestion = ingest(server.port, senders=args.senders, duration=args.duration)
        from sqlalchemy import text

        from app.extensions import db
        with app.app_context():
            stored = db.session.scalar(text("SELECT count(*) FROM payment_event"))
        accepted = ingestion.statuses.get(200, 0)
        print(f"ingestion: {ingestion.rps:.1f} events/s accepted, p50 {ingestion.p50:.1f} ms, "
              f"p99 {ingestion.p99:.1f} ms, statuses {ingestion.statuses}, "
              f"{stored} stored for {accepted} accepted", flush=True)

        reset(app, args.redis_url)  # the ingestion events are nobody's payments
        references, customer_id = pending_bookings(app, args.bookings)
        worker = rq_worker(env, fork=not args.no_fork)
        time.sleep(3)
        worker_start = common.rss_kb(worker.pid)
        try:
            e2e, unconfirmed = end_to_end(app, server.port, references, customer_id,
                                          stripe_server.url)
        finally:
            worker_end = common.rss_kb(worker.pid)
            worker.terminate()
            worker.wait(30)
    finally:
        sampler.mark_end()
        server.stop()
        stripe_server.stop()

    print()
    print(f"Stripe webhooks, gunicorn --workers {args.workers}, PostgreSQL + Redis, "
          f"{os.cpu_count()} CPUs")
    print(common.format_table(
        ["measure", "count", "per second", "p50 ms", "p99 ms", "errors"],
        [[f"ingestion ({args.senders} senders, {args.duration:.0f} s)", ingestion.count,
          ingestion.rps, ingestion.p50, ingestion.p99, ingestion.errors],
         [f"webhook → booking confirmed (RQ worker{', --no-fork' if args.no_fork else ''})",
          e2e.count, e2e.rps, e2e.p50, e2e.p99,
          e2e.errors + unconfirmed]], markdown=True))
    print(f"inbox rows stored: {stored} for {accepted} accepted events "
          f"({'ok' if stored == accepted else 'MISMATCH'})")
    for pid, record in sorted(sampler.records.items()):
        print(f"gunicorn worker {pid}: {record.start_kb / 1024:.0f} MB at start, "
              f"{record.max_kb / 1024:.0f} MB max")
    print(f"RQ worker: {(worker_start or 0) / 1024:.0f} MB at start, "
          f"{(worker_end or 0) / 1024:.0f} MB at end")
    return 0 if stored == accepted and not unconfirmed else 1


if __name__ == "__main__":
    sys.exit(main())
