"""Console pages at scale: dashboards, calendar week and bookings list at 1,000,000 bookings.

Seeds its own PostgreSQL database (``bookwell_bench_console``: created and migrated here,
reused when it already holds the data) with 100 providers, 100,000 offerings, 1,000,000
slots and 1,000,000 bookings, set-based (INSERT … SELECT over generate_series: minutes,
not hours). Slots and bookings spread over a year around today: past bookings completed,
no-show or cancelled, future ones confirmed, cancelled or waiting for a pay-at-venue
confirmation; each slot's ``booked`` matches its bookings.

Then it signs in as one provider's staff and as an admin and times the pages in-process
with the Flask test client (no HTTP, catalog cache off), in turns, so every page is
measured in the same run under the same conditions. Prints p50/p95/p99 per page.

    .venv/bin/python -m bench.console                 # seed if needed, 300 requests a page
    .venv/bin/python -m bench.console --requests 500 --reseed
    .venv/bin/python -m bench.console --dashboard-cache 0  # every dashboard view adds up

A page is one entry of ``pages()``: add one there. The calendar's week view is measured
when the app has it (``/calendar/week``).
"""
from __future__ import annotations

import argparse
import time

from bench import common

DATABASE = "bookwell_bench_console"
PROVIDERS, OFFERINGS, SLOTS_PER_OFFERING = 100, 100_000, 10
BOOKINGS = OFFERINGS * SLOTS_PER_OFFERING  # one booking per slot
CUSTOMERS = 5_000
STAFF_EMAIL, ADMIN_EMAIL, PASSWORD = ("staff@bench.example", "admin@bench.example",
                                      "bench-password")
ZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo", "UTC")
CURRENCIES = ("EUR", "EUR", "EUR", "USD", "GBP")

# The booking of slot g: its status follows from g and whether the slot is past, so the
# slot's booked places and the booking's status are computed from the same expression.
STATUS_SQL = """CASE WHEN {starts} < now()
    THEN CASE WHEN {g} % 20 = 0 THEN 'cancelled' WHEN {g} % 10 = 1 THEN 'no_show'
              ELSE 'completed' END
    ELSE CASE WHEN {g} % 50 = 7 THEN 'pending' WHEN {g} % 12 = 0 THEN 'cancelled'
              ELSE 'confirmed' END END"""
# Slot j of offering i: a distinct day within ±182 days of today, an hour 08:00-17:00.
STARTS_SQL = """date_trunc('day', now()) + make_interval(
    days => ((({o} * 7 + {j} * 37) % 365) - 182)::int, hours => 8 + (({o} + {j}) % 10)::int)"""

