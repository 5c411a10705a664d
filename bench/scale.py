"""Benchmark of running at scale, one section per question, each printing its own table.

Sections (``--only`` picks some; all by default):

- ``metrics``: what the Prometheus metrics cost a booking. ``POST /api/v1/bookings``
  through two gunicorn servers on the same data (the low-contention shape of
  ``bench/booking.py``: ``--clients`` clients for ``--duration`` seconds), one with
  metrics on (multiprocess mode, a fresh ``PROMETHEUS_MULTIPROC_DIR``), one with
  ``METRICS_ENABLED=false``; they take turns ``--rounds`` times in one run (in the
  other order every second round), so each comparison is of runs seconds apart. The table gives the medians and the on/off ratio
  (the issue's bound: under 5 % slower), and checks that the "on" server's
  ``/metrics`` counted exactly the bookings it placed.
- ``workers``: messages to a slow SMTP server drained by more RQ workers. An SMTP server
  in this process (``bench/emails.py``'s, aiosmtpd) takes ``--smtp-delay`` seconds (0.1)
  per message and counts them; other connections go on meanwhile, as a relay's would.
  For each of ``--worker-counts`` (1 2 4 8): the tables emptied and Redis flushed (no job
  or worker left from the run before), ``--messages`` booking-confirmation messages (400)
  rendered into rows as the consumers do, that many ``flask bookwell worker --queues
  notifications`` processes started and waited for until each has registered with RQ
  (their start-up is not timed), one message per worker sent untimed (its first job
  opens its database connection and loads the mail code), then the send jobs enqueued;
  timed from the enqueue to the last message the server accepted. The workers run
  ``--no-fork``, as deployed for this queue (compose.yaml, docs/deploy.md): a fork and
  new database connections per job would be most of a small job's CPU, taken from the
  same cores; ``--worker-fork`` measures a fork per job instead. The table gives messages per second and the ratio to
  the first count; the issue's bound: 4 workers at least 3.2× one.
- ``web``: one gunicorn instance or two (separate ports, ``--web-workers`` each, the
  same data) on ``POST /api/v1/bookings``, as ``metrics`` drives it (``--clients``,
  ``--duration``, ``--rounds`` in turns, the other order every second round). With two,
  each client keeps a connection to both and sends its requests to them in turn. Both
  instances serve a few untimed seconds first. The table gives the medians and the
  two/one ratio.
- ``flash``: a flash sale. ``--customers`` customers (5,000, inserted in one statement,
  each with an access token) try to book one time of ``--places`` places (500) of a paid
  class, each at a moment drawn at random within ``--window`` seconds (60), served by
  ``--flash-clients`` threads (100) dealt to ``--flash-processes`` processes (4; the
  threads of one interpreter wait for each other, and that wait would be timed as the
  server's), each customer on a connection of its own. A placed
  booking is paid as the storefront does: ``POST .../payment`` (the app creates the
  PaymentIntent at the local Stripe server, ``devservices/stripe_server.py``, in a
  process of its own), then the intent confirmed at that server with the test card ``pm_card_visa``,
  as Stripe.js does in the browser. The server posts the signed
  ``payment_intent.succeeded`` to the app (about 1 s later); RQ workers as compose.yaml
  runs them (``--flash-workers``, 1, on payments and events, in process, or a fork per
  job with ``--payments-fork``; ``--flash-mail-workers``, 1, on notifications,
  ``--no-fork``; with ``--workers-after-sale`` they are stopped during the sale and let go
  after it, as if on cores of their own) confirm the booking, issue and render the receipt and send the
  confirmation and receipt emails to an SMTP server here that counts them by recipient.
  A worker that forks per job loads the PDF library, its fonts and stripe-python's
  lazily loaded parts before forking (``jobs/worker.py``), so no job loads them again.
  Afterwards (until no job is left
  and every email has come, or nothing moved for 15 s, at most ``--settle-timeout``
  seconds) the database is checked: every request answered and none 5xx, no more places
  held or confirmed than the time has, booking p99 under 500 ms, and for every paid
  booking: confirmed, exactly one receipt (its PDF stored), exactly one confirmation and
  one receipt email, both sent, and exactly those two messages at the SMTP server for its
  customer. Prints the refusals by error code (``booking.slot_full``, or ``booking.busy``
  for a lock wait past ``DB_LOCK_TIMEOUT_MS``), the booking p99 before and after the last
  place went, the time from the last payment to the last email and from each payment to
  its customer's last email, and the CPU seconds of gunicorn, the RQ workers (with their
  forked jobs), PostgreSQL, the Stripe stand-in, the clients' processes and this process
  meanwhile: on a small machine the workers' backlog competes with the requests for the
  same cores.

A new section is a function ``run_<name>(app, env, args) -> list[str]`` (the lines it
prints at the end) added to ``SECTIONS``, with its options in ``parse_args``.

    .venv/bin/python bench/scale.py [--only metrics workers web flash]
        [--duration 20] [--clients 16] [--rounds 3] [--web-workers 2]
        [--messages 400] [--smtp-delay 0.1] [--worker-counts 1 2 4 8] [--worker-fork]
        [--customers 5000] [--places 500] [--window 60] [--flash-clients 100]
        [--flash-processes 4] [--flash-workers 1] [--flash-mail-workers 1]
        [--payments-fork]
        [--workers-after-sale]
        [--settle-timeout 1800]

Talks to 127.0.0.1 only. Needs PostgreSQL (BENCH_DATABASE_URL) and Redis (--redis-url).
Check it works small: ``--only metrics --duration 3 --rounds 1``, ``--only workers
--messages 40``, ``--only web --duration 3 --rounds 1``, ``--only flash --customers 300
--places 30 --window 10``; full runs on a quiet machine.
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

METRICS_TOKEN = "bench-scrape-token"
API_KEY = "sk_test_local"  # the local Stripe server takes any sk_ key


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--database-url", default=common.default_database_url().replace(
        "bookwell_bench", "bookwell_bench_scale"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--duration", type=float, default=20.0, help="per booking run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=2)
    workers = parser.add_argument_group("workers")
    workers.add_argument("--messages", type=int, default=400, help="per worker count")
    workers.add_argument("--smtp-delay", type=float, default=0.1,
                         help="seconds the SMTP server takes per message")
    workers.add_argument("--worker-counts", type=int, nargs="+", default=[1, 2, 4, 8])
    workers.add_argument("--worker-fork", action="store_true",
                         help="a fork per job (the default: --no-fork, as deployed for the "
                              "notifications queue)")
    flash = parser.add_argument_group("flash")
    flash.add_argument("--customers", type=int, default=5000)
    flash.add_argument("--places", type=int, default=500)
    flash.add_argument("--window", type=float, default=60.0,
                       help="seconds over which the customers arrive")
    flash.add_argument("--flash-clients", type=int, default=100,
                       help="client threads serving the arrivals")
    flash.add_argument("--flash-processes", type=int, default=4,
                       help="load-generating processes the client threads are dealt to")
    flash.add_argument("--flash-workers", type=int, default=1,
                       help=f"RQ workers on {PAYMENT_QUEUES}")
    flash.add_argument("--flash-mail-workers", type=int, default=1,
                       help=f"RQ workers on {MAIL_QUEUES}")
    flash.add_argument("--payments-fork", action="store_true",
                       help=f"the workers on {PAYMENT_QUEUES} fork per job (deployed: "
                            "in process, --no-fork)")
    flash.add_argument("--workers-after-sale", action="store_true",
                       help="the RQ workers stopped (SIGSTOP) during the sale and let go "
                            "after it: the web alone on the cores, as when the workers "
                            "run on machines of their own; the jobs wait in Redis")
    flash.add_argument("--settle-timeout", type=float, default=1800.0,
                       help="longest wait after the sale for the last email")
    return parser.parse_args()


def rq_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "bookwell", "worker",
                             "--queues", "events,notifications,default", "--no-fork"],
                            cwd=common.REPO_ROOT, env={**env, "FLASK_APP": "wsgi"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- metrics: bookings with metrics on and off ----------------------------------------------

def scrape(port: int) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                     headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def bookings_counted(port: int) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(scrape(port)):
        for sample in family.samples:
            if (sample.name == "bookwell_bookings_total"
                    and sample.labels.get("event") == "placed"):
                return sample.value
    return 0.0


def print_round(round_number: int, label: str, stats: common.Stats) -> None:
    print(f"  round {round_number} {label:11} {stats.rps:7.1f} bookings/s "
          f"p50 {stats.p50:6.1f} ms p99 {stats.p99:6.1f} ms "
          f"statuses {stats.statuses}", flush=True)


def median_rows(results: list[tuple[str, common.Stats]], labels: tuple[str, str]
                ) -> list[list]:
    """Bookings/s, p50 and p99: the median of each label's rounds, and second/first."""
    def median_of(label: str, attribute: str) -> float:
        return statistics.median(getattr(stats, attribute) for name, stats in results
                                 if name == label)

    return [[name, *(median_of(label, attribute) for label in labels),
             f"{median_of(labels[1], attribute) / median_of(labels[0], attribute):.2f}"]
            for name, attribute in (("bookings/s", "rps"), ("p50 ms", "p50"),
                                    ("p99 ms", "p99"))]


