"""Benchmark of payment webhook handling through gunicorn on PostgreSQL with Redis:
Stripe and PayPal side by side in one run.

For each gateway named in ``--gateways`` (default ``stripe,paypal``):

1. Ingestion: ``--senders`` threads POST signed events (each a new event id) to the
   gateway's webhook endpoint for ``--duration`` seconds, with no payments worker running:
   what is measured is verify + store + enqueue. Afterwards the inbox must hold exactly one
   row per accepted event.

   - Stripe: ``payment_intent.succeeded`` to ``/api/v1/webhooks/stripe``, signed with the
     webhook secret; the app checks the HMAC itself.
   - PayPal: ``PAYMENT.CAPTURE.COMPLETED`` to ``/api/v1/webhooks/paypal``, signed the way
     the local PayPal server (``devservices/paypal_server.py``) signs its deliveries
     (SHA256withRSA over transmission id, time, webhook id and the body's CRC32). The app
     has each one verified by the local server's ``verify-webhook-signature`` endpoint,
     the call production makes to PayPal for every delivery, so every PayPal event costs
     one HTTP round trip more than a Stripe one (an OAuth token is fetched once per
     gunicorn worker and reused). The senders sign in this process (RSA, about a
     millisecond each), as they compute Stripe's HMAC.
2. End to end: with an RQ worker on the ``payments`` and ``events`` queues, ``--bookings``
   pending bookings per gateway are paid at the local gateway server, then their webhook
   is posted; the time from the POST to the booking reading ``confirmed`` in the database
   is measured. One more booking per gateway goes first, untimed, so that neither pays
   for the worker loading its libraries.

   - Stripe: the PaymentIntent is confirmed with a test card at the local Stripe server;
     ``payment_intent.succeeded`` is posted; the job re-reads the intent before it
     confirms.
   - PayPal: the payment is started with ``method: paypal`` (the order is created at the
     local PayPal server) and the order approved as the buyer would on the approval page.
     ``--paypal-event capture`` (default): the order is captured at the server and
     ``PAYMENT.CAPTURE.COMPLETED`` posted; the job re-reads the order before it
     confirms, like Stripe's. ``--paypal-event approved``: ``CHECKOUT.ORDER.APPROVED`` is
     posted for the uncaptured order (the customer never came back); the job captures it,
     one call more, then confirms.

One table has a row per gateway and measure, with the PayPal/Stripe ratios of the same
run. Both local servers run in this process, on threads, and only answer the app's calls.

    .venv/bin/python bench/payments.py [--duration 20] [--senders 16] [--bookings 100] \\
        [--gateways stripe,paypal] [--paypal-event capture|approved]

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
PAYPAL_PATH = "/api/v1/webhooks/paypal"
PAYPAL_WEBHOOK_ID = "WH-BENCH"
GATEWAYS = ("stripe", "paypal")
LABELS = {"stripe": "Stripe", "paypal": "PayPal"}
WARMUP = 1  # untimed end-to-end bookings per gateway before the timed ones


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=common.default_database_url().replace(
        "bookwell_bench", "bookwell_bench_payments"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--bookings", type=int, default=100, help="per gateway")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-fork", action="store_true",
                        help="run the RQ worker with --no-fork (jobs in its own process)")
    parser.add_argument("--gateways", default=",".join(GATEWAYS),
                        help="which to measure, in this order (default: stripe,paypal)")
    parser.add_argument("--paypal-event", choices=("capture", "approved"), default="capture",
                        help="the PayPal webhook of the end-to-end run: "
                             "PAYMENT.CAPTURE.COMPLETED after a capture at the server, or "
                             "CHECKOUT.ORDER.APPROVED for an order the job captures")
    args = parser.parse_args()
    args.gateways = [name.strip().lower() for name in args.gateways.split(",") if name.strip()]
    unknown = sorted(set(args.gateways) - set(GATEWAYS))
    if unknown or not args.gateways:
        parser.error(f"--gateways: choose from {', '.join(GATEWAYS)} (not {unknown})")
    return args


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


def paypal_signed(paypal_server, event_type: str, resource_type: str, resource: dict
                  ) -> tuple[bytes, dict]:
    """A PayPal event (a new event id) as the local PayPal server delivers it: the body
    serialised its way and the PAYPAL-* headers signed by its key for our webhook id."""
    from devservices.paypal_webhooks import event_body, new_event

    event = new_event(event_type, resource_type, resource, f"bench {event_type}",
                      paypal_server.url)
    body = event_body(event)
    return body, paypal_server.signer.headers(PAYPAL_WEBHOOK_ID, body)


def ingest(port: int, *, senders: int, duration: float) -> common.Stats:
    """Closed loop: each sender posts new signed Stripe events until the time is up."""
    def request_for(n: int, i: int):
        body, header = signed("payment_intent.succeeded",
                              {"id": f"pi_bench_{n}_{i}", "object": "payment_intent",
                               "status": "succeeded", "metadata": {}}, f"evt_bench_{n}_{i}")
        return body, {"Content-Type": "application/json", "Stripe-Signature": header}

    return common.post_for(port, PATH, request_for, clients=senders, duration=duration,
                           ok=lambda s: s == 200)


def ingest_paypal(port: int, paypal_server, *, senders: int, duration: float
                  ) -> common.Stats:
    """Closed loop: each sender posts new signed PayPal capture events (of orders nobody
    has: no worker runs, so only verification and storing are timed)."""
    def request_for(n: int, i: int):
        capture = {"id": f"BENCHCAP{n:04d}{i:07d}", "status": "COMPLETED",
                   "amount": {"currency_code": "EUR", "value": "42.00"},
                   "supplementary_data": {"related_ids": {"order_id": f"BENCH{n}X{i}"}}}
        return paypal_signed(paypal_server, "PAYMENT.CAPTURE.COMPLETED", "capture", capture)

    return common.post_for(port, PAYPAL_PATH, request_for, clients=senders,
                           duration=duration, ok=lambda s: s == 200)


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


def wait_confirmed(app_session, reference: str, t0: float, stats: common.Stats) -> bool:
    """Poll the booking until it reads confirmed (latency noted from ``t0``) or 30 s pass."""
    from sqlalchemy import text

    deadline = t0 + 30
    while time.perf_counter() < deadline:
        status = app_session.scalar(text(
            "SELECT status FROM booking WHERE reference = :r"), {"r": reference})
        app_session.rollback()
        if status == "confirmed":
            stats.latencies_ms.append((time.perf_counter() - t0) * 1000)
            return True
        time.sleep(0.002)
    return False


def post_webhook(conn: http.client.HTTPConnection, path: str, body, headers: dict,
                 stats: common.Stats) -> None:
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    stats.note_status(response.status, lambda s: s == 200)


def end_to_end(app, port: int, references: list[str], customer_id: int, server_url: str,
               *, warmup: int = 0) -> tuple[common.Stats, int]:
    """Pay each booking at the gateway, post its webhook, wait until it is confirmed. The
    first ``warmup`` bookings go the same way untimed."""
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
            payment_id = payments.start_payment(reference, customer_id=customer_id,
                                                method="card").payment_id
            intent_id = db.session.scalar(text(
                "SELECT provider_reference FROM payment WHERE id = :id"), {"id": payment_id})
            db.session.rollback()
            client.v1.payment_intents.update(intent_id, params={"payment_method": "pm_card_visa"})
            intent = client.v1.payment_intents.confirm(intent_id).to_dict()
            body, header = signed("payment_intent.succeeded", intent, f"evt_e2e_{n}")
            timed = stats if n >= warmup else common.Stats()
            t0 = time.perf_counter()
            post_webhook(conn, PATH, body, {"Content-Type": "application/json",
                                            "Stripe-Signature": header}, timed)
            if not wait_confirmed(db.session, reference, t0, timed):
                unconfirmed += 1
            if n + 1 == warmup:
                started = time.perf_counter()
    conn.close()
    stats.wall_s = time.perf_counter() - started
    return stats, unconfirmed


def end_to_end_paypal(app, port: int, references: list[str], customer_id: int,
                      paypal_server, *, event: str, warmup: int = 0
                      ) -> tuple[common.Stats, int]:
    """Start each booking's payment with PayPal (the order made at the local server),
    approve the order as the buyer, capture it there (``event == "capture"``), post the
    webhook, wait until the booking is confirmed. The first ``warmup`` go untimed."""
    from sqlalchemy import text

    from app.extensions import db
    from app.services import payments

    stats, unconfirmed = common.Stats(), 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    with app.app_context():
        gateway = payments.paypal_gateway()
        for n, reference in enumerate(references):
            payment_id = payments.start_payment(reference, customer_id=customer_id,
                                                method="paypal").payment_id
            order_id = db.session.scalar(text(
                "SELECT provider_reference FROM payment WHERE id = :id"), {"id": payment_id})
            db.session.rollback()
            order = paypal_server.approve(order_id)
            if event == "capture":
                # Captured at PayPal without telling the app: only the webhook does.
                gateway.capture(order_id, idempotency_key=f"bench-capture-{n}-{order_id}")
                capture_id = paypal_server.ledger.orders[order_id].capture_id
                body, headers = paypal_signed(
                    paypal_server, "PAYMENT.CAPTURE.COMPLETED", "capture",
                    paypal_server.ledger.capture_json(paypal_server.ledger.captures[capture_id]))
            else:
                body, headers = paypal_signed(paypal_server, "CHECKOUT.ORDER.APPROVED",
                                              "checkout-order", order)
            timed = stats if n >= warmup else common.Stats()
            t0 = time.perf_counter()
            post_webhook(conn, PAYPAL_PATH, body, headers, timed)
            if not wait_confirmed(db.session, reference, t0, timed):
                unconfirmed += 1
            if n + 1 == warmup:
                started = time.perf_counter()
    conn.close()
    stats.wall_s = time.perf_counter() - started
    return stats, unconfirmed


def rq_worker(env: dict, *, fork: bool) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "bookwell", "worker",
                             "--queues", "payments,events"] + ([] if fork else ["--no-fork"]),
                            cwd=common.REPO_ROOT,
                            env={**env, "FLASK_APP": "wsgi"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def inbox_rows(app, gateway: str) -> int:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        count = db.session.scalar(text("SELECT count(*) FROM payment_event WHERE gateway = :g"),
                                  {"g": gateway})
        db.session.rollback()
        return count


def ratio(paypal: float, stripe: float) -> str:
    if not (paypal == paypal and stripe == stripe) or not stripe:
        return "-"
    return f"{paypal / stripe:.2f}"


def main() -> int:
    args = parse_args()
    instance = common.prepare_environment()
    from devservices.paypal_server import CLIENT_ID, CLIENT_SECRET, LocalPayPal
    from devservices.stripe_server import LocalStripe

    stripe_server = LocalStripe().start()
    # No webhook URL: the server sends nothing by itself; every delivery is the bench's.
    paypal_server = LocalPayPal().start()
    gateway_settings = {"STRIPE_SECRET_KEY": "sk_test_local",
                        "STRIPE_PUBLISHABLE_KEY": "pk_test_local",
                        "STRIPE_API_BASE": stripe_server.url,
                        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                        "PAYPAL_CLIENT_ID": CLIENT_ID, "PAYPAL_CLIENT_SECRET": CLIENT_SECRET,
                        "PAYPAL_API_BASE": paypal_server.url,
                        "PAYPAL_WEBHOOK_ID": PAYPAL_WEBHOOK_ID}
    app = common.migrated_app(args.database_url, instance, redis_url=args.redis_url,
                              **gateway_settings)
    env = common.server_environment(args.database_url, instance, redis_url=args.redis_url,
                                    **gateway_settings)
    reset(app, args.redis_url)

    server = common.GunicornServer(env=env, workers=args.workers)
    server.start()
    sampler = common.RssSampler(server.worker_pids)
    sampler.mark_start()
    ingestion, stored, e2e, unconfirmed = {}, {}, {}, {}
    def ingest_with(name: str, duration: float) -> common.Stats:
        if name == "stripe":
            return ingest(server.port, senders=args.senders, duration=duration)
        return ingest_paypal(server.port, paypal_server, senders=args.senders,
                             duration=duration)

    try:
        # Untimed, every endpoint once warm (each worker's first requests load code and
        # open connections; PayPal's fetch the OAuth token): the first gateway measured
        # would otherwise pay for both.
        for name in args.gateways:
            ingest_with(name, min(1.0, args.duration))
        for name in args.gateways:
            reset(app, args.redis_url)
            ingestion[name] = ingest_with(name, args.duration)
            stored[name] = inbox_rows(app, name)
            stats = ingestion[name]
            print(f"{LABELS[name]} ingestion: {stats.rps:.1f} events/s accepted, "
                  f"p50 {stats.p50:.1f} ms, p99 {stats.p99:.1f} ms, statuses {stats.statuses}, "
                  f"{stored[name]} stored for {stats.statuses.get(200, 0)} accepted",
                  flush=True)

        reset(app, args.redis_url)  # the ingestion events are nobody's payments
        # One untimed booking per gateway first: the worker's first job of each kind loads
        # what it needs (the gateway's SDK, the receipt's PDF libraries) once.
        per_gateway = args.bookings + WARMUP
        references, customer_id = pending_bookings(app, per_gateway * len(args.gateways))
        worker = rq_worker(env, fork=not args.no_fork)
        time.sleep(3)
        worker_start = common.rss_kb(worker.pid)
        try:
            for i, name in enumerate(args.gateways):
                mine = references[i * per_gateway:(i + 1) * per_gateway]
                if name == "stripe":
                    e2e[name], unconfirmed[name] = end_to_end(
                        app, server.port, mine, customer_id, stripe_server.url,
                        warmup=WARMUP)
                else:
                    e2e[name], unconfirmed[name] = end_to_end_paypal(
                        app, server.port, mine, customer_id, paypal_server,
                        event=args.paypal_event, warmup=WARMUP)
                print(f"{LABELS[name]} end to end: {e2e[name].count} confirmed, "
                      f"p50 {e2e[name].p50:.1f} ms, {unconfirmed[name]} unconfirmed",
                      flush=True)
        finally:
            worker_end = common.rss_kb(worker.pid)
            worker.terminate()
            worker.wait(30)
    finally:
        sampler.mark_end()
        server.stop()
        stripe_server.stop()
        paypal_server.stop()

    worker_note = ", --no-fork" if args.no_fork else ""
    e2e_event = {"stripe": "payment_intent.succeeded",
                 "paypal": {"capture": "PAYMENT.CAPTURE.COMPLETED",
                            "approved": "CHECKOUT.ORDER.APPROVED"}[args.paypal_event]}
    rows, both = [], set(args.gateways) == set(GATEWAYS)
    for results in (ingestion, e2e):
        for name in args.gateways:
            stats = results[name]
            if results is ingestion:
                measure = (f"{LABELS[name]}: ingestion ({args.senders} senders, "
                           f"{args.duration:g} s)")
                errors = stats.errors
            else:
                measure = (f"{LABELS[name]}: webhook → booking confirmed ({e2e_event[name]}, "
                           f"RQ worker{worker_note})")
                errors = stats.errors + unconfirmed[name]
            row = [measure, stats.count, stats.rps, stats.p50, stats.percentile(95),
                   stats.p99, max(stats.latencies_ms, default=float("nan")), errors]
            if both:
                compared = name == "paypal"
                row += [ratio(stats.rps, results["stripe"].rps) if compared else "",
                        ratio(stats.p50, results["stripe"].p50) if compared else ""]
            rows.append(row)
    print()
    print(f"Payment webhooks, gunicorn --workers {args.workers}, PostgreSQL + Redis, "
          f"{os.cpu_count()} CPUs, load average {common.load_average():.2f}")
    print(common.format_table(
        ["measure", "count", "per second", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"]
        + (["PayPal/Stripe per s", "PayPal/Stripe p50"] if both else []), rows,
        markdown=True))
    for name in args.gateways:
        accepted = ingestion[name].statuses.get(200, 0)
        print(f"{LABELS[name]} inbox rows stored: {stored[name]} for {accepted} accepted "
              f"events ({'ok' if stored[name] == accepted else 'MISMATCH'})")
    for pid, record in sorted(sampler.records.items()):
        print(f"gunicorn worker {pid}: {record.start_kb / 1024:.0f} MB at start, "
              f"{record.max_kb / 1024:.0f} MB max")
    print(f"RQ worker: {(worker_start or 0) / 1024:.0f} MB at start, "
          f"{(worker_end or 0) / 1024:.0f} MB at end")
    consistent = all(stored[name] == ingestion[name].statuses.get(200, 0)
                     for name in args.gateways)
    return 0 if consistent and not any(unconfirmed.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