SEED_SQL = [
    ("providers", f"""
INSERT INTO provider (id, name, slug, timezone, currency, contact_email, active,
                      tax_rate_bp, tax_inclusive, created_at, updated_at)
SELECT p, 'Bench studio ' || p, 'bench-studio-' || p,
       (ARRAY{list(ZONES)!r})[1 + p % {len(ZONES)}],
       (ARRAY{list(CURRENCIES)!r})[1 + p % {len(CURRENCIES)}],
       'studio' || p || '@bench.example', true, 0, true, now(), now()
FROM generate_series(1, {PROVIDERS}) AS p"""),
    ("customers", f"""
INSERT INTO ab_user (first_name, last_name, username, password, active, email, locale,
                     timezone, marketing_consent, notify_email, notify_sms, sms_opted_out,
                     created_on, changed_on)
SELECT 'Customer', c::text, 'customer' || c || '@bench.example', :password, true,
       'customer' || c || '@bench.example', 'en', 'UTC', false, true, false, false,
       now(), now()
FROM generate_series(1, {CUSTOMERS}) AS c"""),
    ("offerings", f"""
INSERT INTO offering (id, provider_id, kind, name, description, price_minor, currency,
                      duration_minutes, active, image_urls, pay_at_venue,
                      free_cancellation_hours, created_at, updated_at)
SELECT o, 1 + (o - 1) % {PROVIDERS}, 'service', 'Class ' || o, '', 1000 + (o % 50) * 100,
       p.currency, 60, true, '[]', o % 7 = 0, 24, now(), now()
FROM generate_series(1, {OFFERINGS}) AS o
JOIN provider p ON p.id = 1 + (o - 1) % {PROVIDERS}"""),
    ("slots", f"""
INSERT INTO slot (id, provider_id, offering_id, starts_at, ends_at, capacity, booked)
SELECT g, 1 + (o - 1) % {PROVIDERS}, o, starts, starts + interval '1 hour', 1 + g % 10,
       CASE WHEN {STATUS_SQL.format(starts="starts", g="g")}
            IN ('pending', 'confirmed', 'completed', 'no_show') THEN 1 ELSE 0 END
FROM (SELECT g, o, {STARTS_SQL.format(o="o", j="j")} AS starts
      FROM (SELECT g, 1 + (g - 1) / {SLOTS_PER_OFFERING} AS o,
                   (g - 1) % {SLOTS_PER_OFFERING} AS j
            FROM generate_series(1, {BOOKINGS}) AS g) numbered) timed"""),
    ("bookings", f"""
INSERT INTO booking (id, reference, provider_id, customer_id, offering_id, slot_id, quantity,
                     status, unit_price_minor, total_minor, currency, pay_at_venue, notes,
                     starts_at, ends_at, created_at, updated_at)
SELECT s.id, 'BC' || lpad(s.id::text, 8, '0'), s.provider_id,
       (SELECT min(id) FROM ab_user WHERE email LIKE 'customer%@bench.example')
           + s.id % {CUSTOMERS},
       s.offering_id, s.id, 1, {STATUS_SQL.format(starts="s.starts_at", g="s.id")},
       o.price_minor, o.price_minor, o.currency,
       o.pay_at_venue OR {STATUS_SQL.format(starts="s.starts_at", g="s.id")} = 'pending', '',
       s.starts_at, s.ends_at, s.starts_at - interval '9 days', s.starts_at - interval '9 days'
FROM slot s JOIN offering o ON o.id = s.offering_id"""),
]
TABLES = ("provider", "ab_user", "offering", "slot", "booking", "booking_day_total",
          "slot_day_total")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    url = common.default_database_url().rsplit("/", 1)[0] + "/" + DATABASE
    parser.add_argument("--database-url", default=url)
    # Production runs its periodic work on RQ's scheduler; without Redis, embedded mode
    # would run it from the measured requests (slot generation for 100,000 offerings).
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--reseed", action="store_true", help="empty and seed again")
    parser.add_argument("--dashboard-cache", type=int, default=60, metavar="SECONDS",
                        help="DASHBOARD_CACHE_SECONDS (default 60, as served; 0: every "
                             "dashboard view adds its figures up afresh)")
    return parser.parse_args()


def seeded(app) -> bool:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Booking

    with app.app_context():
        return (db.session.scalar(select(func.count(Booking.id))) or 0) >= BOOKINGS


def seed(app) -> None:
    from app.services.roles import sync_roles

    from werkzeug.security import generate_password_hash

    with app.app_context():
        sync_roles(app.appbuilder)
    password = generate_password_hash(PASSWORD)  # customers never sign in: one hash for all
    with common.raw_connection(app) as conn, conn.cursor() as cur:
        # Accounts reference providers: they go too, and accounts() makes the two it needs.
        cur.execute("TRUNCATE booking, slot, offering, provider, ab_user "
                    "RESTART IDENTITY CASCADE")
    for label, sql in SEED_SQL:
        started = time.perf_counter()
        with common.raw_connection(app) as conn, conn.cursor() as cur:
            if ":password" in sql:
                cur.execute(sql.replace(":password", "%(password)s"), {"password": password})
            else:
                cur.execute(sql)
        print(f"  seeded {label:<10} {time.perf_counter() - started:6.1f} s", flush=True)
    with common.raw_connection(app) as conn:
        common.reset_sequences(conn, ("provider", "offering", "slot", "booking"))
    with app.app_context():  # what the periodic job would have done by now
        from app.services import daily_figures

        started = time.perf_counter()
        folded = daily_figures.fold_deltas()
        print(f"  folded {folded:,} day rows {time.perf_counter() - started:6.1f} s", flush=True)
    with common.raw_connection(app, autocommit=True) as conn:
        started = time.perf_counter()
        common.vacuum_analyze(conn, TABLES)
        print(f"  vacuum analyze   {time.perf_counter() - started:6.1f} s", flush=True)


