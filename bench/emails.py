"""Benchmark of email delivery through an RQ worker to a local SMTP server.

``--emails`` booking-confirmation messages (default 500) are rendered and stored as
``Notification`` rows in one transaction (what the consumers do), their send jobs are
enqueued on the ``notifications`` queue, and one RQ worker sends them to an SMTP server
running in this process on 127.0.0.1 (aiosmtpd, which counts what it accepts). Prints
emails per second from the first job to the last accepted message, and the worker's
resident memory at start and end.

    .venv/bin/python bench/emails.py [--emails 500] [--no-fork]

Needs PostgreSQL (``bookwell_bench_emails``, created if missing) and Redis.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=common.default_database_url().replace(
        "bookwell_bench", "bookwell_bench_emails"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--emails", type=int, default=500)
    parser.add_argument("--no-fork", action="store_true",
                        help="run the worker with --no-fork (jobs in its own process)")
    return parser.parse_args()


class CountingSmtp:
    """An aiosmtpd handler that counts accepted messages (also by recipient) and notes when
    the first and the last came. ``delay``: seconds each message takes before it is
    accepted, as a slow relay's would; other connections go on meanwhile."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.count = 0
            self.first_at = self.last_at = 0.0
            self.by_recipient: Counter[str] = Counter()
            self.last_by_recipient: dict[str, float] = {}

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.count += 1
            self.last_at = time.perf_counter()
            self.first_at = self.first_at or self.last_at
            self.by_recipient.update(envelope.rcpt_tos)
            self.last_by_recipient.update(dict.fromkeys(envelope.rcpt_tos, self.last_at))
        return "250 Message accepted"


def local_smtp(delay: float = 0.0):
    """An SMTP server on a free 127.0.0.1 port, running on a thread of this process:
    (the started aiosmtpd controller, its ``CountingSmtp``, the app settings to send to it
    as environment variables)."""
    from aiosmtpd.controller import Controller

    port = common.free_port()
    counter = CountingSmtp(delay)
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, counter, {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port),
                                 "MAIL_USE_TLS": "false"}


def seed(app, redis_url: str, count: int) -> list[int]:
    """One provider, one customer, ``count`` bookings and their queued confirmation emails."""
    from redis import Redis
    from sqlalchemy import text

    from app.extensions import db
    from app.models import Booking, Slot
    from app.models.types import utcnow
    from app.services import notifications
    from app.services.roles import sync_roles

    Redis.from_url(redis_url).flushdb()
    with app.app_context():
        sync_roles(app.appbuilder)
        db.session.execute(text(
            "TRUNCATE notification, booking, booking_history, attribution, outbox_event, "
            "consumed_event, audit_log, slot, offering, provider RESTART IDENTITY CASCADE"))
        db.session.commit()
        provider_id, offering_id = common.bench_service(
            slug="bench-mail", name="Bench Mail Studio", offering_name="Morning class",
            price_minor=1500, timezone="Europe/Berlin")
        customer = common.bench_customer("bench-reader@example.com", last_name="Reader")
        start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
        slot = Slot(provider_id=provider_id, offering_id=offering_id, starts_at=start,
                    ends_at=start + timedelta(hours=1), capacity=count + 1, booked=count)
        db.session.add(slot)
        db.session.flush()
        ids = []
        for n in range(count):
            booking = Booking(provider_id=provider_id, reference=f"BW-M{n:05d}",
                              customer_id=customer.id, offering_id=offering_id,
                              slot_id=slot.id, quantity=1, status="confirmed",
                              unit_price_minor=1500, total_minor=1500, currency="EUR",
                              starts_at=slot.starts_at, ends_at=slot.ends_at)
            db.session.add(booking)
            db.session.flush()
            ids += notifications.queue_messages(key="booking_confirmed", booking=booking,
                                                dedupe_prefix=f"bench-{n}",
                                                channels=("email",))
        db.session.commit()
        return ids


def main() -> int:
    args = parse_args()
    instance = common.prepare_environment()
    smtp, counter, mail = local_smtp()
    app = common.migrated_app(args.database_url, instance, redis_url=args.redis_url,
                              MAIL_SERVER="127.0.0.1", MAIL_PORT=int(mail["MAIL_PORT"]),
                              MAIL_USE_TLS=False)
    ids = seed(app, args.redis_url, args.emails)
    env = common.server_environment(args.database_url, instance, redis_url=args.redis_url,
                                    **mail)
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "bookwell", "worker", "--queues", "notifications"]
        + (["--no-fork"] if args.no_fork else []),
        cwd=common.REPO_ROOT, env={**env, "FLASK_APP": "wsgi"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        worker_start = common.rss_kb(worker.pid)
        with app.app_context():
            from app.services import notifications

            started = time.perf_counter()
            notifications.enqueue_sends(ids)
        deadline = started + max(120.0, args.emails)
        while counter.count < len(ids) and time.perf_counter() < deadline:
            time.sleep(0.05)
        elapsed = (counter.last_at or time.perf_counter()) - started
        worker_end = common.rss_kb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(30)
        smtp.stop()
    sent = counter.count
    print()
    print(f"Emails through one RQ worker{' (--no-fork)' if args.no_fork else ''} to a local "
          f"SMTP server, PostgreSQL + Redis, {os.cpu_count()} CPUs")
    print(common.format_table(
        ["measure", "value"],
        [["emails queued", len(ids)], ["emails accepted by the SMTP server", sent],
         ["seconds, first job to last message", elapsed],
         ["emails per second", sent / elapsed if elapsed else float("nan")],
         ["worker RSS at start, MB", (worker_start or 0) / 1024],
         ["worker RSS at end, MB", (worker_end or 0) / 1024]], markdown=True))
    return 0 if sent == len(ids) else 1


if __name__ == "__main__":
    sys.exit(main())