def run_metrics(app, env: dict, args) -> list[str]:
    from bench import booking

    data = booking.seed(app, booking.SHAPES["low"], customers=max(args.clients, 16))
    slots = data["bookings"]
    directory = tempfile.mkdtemp(prefix="bookwell-bench-metrics-")
    plain = {key: value for key, value in env.items()
             if key not in ("PROMETHEUS_MULTIPROC_DIR", "METRICS_ENABLED", "METRICS_TOKEN")}
    configs = {"metrics off": {**plain, "METRICS_ENABLED": "false"},
               "metrics on": {**plain, "METRICS_ENABLED": "true",
                              "PROMETHEUS_MULTIPROC_DIR": directory,
                              "METRICS_TOKEN": METRICS_TOKEN}}
    worker = rq_worker(configs["metrics off"])
    servers = {label: common.GunicornServer(env=config, workers=args.web_workers)
               for label, config in configs.items()}
    results: list[tuple[str, common.Stats]] = []
    try:
        for server in servers.values():
            server.start()
        for round_number in range(1, args.rounds + 1):
            # Each round in the other order: neither side always runs on a warmer machine.
            order = list(servers.items())[::1 if round_number % 2 else -1]
            for label, server in order:
                booking.wait_for_jobs(args.redis_url)

                def bodies(rng, slots=slots):
                    return {"offering_id": slots["offering"],
                            "slot_id": rng.choice(slots["slots"])}

                stats = booking.drive(server.port, "/api/v1/bookings", bodies,
                                      data["tokens"], clients=args.clients,
                                      duration=args.duration)
                results.append((label, stats))
                print_round(round_number, label, stats)
        placed_on = sum(stats.statuses.get(201, 0) for label, stats in results
                        if label == "metrics on")
        counted = bookings_counted(servers["metrics on"].port)
    finally:
        for server in servers.values():
            server.stop()
        worker.terminate()
        worker.wait(30)

    labels = ("metrics off", "metrics on")
    rows = median_rows(results, labels)
    slower = 100 * (1 - rows[0][2] / rows[0][1])
    return [common.format_table(["bookings (medians)", *labels, "on/off"], rows),
            f"metrics on: {slower:.1f} % fewer bookings per second (the bound: under 5 %); "
            f"/metrics counted {counted:.0f} bookings placed of the {placed_on} answered "
            f"201 by that server" + ("" if counted == placed_on else "  MISMATCH")]


