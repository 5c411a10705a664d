"""Benchmark of receipt issuing: number + render (xhtml2pdf) + store + commit, on PostgreSQL.

``--receipts`` succeeded payments (default 1000) are created as rows, then each gets its
receipt through the real path (``receipts.issue_receipt``: counter row lock, PDF rendered
with the shipped fonts, stored in the local folder storage, ``receipt.generated`` in the
outbox, commit), one after another in this one process. Consumers of
``receipt.generated`` (the receipt email) are switched off: this measures the receipt.

Prints receipts per second, p50/p99 per receipt, and this process's resident memory at
the start, after the first, 10th and 100th receipt and at the end. Targets: median under
100 ms; memory flat (within 10 %) from the first receipt (which loads the PDF libraries
and fonts once) to the last.

    .venv/bin/python bench/receipts.py [--receipts 1000] [--markdown]

Needs PostgreSQL (database ``bookwell_bench_receipts``, created if missing).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

TARGET_MEDIAN_MS = 100.0
TARGET_RSS_DRIFT = 0.10


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=common.default_database_url().replace(
        "bookwell_bench", "bookwell_bench_receipts"))
    parser.add_argument("--receipts", type=int, default=1000)
    parser.add_argument("--markdown", action="store_true")
    return parser.parse_args()


def reset(app) -> None:
    from sqlalchemy import text

    from app.extensions import db
    from app.services.roles import sync_roles

    with app.app_context():
        sync_roles(app.appbuilder)
        db.session.execute(text(
            "TRUNCATE receipt, receipt_counter, payment_event, refund, payment, booking, "
            "booking_history, attribution, outbox_event, consumed_event, audit_log, slot, "
            "variant, offering, provider RESTART IDENTITY CASCADE"))
        db.session.commit()


def build_payments(app, count: int) -> list[int]:
    """A provider (tax 19 % included), a customer, and ``count`` paid bookings."""
    from app.extensions import db
    from app.models import Booking, Payment, Slot
    from app.models.types import utcnow

    with app.app_context():
        provider_id, offering_id = common.bench_service(
            slug="bench-receipts", name="Bench Bäckerei Łódź", offering_name="Massage",
            price_minor=4990, timezone="Europe/Berlin", offering_fields={"pay_at_venue": True},
            address="Hauptstraße 1\n10115 Berlin", tax_id="DE999999999", tax_rate_bp=1900,
            tax_inclusive=True)
        customer = common.bench_customer("bench-receipts@example.com", "Дмитрий", "Żółć")
        start, now = utcnow() + timedelta(days=2), utcnow()
        ids = []
        for n in range(count):
            begins = start + timedelta(hours=n)
            slot = Slot(provider_id=provider_id, offering_id=offering_id, starts_at=begins,
                        ends_at=begins + timedelta(hours=1), capacity=1, booked=1)
            db.session.add(slot)
            db.session.flush()
            booking = Booking(provider_id=provider_id, reference=f"BENCH{n:07d}",
                              customer_id=customer.id, offering_id=offering_id,
                              slot_id=slot.id, quantity=1, status="confirmed",
                              unit_price_minor=4990, total_minor=4990, currency="EUR",
                              pay_at_venue=True, starts_at=begins,
                              ends_at=begins + timedelta(hours=1))
            db.session.add(booking)
            db.session.flush()
            payment = Payment(provider_id=provider_id, booking_id=booking.id,
                              gateway="manual", amount_minor=4990, received_minor=4990,
                              currency="EUR", status="succeeded", method="cash",
                              succeeded_at=now, checked_at=now)
            db.session.add(payment)
            db.session.flush()
            ids.append(payment.id)
        db.session.commit()
        return ids


def issue_all(app, payment_ids: list[int]) -> tuple[list[float], dict[str, int], float]:
    from app import events
    from app.extensions import db
    from app.services import receipts

    events.CONSUMERS["receipt.generated"] = []  # the receipt email is not measured here
    pid = os.getpid()
    rss = {"start": common.rss_kb(pid)}
    timings = []
    started = time.perf_counter()
    with app.app_context():
        for n, payment_id in enumerate(payment_ids, start=1):
            t0 = time.perf_counter()
            receipt = receipts.issue_receipt(payment_id)
            timings.append((time.perf_counter() - t0) * 1000)
            assert receipt is not None and receipt.number == n, (n, receipt)
            db.session.remove()
            if n in (1, 10, 100):
                rss[f"after {n}"] = common.rss_kb(pid)
    elapsed = time.perf_counter() - started
    rss["end"] = common.rss_kb(pid)
    return timings, rss, elapsed


def check(app, count: int) -> tuple[int, int]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Receipt

    with app.app_context():
        numbers = db.session.scalars(select(Receipt.number).order_by(Receipt.number)).all()
        sizes = db.session.scalar(select(func.avg(Receipt.size_bytes)))
    assert list(numbers) == list(range(1, count + 1)), "numbers are not 1..N"
    return len(numbers), int(sizes or 0)


def main() -> int:
    args = parse_args()
    instance_dir = common.prepare_environment()
    app = common.migrated_app(args.database_url, instance_dir)
    reset(app)
    payment_ids = build_payments(app, args.receipts)
    timings, rss, elapsed = issue_all(app, payment_ids)
    issued, avg_size = check(app, args.receipts)

    p50 = statistics.median(timings)
    p99 = statistics.quantiles(timings, n=100)[98] if len(timings) >= 100 else max(timings)
    # The first receipt loads the PDF libraries and fonts once (tens of MB); the target is
    # about what follows: memory across the consecutive receipts after it.
    base = rss.get("after 1") or rss["start"]
    drift = (rss["end"] - base) / base
    rows = [
        ("receipts issued", issued),
        ("receipts per second", f"{issued / elapsed:.1f}"),
        ("p50 ms per receipt", f"{p50:.1f}"),
        ("p99 ms per receipt", f"{p99:.1f}"),
        ("max ms per receipt", f"{max(timings):.1f}"),
        ("average PDF size (bytes)", avg_size),
        ("RSS at start (KiB)", rss["start"]),
        ("RSS after the first receipt (KiB)", rss.get("after 1", "")),
        ("RSS after 10 (KiB)", rss.get("after 10", "")),
        ("RSS after 100 (KiB)", rss.get("after 100", "")),
        ("RSS at end (KiB)", rss["end"]),
        ("RSS drift, first receipt → end", f"{drift * 100:+.1f} %"),
    ]
    print(common.format_table(["receipts (one process, PostgreSQL, local storage)", "value"],
                              rows, markdown=args.markdown))
    ok = p50 < TARGET_MEDIAN_MS and abs(drift) <= TARGET_RSS_DRIFT
    print(f"targets: median < {TARGET_MEDIAN_MS:.0f} ms, RSS within "
          f"{TARGET_RSS_DRIFT * 100:.0f} % → {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