def accounts(app) -> None:
    """One provider's staff member and an admin, to sign in with (created once)."""
    from app.services.roles import ADMIN, PROVIDER
    from app.services.users import ensure_user

    with app.app_context():
        ensure_user(email=STAFF_EMAIL, password=PASSWORD, role=PROVIDER, first_name="Bench",
                    last_name="Staff", provider_id=1)
        ensure_user(email=ADMIN_EMAIL, password=PASSWORD, role=ADMIN, first_name="Bench",
                    last_name="Admin")


def signed_in(app, email: str):
    client = app.test_client()
    response = client.post("/login/", data={"username": email, "password": PASSWORD})
    if response.status_code != 302:
        raise common.BenchmarkError(f"{email} could not sign in ({response.status_code})")
    return client


def pages(app) -> list[tuple[str, str, str]]:
    """(label, who, path) of every page measured; ``who`` is "staff" or "admin"."""
    measured = [
        ("provider dashboard", "staff", "/"),
        ("admin dashboard", "admin", "/"),
        ("provider dashboard, 90 days", "staff", "/?days=90"),
        ("admin dashboard, 90 days", "admin", "/?days=90"),
        ("bookings list (staff)", "staff", "/bookingview/list/"),
        ("bookings list (admin)", "admin", "/bookingview/list/"),
    ]
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for path in ("/calendar/week", "/calendar/week/"):
        if path in rules:
            measured[4:4] = [("calendar week (staff)", "staff", path),
                             ("calendar week (admin)", "admin", path)]
            break
    return measured


def landing(client, path: str) -> str:
    """Where a page opens: the bookings list redirects to its upcoming period, which is
    the page people see (and the query measured)."""
    response = client.get(path)
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith(path + "?"):
        return location
    return path


def main() -> int:
    args = parse_args()
    instance_dir = common.prepare_environment()
    app = common.migrated_app(args.database_url, instance_dir, redis_url=args.redis_url,
                              WTF_CSRF_ENABLED=False,
                              DASHBOARD_CACHE_SECONDS=args.dashboard_cache)
    if args.reseed or not seeded(app):
        print(f"seeding {args.database_url.rsplit('/', 1)[1]}: {PROVIDERS} providers, "
              f"{OFFERINGS:,} offerings, {BOOKINGS:,} slots, {BOOKINGS:,} bookings", flush=True)
        started = time.perf_counter()
        seed(app)
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    accounts(app)
    clients = {"staff": signed_in(app, STAFF_EMAIL), "admin": signed_in(app, ADMIN_EMAIL)}
    measured = [(label, who, landing(clients[who], path)) for label, who, path in pages(app)]
    for _label, who, path in measured:
        common.preflight_in_process(clients[who], [path])
    stats = {label: common.Stats() for label, _, _ in measured}
    for _ in range(10):  # warm-up: templates compiled, pools filled
        for _label, who, path in measured:
            clients[who].get(path)
    started = time.perf_counter()
    for _ in range(args.requests):  # in turns: every page under the same conditions
        for label, who, path in measured:
            t0 = time.perf_counter()
            response = clients[who].get(path)
            response.get_data()
            stats[label].latencies_ms.append((time.perf_counter() - t0) * 1000)
            stats[label].note_status(response.status_code, lambda s: s == 200)
    report(measured, stats, args, time.perf_counter() - started)
    return 1 if any(s.errors for s in stats.values()) else 0


def report(measured, stats, args, wall: float) -> None:
    print(f"\n{args.requests} requests per page, in-process, in turns ({wall:.0f} s), "
          f"dashboard figures kept {args.dashboard_cache} s\n")
    print("| page | path | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---:|---:|---:|---:|")
    for label, _who, path in measured:
        s = stats[label]
        print(f"| {label} | `{path}` | {s.p50:.1f} | {s.percentile(95):.1f} | {s.p99:.1f} "
              f"| {s.errors} |")


if __name__ == "__main__":
    raise SystemExit(main())