# --- workers: messages to a slow SMTP server, drained by 1, 2, 4 and 8 RQ workers -------------

def wait_registered(redis_url: str, workers: list[subprocess.Popen], timeout: float) -> float:
    """Until every one of ``workers`` has registered with RQ (its app built, listening on
    its queues); returns the seconds waited. A worker that exits stops the benchmark."""
    import redis
    from rq import Worker

    connection = redis.Redis.from_url(redis_url)
    wanted = {worker.pid for worker in workers}
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            if wanted <= {worker.pid for worker in Worker.all(connection=connection)}:
                return time.monotonic() - started
            exited = [worker.returncode for worker in workers if worker.poll() is not None]
            if exited:
                raise common.BenchmarkError(f"an RQ worker exited with {exited[0]} at start")
            time.sleep(0.2)
    finally:
        connection.close()
    raise common.BenchmarkError(f"the RQ workers did not all start in {timeout:.0f} s")


def split_at(items: list, n: int) -> tuple[list, list]:
    return items[:n], items[n:]


def wait_for_count(counter, count: int, timeout: float) -> None:
    """Until the SMTP server has accepted ``count`` messages, or ``timeout`` seconds."""
    deadline = time.perf_counter() + timeout
    while counter.count < count and time.perf_counter() < deadline:
        time.sleep(0.02)


def message_statuses(app) -> dict[str, int]:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        rows = db.session.execute(text(
            "SELECT status, count(*) FROM notification GROUP BY status")).all()
        db.session.remove()
    return dict(rows)


def run_workers(app, env: dict, args) -> list[str]:
    from app.services import notifications
    from bench import emails, webhooks

    smtp, counter, mail = emails.local_smtp(delay=args.smtp_delay)
    worker_env = {**env, **mail}
    rows, rates, incomplete = [], {}, []
    try:
        for count in args.worker_counts:
            # A clean start: the tables emptied, Redis flushed (no jobs, no workers left),
            # then new rows, the app's own booking-confirmation messages.
            warmup, ids = split_at(emails.seed(app, args.redis_url, count + args.messages),
                                   count)
            counter.reset()
            workers = webhooks.rq_workers(worker_env, count, "notifications",
                                          fork=args.worker_fork)
            try:
                # Timed from the moment every worker waits for jobs: their start-up (the
                # app built in each) is no part of draining the queue. So is not each
                # one's first message (its database connection, the mail code loaded):
                # one message per worker first, untimed (idle workers blocked on the
                # queue take one job each).
                ready = wait_registered(args.redis_url, workers, timeout=180)
                with app.app_context():
                    notifications.enqueue_sends(warmup)
                    wait_for_count(counter, len(warmup), timeout=60)
                    counter.reset()
                    started = time.perf_counter()
                    notifications.enqueue_sends(ids)
                wait_for_count(counter, len(ids), 60 + 2 * args.messages * args.smtp_delay)
                finished = counter.last_at or time.perf_counter()
            finally:
                for worker in workers:
                    webhooks.stop(worker)
            seconds = finished - started
            rates[count] = counter.count / seconds if seconds > 0 else float("nan")
            statuses = message_statuses(app)
            rows.append([count, counter.count, seconds, rates[count],
                         f"{rates[count] / rates[args.worker_counts[0]]:.2f}",
                         " ".join(f"{k} {v}" for k, v in sorted(statuses.items()))])
            print(f"  {count} worker(s): {counter.count} of {len(ids)} messages in "
                  f"{seconds:.2f} s, {rates[count]:.1f}/s (started in {ready:.1f} s); "
                  f"rows {statuses}", flush=True)
            if counter.count != len(ids) or statuses.get("sent") != count + len(ids):
                incomplete.append(count)
                print(f"  WARNING: {len(ids)} messages queued, {counter.count} accepted by "
                      f"the SMTP server, rows {statuses}", flush=True)
    finally:
        smtp.stop()
    mode = "a fork per job" if args.worker_fork else "--no-fork"
    lines = [f"{args.messages} messages per run to a local SMTP server taking "
             f"{args.smtp_delay * 1000:.0f} ms per message; RQ workers ({mode}) on the "
             f"notifications queue; seconds from the enqueue (workers already waiting, each "
             f"after one untimed message) to the last message accepted",
             common.format_table(["workers", "messages", "seconds", "messages/s",
                                  f"× {args.worker_counts[0]} worker(s)",
                                  "rows (untimed too)"], rows)]
    if 1 in rates and 4 in rates:
        ratio = rates[4] / rates[1]
        lines.append(f"4 workers: {ratio:.2f}× one (the bound: at least 3.2×): "
                     + ("met" if ratio >= 3.2 else "NOT met"))
    if incomplete:
        lines.append(f"INCOMPLETE: not every message was sent with {incomplete} worker(s)")
    return lines


# --- web: one gunicorn instance or two, the client alternating --------------------------------

def run_web(app, env: dict, args) -> list[str]:
    from bench import booking

    data = booking.seed(app, booking.SHAPES["low"], customers=max(args.clients, 16))
    slots = data["bookings"]
    instance = env["BOOKWELL_INSTANCE_DIR"]
    worker = rq_worker(env)
    servers = [common.GunicornServer(env=env, workers=args.web_workers,
                                     log_path=os.path.join(instance, f"gunicorn-{n}.log"))
               for n in (1, 2)]
    results: list[tuple[str, common.Stats]] = []
    try:
        for server in servers:
            server.start()
        targets = {"1 instance": [servers[0].port],
                   "2 instances": [server.port for server in servers]}

        def bodies(rng):
            return {"offering_id": slots["offering"], "slot_id": rng.choice(slots["slots"])}

        # Untimed, both instances: each worker's first bookings load code and open its
        # database connections, which neither configuration should pay for.
        booking.drive(targets["2 instances"], "/api/v1/bookings", bodies, data["tokens"],
                      clients=args.clients, duration=min(2.0, args.duration))
        for round_number in range(1, args.rounds + 1):
            order = list(targets.items())[::1 if round_number % 2 else -1]
            for label, ports in order:
                booking.wait_for_jobs(args.redis_url)
                stats = booking.drive(ports, "/api/v1/bookings", bodies, data["tokens"],
                                      clients=args.clients, duration=args.duration)
                results.append((label, stats))
                print_round(round_number, label, stats)
    finally:
        for server in servers:
            server.stop()
        worker.terminate()
        worker.wait(30)

    labels = ("1 instance", "2 instances")
    rows = median_rows(results, labels)
    errors = sum(stats.errors for _, stats in results)
    return [f"POST /api/v1/bookings, {args.clients} clients for {args.duration:g} s, "
            f"gunicorn --workers {args.web_workers} per instance, {args.rounds} round(s); "
            f"with two instances each client sends to them in turn; {os.cpu_count()} CPUs",
            common.format_table([f"bookings (medians of {args.rounds})", *labels, "2/1"],
                                rows),
            f"two instances: {rows[0][3]}× the bookings per second of one; "
            f"{errors} answers other than 200/201"]


# --- flash: a flash sale -----------------------------------------------------------------------

# The workers as compose.yaml runs them: payments and events, and the notifications on
# their own, so a burst of mail holds up only mail (both in process, --no-fork).
PAYMENT_QUEUES, MAIL_QUEUES = "payments,events", "notifications"
FLASH_QUEUES = f"{PAYMENT_QUEUES},{MAIL_QUEUES}"
STRIPE_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed"]
TEST_CARD = "pm_card_visa"
BOOKING_P99_BOUND_MS = 500.0


def seed_flash(app, customers: int, places: int) -> dict:
    """A provider selling one paid class: one time (slot) with ``places`` places, and
    ``customers`` customer accounts (inserted in one statement) with access tokens."""
    from datetime import timedelta

    from flask_jwt_extended import create_access_token
    from sqlalchemy import text
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from app.services.roles import CUSTOMER, sync_roles

    with app.app_context():
        sync_roles(app.appbuilder)
        db.session.execute(text(
            "TRUNCATE notification, receipt, receipt_counter, payment_event, refund, payment, "
            "booking, booking_history, attribution, outbox_event, consumed_event, "
            "idempotency_record, audit_log, slot, variant, offering, provider, ab_user "
            "RESTART IDENTITY CASCADE"))
        db.session.commit()
        provider_id, offering_id = common.bench_service(
            slug="bench-flash", name="Bench Flash Sale", offering_name="Flash sale class",
            price_minor=2500)
        # A year ahead, as bench/booking.py seeds: past any slot generation window.
        slot_id = common.bench_slot(provider_id, offering_id, days_ahead=366,
                                    capacity=places)
        role_id = db.session.scalar(text("SELECT id FROM ab_role WHERE name = :name"),
                                    {"name": CUSTOMER})
        db.session.remove()
    with common.raw_connection(app) as conn, conn.cursor() as cur:
        # Customers never sign in with a password here: one hash for all.
        cur.execute("""
            INSERT INTO ab_user (first_name, last_name, username, password, active, email,
                                 locale, timezone, marketing_consent, notify_email,
                                 notify_sms, sms_opted_out, created_on, changed_on)
            SELECT 'Flash', c::text, 'flash' || c || '@bench.example', %(password)s, true,
                   'flash' || c || '@bench.example', 'en', 'UTC', false, true, false, false,
                   now(), now()
            FROM generate_series(1, %(customers)s) AS c RETURNING id""",
                    {"password": generate_password_hash("bench-password"),
                     "customers": customers})
        ids = sorted(row[0] for row in cur.fetchall())
        cur.execute("INSERT INTO ab_user_role (user_id, role_id) SELECT id, %s FROM ab_user "
                    "WHERE id = ANY(%s)", (role_id, ids))
    with app.app_context():
        tokens = [create_access_token(identity=str(account_id),
                                      expires_delta=timedelta(hours=2))
                  for account_id in ids]
    return {"offering": offering_id, "slot": slot_id, "tokens": tokens}


def timed_call(conn: http.client.HTTPConnection, method: str, path: str, body: str,
               headers: dict) -> tuple[float, int, bytes]:
    """(milliseconds, status, body) of one request; no answer at all counts as 599."""
    t0 = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        answer, status = response.read(), response.status
    except (OSError, http.client.HTTPException):
        conn.close()
        answer, status = b"", 599
    return (time.perf_counter() - t0) * 1000, status, answer


def error_code(answer: bytes) -> str:
    """The ``code`` of an API error body (``slot.full``, ``booking.busy``...)."""
    try:
        return str(json.loads(answer).get("code"))
    except (ValueError, AttributeError):
        return "(no JSON body)"


def flash_sale(port: int, data: dict, stripe_url: str, args) -> dict:
    """Every customer comes once, at a moment drawn at random within the window (the
    same draw every run): books a place; when placed, starts paying through the API and
    pays with the test card at the Stripe server, as Stripe.js does in the browser.

    The customers are dealt to ``--flash-processes`` processes, each with its share of
    the ``--flash-clients`` threads: one interpreter's threads would wait for each other,
    and that wait would be timed as the server's. A thread that finds its customer's
    moment past sends at once (the lag is reported). Times are ``time.perf_counter()``,
    one clock for every process of the machine (CLOCK_MONOTONIC on Linux)."""
    import multiprocessing

    tokens = data["tokens"]
    rng = random.Random(2026)
    arrivals = sorted(rng.uniform(0, args.window) for _ in tokens)
    order = list(range(len(tokens)))
    rng.shuffle(order)
    body = json.dumps({"offering_id": data["offering"], "slot_id": data["slot"]})
    processes = max(1, min(args.flash_processes, args.flash_clients))
    context = multiprocessing.get_context("spawn")  # no copy of this process's threads
    ready, go, begin = context.Barrier(processes + 1), context.Event(), context.Value("d")
    results = context.Queue()
    shares = [[(arrivals[k], tokens[order[k]]) for k in range(p, len(tokens), processes)]
              for p in range(processes)]
    threads = [args.flash_clients // processes + (p < args.flash_clients % processes)
               for p in range(processes)]
    children = [context.Process(target=flash_customers, name=f"flash-clients-{p}",
                                args=(port, stripe_url, body, shares[p], threads[p],
                                      ready, go, begin, results))
                for p in range(processes)]
    for child in children:
        child.start()
    try:
        ready.wait(timeout=300)  # every process has imported what it needs
        begin.value = time.perf_counter() + 0.5
        go.set()
        parts = [results.get(timeout=args.window + 600) for _ in children]
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    seen = flash_seen()
    for part, _finished in parts:
        add_seen(seen, part)
    sale = {"bookings": common.Stats(), "payments": common.Stats(), "paid": seen["paid"],
            "payment_errors": seen["errors"], "lag_ms": seen["lag"], "other": seen["other"],
            "at_stripe": common.Stats(latencies_ms=seen["at_stripe"]), "sent": seen["sent"],
            "refusals": seen["refusals"]}
    for key, ok in (("bookings", flash_booked), ("payments", lambda s: s == 201)):
        for ms, status in seen[key]:
            sale[key].latencies_ms.append(ms)
            sale[key].note_status(status, ok)
    sale["seconds"] = max(finished for _part, finished in parts) - begin.value
    for key in ("bookings", "payments"):
        sale[key].wall_s = sale["seconds"]
    return sale


def flash_booked(status: int) -> bool:
    return status in (201, 409)  # placed, or full: both are answers


def flash_seen() -> dict:
    """What clients saw, empty: requests' (ms, status), paid references' times, errors,
    arrival lags, other answers' bodies, Stripe call times, (sent, ms, status), refusals."""
    return {"bookings": [], "payments": [], "paid": {}, "errors": [], "lag": [],
            "other": {}, "at_stripe": [], "sent": [], "refusals": Counter()}


def add_seen(total: dict, part: dict) -> None:
    """Add one thread's (or one process's) :func:`flash_seen` to ``total``."""
    for key, value in part.items():
        if isinstance(value, dict):
            total[key].update(value)  # Counter.update adds the counts
        else:
            total[key].extend(value)


def flash_customers(port: int, stripe_url: str, body: str, share: list[tuple[float, str]],
                    thread_count: int, ready, go, begin, results) -> None:
    """One load-generating process of the flash sale: ``thread_count`` threads serve its
    ``share`` of (arrival second, access token); puts what they saw (:func:`flash_seen`)
    and when the last finished on ``results``."""
    import stripe

    following = itertools.count()
    lock = threading.Lock()
    seen = flash_seen()
    ready.wait()
    go.wait()

    def client(_n: int) -> None:
        gateway = stripe.StripeClient(API_KEY, base_addresses={"api": stripe_url},
                                      max_network_retries=0)
        mine = flash_seen()
        while (k := next(following)) < len(share):
            arrival, token = share[k]
            wait = begin.value + arrival - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            mine["lag"].append(max(0.0, -wait) * 1000)
            try:
                flash_customer(port, body, token, gateway, mine)
            except (ValueError, KeyError, stripe.StripeError) as exc:
                mine["errors"].append(f"{type(exc).__name__}: {exc}")
        with lock:
            add_seen(seen, mine)

    common._run_threads(client, thread_count)
    results.put((seen, time.perf_counter()))


def flash_customer(port: int, body: str, token: str, gateway, mine: dict) -> None:
    """One customer: book; when placed, start paying and pay at Stripe."""
    import stripe

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        sent = time.perf_counter()
        ms, status, answer = timed_call(conn, "POST", "/api/v1/bookings", body, headers)
        mine["bookings"].append((ms, status))
        mine["sent"].append((sent, ms, status))
        if status != 201:
            if not flash_booked(status):
                mine["other"][status] = answer[:200]
            mine["refusals"][error_code(answer)] += 1
            return
        reference = json.loads(answer)["reference"]
        ms, status, answer = timed_call(
            conn, "POST", f"/api/v1/bookings/{reference}/payment", "{}", headers)
        mine["payments"].append((ms, status))
        if status != 201:
            mine["other"][status] = answer[:200]
            return
    finally:
        conn.close()
    intent_id = json.loads(answer)["client_secret"].split("_secret_")[0]
    t0 = time.perf_counter()
    try:
        gateway.v1.payment_intents.update(intent_id, params={"payment_method": TEST_CARD})
        gateway.v1.payment_intents.confirm(intent_id)
    except stripe.StripeError as exc:
        mine["errors"].append(f"{reference}: {type(exc).__name__}: {exc}")
        return
    mine["paid"][reference] = time.perf_counter()
    mine["at_stripe"].append((mine["paid"][reference] - t0) * 1000)


class WebhookLog:
    """The local Stripe server's webhook deliveries, counted from its log lines: answered
    2xx, and not (another status, or no answer)."""

    def __init__(self, lines: list[str]) -> None:
        deliveries = [line for line in lines if " webhook " in line]
        self.delivered = sum("successfully delivered" in line for line in deliveries)
        self.failed = len(deliveries) - self.delivered


def jobs_left(redis_url: str) -> int:
    """Jobs queued, running, or waiting for a retry on the flash sale's queues."""
    import redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    connection = redis.Redis.from_url(redis_url)
    try:
        left = 0
        for name in FLASH_QUEUES.split(","):
            queue = Queue(name, connection=connection)
            left += (queue.count + StartedJobRegistry(queue=queue).count
                     + ScheduledJobRegistry(queue=queue).count)
        return left
    finally:
        connection.close()


def wait_for_aftermath(redis_url: str, counter, expected: int, timeout: float) -> float:
    """Until the SMTP server has the messages expected and no job is left, or nothing has
    moved for 15 s with no job left (a lost webhook would leave a booking pending), or
    ``timeout``; returns the seconds waited. Then 2 s more, for any message sent twice."""
    started = last_change = time.monotonic()
    seen = -1
    while time.monotonic() - started < timeout:
        left = jobs_left(redis_url)
        if counter.count != seen:
            seen, last_change = counter.count, time.monotonic()
        if left == 0 and (counter.count >= expected or time.monotonic() - last_change > 15):
            break
        time.sleep(0.25)
    waited = time.monotonic() - started
    time.sleep(2)
    return waited


def flash_audit(app, slot_id: int) -> dict:
    """What the database holds after the sale: the time's places, and for each booking
    its status, its payment, receipts and emails."""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        capacity, booked = db.session.execute(text(
            "SELECT capacity, booked FROM slot WHERE id = :slot"), {"slot": slot_id}).one()
        rows = db.session.execute(text("""
            SELECT b.reference, b.status, b.quantity, a.email, p.status AS payment,
              (SELECT count(*) FROM receipt r WHERE r.payment_id = p.id
                 AND r.kind = 'receipt') AS receipts,
              (SELECT count(*) FROM receipt r WHERE r.payment_id = p.id
                 AND r.kind = 'receipt' AND r.sha256 IS NOT NULL) AS rendered,
              (SELECT count(*) FROM notification n WHERE n.booking_id = b.id
                 AND n.channel = 'email' AND n.template_key = 'booking_confirmed')
                 AS confirmation_emails,
              (SELECT count(*) FROM notification n WHERE n.booking_id = b.id
                 AND n.channel = 'email' AND n.template_key = 'receipt') AS receipt_emails,
              (SELECT count(*) FROM notification n WHERE n.booking_id = b.id
                 AND n.channel = 'email' AND n.status = 'sent') AS emails_sent,
              (SELECT count(*) FROM notification n WHERE n.booking_id = b.id
                 AND n.channel = 'email') AS emails
            FROM booking b JOIN ab_user a ON a.id = b.customer_id
            LEFT JOIN payment p ON p.booking_id = b.id
            WHERE b.slot_id = :slot"""), {"slot": slot_id}).mappings().all()
        inbox = dict(db.session.execute(text(
            "SELECT type, count(*) FROM payment_event GROUP BY type")).all())
        db.session.remove()
    return {"capacity": capacity, "booked": booked, "bookings": [dict(r) for r in rows],
            "inbox": inbox}


def run_flash(app, env: dict, args) -> list[str]:
    from devservices.stripe_server import LocalStripeProcess

    from bench import emails, payments as payment_bench, webhooks

    data = seed_flash(app, args.customers, args.places)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    # Its own process, as Stripe is elsewhere: not a thread among the clients'.
    stripe_server = LocalStripeProcess(
        os.path.join(env["BOOKWELL_INSTANCE_DIR"], "local-stripe.log")).start()
    smtp, counter, mail = emails.local_smtp()
    flash_env = {**env, **mail, "STRIPE_SECRET_KEY": API_KEY,
                 "STRIPE_PUBLISHABLE_KEY": "pk_test_local",
                 "STRIPE_API_BASE": stripe_server.url,
                 "STRIPE_WEBHOOK_SECRET": payment_bench.WEBHOOK_SECRET}
    server = common.GunicornServer(env=flash_env, workers=args.web_workers)
    workers = (webhooks.rq_workers(flash_env, args.flash_workers, PAYMENT_QUEUES,
                                   fork=args.payments_fork)
               + webhooks.rq_workers(flash_env, args.flash_mail_workers, MAIL_QUEUES))
    try:
        server.start()
        wait_registered(args.redis_url, workers, timeout=180)
        # Stripe posts each event to the app about a second after it happened, signed.
        stripe_server.register_webhook(
            "bench-flash", f"http://127.0.0.1:{server.port}/api/v1/webhooks/stripe",
            payment_bench.WEBHOOK_SECRET, events=STRIPE_EVENTS)
        print(f"  {args.customers:,} customers, {args.places:,} places, "
              f"{args.window:g} s window, {args.flash_clients} client threads", flush=True)
        cpu_before = cpu_by_group(server, workers, stripe_server.pid)
        if args.workers_after_sale:  # the web alone on the cores, as on machines of its own
            for worker in workers:
                os.kill(worker.pid, signal.SIGSTOP)
        try:
            sale = flash_sale(server.port, data, stripe_server.url, args)
        finally:
            if args.workers_after_sale:
                for worker in workers:
                    os.kill(worker.pid, signal.SIGCONT)
        print(f"  sale over in {sale['seconds']:.1f} s: bookings "
              f"{sale['bookings'].statuses}, payments started {sale['payments'].statuses}, "
              f"{len(sale['paid'])} paid at Stripe", flush=True)
        waited = wait_for_aftermath(args.redis_url, counter, 2 * len(sale["paid"]),
                                    args.settle_timeout)
        print(f"  aftermath: waited {waited:.1f} s for the workers; "
              f"{counter.count} emails accepted", flush=True)
        cpu = {group: seconds - cpu_before.get(group, 0.0)
               for group, seconds in cpu_by_group(server, workers, stripe_server.pid).items()}
        audit = flash_audit(app, data["slot"])
    finally:
        stripe_server.register_webhook("bench-flash", "http://127.0.0.1:9/",
                                       payment_bench.WEBHOOK_SECRET,
                                       events=["nothing.matches"])
        server.stop()
        for worker in workers:
            webhooks.stop(worker)
        stripe_server.stop()
        smtp.stop()
    lines = flash_report(sale, audit, counter, WebhookLog(stripe_server.log_lines()), args)
    lines.append("CPU seconds from the sale's start to the last email: " + ", ".join(
        f"{group} {seconds:.1f}" for group, seconds in cpu.items()))
    return lines


def cpu_by_group(server: common.GunicornServer, workers: list[subprocess.Popen],
                 stripe_pid: int) -> dict[str, float]:
    """CPU seconds so far (user + system) of the gunicorn workers, the RQ workers (with
    the jobs they forked and waited for), PostgreSQL, the Stripe stand-in, the clients'
    processes (once ended) and this process (the SMTP server)."""
    ticks = os.sysconf("SC_CLK_TCK")

    def seconds(pid: int, *, children: bool = False) -> float:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            return 0.0
        used = int(fields[11]) + int(fields[12])
        if children:
            used += int(fields[13]) + int(fields[14])
        return used / ticks

    rq = set()
    for worker in workers:
        rq |= {worker.pid, *common.child_pids(worker.pid)}  # a job forked right now
    postgres = sum(seconds(pid) for pid, (name, _) in common.cpu_seconds_by_pid().items()
                   if name == "postgres")
    return {"gunicorn workers": sum(seconds(pid) for pid in server.worker_pids()),
            "RQ workers": sum(seconds(pid, children=pid in {w.pid for w in workers})
                              for pid in rq),
            "PostgreSQL": postgres,
            "Stripe stand-in": seconds(stripe_pid),
            "clients": seconds(os.getpid(), children=True) - seconds(os.getpid()),
            "bench process": seconds(os.getpid())}


def flash_report(sale: dict, audit: dict, counter, webhook_log: WebhookLog, args) -> list[str]:
    bookings, payments = sale["bookings"], sale["payments"]
    rows_by_reference = {row["reference"]: row for row in audit["bookings"]}
    holding = [row for row in audit["bookings"]
               if row["status"] in ("pending", "confirmed", "completed", "no_show")]
    confirmed = [row for row in audit["bookings"] if row["status"] == "confirmed"]
    paid = [rows_by_reference.get(reference) for reference in sale["paid"]]
    missing = sum(row is None for row in paid)
    paid = [row for row in paid if row is not None]

    def each(test) -> int:
        return sum(1 for row in paid if test(row))

    def confirmed_and_paid(row) -> bool:
        return row["status"] == "confirmed" and row["payment"] == "succeeded"

    def one_receipt(row) -> bool:
        return row["receipts"] == 1 and row["rendered"] == 1

    def two_emails_sent(row) -> bool:
        return (row["confirmation_emails"] == 1 and row["receipt_emails"] == 1
                and row["emails"] == 2 and row["emails_sent"] == 2)

    statuses = {}
    for stats in (bookings, payments):
        for status, count in stats.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    server_errors = sum(count for status, count in statuses.items() if 500 <= status < 599)
    unanswered = statuses.get(599, 0)
    attempts = bookings.count
    placed = bookings.statuses.get(201, 0)
    held = sum(row["quantity"] for row in holding)
    oversold = held > audit["capacity"] or audit["booked"] > audit["capacity"] or \
        len(confirmed) > args.places
    last_payment = max(sale["paid"].values(), default=None)
    after_last_payment = (counter.last_at - last_payment
                          if last_payment is not None and counter.last_at else float("nan"))
    per_customer = [counter.by_recipient.get(row["email"], 0) for row in paid]
    # Each paid booking: from its payment at Stripe to its customer's last message.
    to_emails = common.Stats(latencies_ms=[
        1000 * (counter.last_by_recipient[row["email"]] - sale["paid"][row["reference"]])
        for row in paid if row["email"] in counter.last_by_recipient])
    paid_emails = {row["email"] for row in paid}
    strays = sum(count for email, count in counter.by_recipient.items()
                 if email not in paid_emails)
    n = len(paid)
    # The bookings sent before the last place was taken, and after: a place taken means
    # more work (a payment, a webhook, the jobs) than a refusal.
    sold_out = max((sent for sent, _ms, status in sale["sent"] if status == 201), default=0)
    during = common.Stats(latencies_ms=[ms for sent, ms, _ in sale["sent"] if sent <= sold_out])
    after = common.Stats(latencies_ms=[ms for sent, ms, _ in sale["sent"] if sent > sold_out])

    def ok(condition: bool) -> str:
        return "ok" if condition else "FAILED"

    rows = [
        ["booking attempts (customers)", f"{attempts:,} of {args.customers:,}",
         ok(attempts == args.customers)],
        ["answered (no connection error or timeout)", f"{attempts + payments.count - unanswered:,}"
         f" of {attempts + payments.count:,} requests", ok(unanswered == 0)],
        ["5xx answers (bookings and payments)", server_errors, ok(server_errors == 0)],
        ["bookings placed (201) / refused (409) / other",
         f"{placed:,} / {bookings.statuses.get(409, 0):,} / "
         f"{attempts - placed - bookings.statuses.get(409, 0):,}",
         ok(attempts == placed + bookings.statuses.get(409, 0))],
        ["refusals by code", " ".join(f"{code} {count:,}" for code, count
                                      in sale["refusals"].most_common()) or "-", ""],
        ["booking p50 / p99 ms", f"{bookings.p50:.1f} / {bookings.p99:.1f}",
         ok(bookings.p99 < BOOKING_P99_BOUND_MS) + f" (p99 < {BOOKING_P99_BOUND_MS:.0f})"],
        ["places held / confirmed / capacity (slot's count)",
         f"{held:,} / {len(confirmed):,} / {audit['capacity']:,} ({audit['booked']:,})",
         ok(not oversold) + (" none oversold" if not oversold else " OVERSOLD")],
        ["booking p99 ms while places were left / after",
         f"{during.p99:.1f} / {after.p99:.1f}", ""],
        ["payment starts: 201 / p50 / p99 ms",
         f"{payments.statuses.get(201, 0):,} / {payments.p50:.1f} / {payments.p99:.1f}",
         ok(payments.statuses.get(201, 0) == placed)],
        ["paid with the test card at Stripe (errors)",
         f"{n + missing:,} ({len(sale['payment_errors'])})",
         ok(not sale["payment_errors"] and not missing)],
        ["... at Stripe (the browser's calls): p50 / p99 ms",
         f"{sale['at_stripe'].p50:.1f} / {sale['at_stripe'].p99:.1f}", ""],
        ["webhooks posted by Stripe: 2xx / not", f"{webhook_log.delivered:,} / "
         f"{webhook_log.failed:,}",
         ok(webhook_log.failed == 0 and webhook_log.delivered == n + missing)],
        ["paid bookings confirmed (payment succeeded)",
         f"{each(confirmed_and_paid):,} of {n:,}", ok(each(confirmed_and_paid) == n)],
        ["... with exactly one receipt, its PDF stored", f"{each(one_receipt):,}",
         ok(each(one_receipt) == n)],
        ["... with one confirmation and one receipt email, both sent",
         f"{each(two_emails_sent):,}", ok(each(two_emails_sent) == n)],
        ["... whose customer the SMTP server got exactly 2 messages for",
         f"{sum(1 for count in per_customer if count == 2):,}",
         ok(all(count == 2 for count in per_customer))],
        ["messages accepted by the SMTP server (others' addresses)",
         f"{counter.count:,} ({strays})", ok(counter.count == 2 * n and strays == 0)],
        ["seconds from the last payment to the last email", f"{after_last_payment:.1f}", ""],
        ["seconds from a payment to its last email: p50 / p99 / max",
         f"{to_emails.p50 / 1000:.1f} / {to_emails.p99 / 1000:.1f} / "
         f"{max(to_emails.latencies_ms, default=float('nan')) / 1000:.1f}", ""],
        ["arrivals sent late: max / p99 ms",
         f"{max(sale['lag_ms'], default=0):.0f} / "
         f"{common.Stats(latencies_ms=sale['lag_ms']).p99:.0f}", ""],
    ]
    lines = [f"A flash sale: {args.customers:,} customers, {args.places:,} places of one "
             f"time, arrivals at random over {args.window:g} s ({sale['seconds']:.1f} s to the "
             f"last answer), {args.flash_clients} client threads; gunicorn --workers "
             f"{args.web_workers}; RQ workers: {args.flash_workers} on {PAYMENT_QUEUES} "
             f"({'a fork per job' if args.payments_fork else '--no-fork'}), "
             f"{args.flash_mail_workers} on {MAIL_QUEUES} (--no-fork)"
             f"{', stopped during the sale' if args.workers_after_sale else ''}; "
             f"{os.cpu_count()} CPUs",
             common.format_table(["measure", "value", "check"], rows),
             f"payment inbox: {audit['inbox']}",
             "(the local Stripe server posts each webhook about 1 s after the payment: "
             "that second is in the time to the last email)"]
    if sale["other"]:
        lines.append(f"other answers (one body each): {sale['other']}")
    if sale["payment_errors"]:
        lines.append(f"payment errors (first 3): {sale['payment_errors'][:3]}")
    return lines


SECTIONS = {"metrics": run_metrics, "workers": run_workers, "web": run_web,
            "flash": run_flash}


def main() -> int:
    args = parse_args()
    instance = common.prepare_environment()
    app = common.migrated_app(args.database_url, instance, redis_url=args.redis_url)
    env = common.server_environment(args.database_url, instance, redis_url=args.redis_url)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    printed = []
    for name in args.only:
        print(f"{name}:", flush=True)
        started = time.monotonic()
        printed.append((name, SECTIONS[name](app, env, args), time.monotonic() - started))
    for name, lines, seconds in printed:
        print(f"\n{name} ({seconds:.0f} s, load average {common.load_average():.2f})")
        for line in lines:
            print(line)
    return 0


if __name__ == "__main__":
    common.run_main(main)
