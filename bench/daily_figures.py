"""What the daily totals' triggers cost a booking, and what folding costs.

Places bookings in-process through ``bookings.place_booking`` (a pay-at-venue service, so no
payment) on PostgreSQL, in rounds: the same work with the triggers that keep the daily
totals switched on, then off, then on… so each ratio compares runs seconds apart. Each
booking also takes a place on its slot, so both the booking and the slot triggers fire.
Then folds the deltas the "on" turns appended and times it. The database
(``bookwell_bench_figures``) is emptied at the start and its totals rebuilt at the end.

    .venv/bin/python -m bench.daily_figures [--bookings 300] [--rounds 5]
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import time
from datetime import datetime, timedelta, timezone

from bench import common

DATABASE = "bookwell_bench_figures"
_slot_numbers = itertools.count()  # every turn books slots of its own
TRIGGERS = {"booking": ("insert", "update", "delete"), "slot": ("insert", "update", "delete")}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    url = common.default_database_url().rsplit("/", 1)[0] + "/" + DATABASE
    parser.add_argument("--database-url", default=url)
    parser.add_argument("--bookings", type=int, default=300, help="bookings per turn")
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args()


def switch_triggers(on: bool) -> None:
    from app.extensions import db

    verb = "ENABLE" if on else "DISABLE"
    for table, operations in TRIGGERS.items():
        for operation in operations:
            db.session.execute(db.text(
                f"ALTER TABLE {table} {verb} TRIGGER {table}_day_delta_{operation}"))
    db.session.commit()


def slots_for(offering_id: int, count: int) -> list[int]:
    """``count`` new future slots, one a booking, spread over 60 days."""
    from app.extensions import db
    from app.models import Offering, Slot

    offering = db.session.get(Offering, offering_id)
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    numbers = [next(_slot_numbers) for _ in range(count)]
    rows = [Slot(provider_id=offering.provider_id, offering_id=offering_id,
                 starts_at=start + timedelta(days=1 + n % 60, minutes=n // 60),
                 ends_at=start + timedelta(days=1 + n % 60, minutes=n // 60 + 60), capacity=5)
            for n in numbers]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def turn(offering_id: int, customer_id: int, count: int) -> list[float]:
    from app.services import bookings

    slot_ids = slots_for(offering_id, count)
    timings = []
    for slot_id in slot_ids:
        started = time.perf_counter()
        bookings.place_booking(customer_id=customer_id, offering_id=offering_id,
                               slot_id=slot_id)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> int:
    args = parse_args()
    instance_dir = common.prepare_environment()
    app = common.migrated_app(args.database_url, instance_dir)
    results = {True: [], False: []}
    ratios = []
    with app.app_context():
        from app.extensions import db
        from app.services import daily_figures
        from app.services.roles import sync_roles

        sync_roles(app.appbuilder)
        db.session.execute(db.text("TRUNCATE booking, slot, offering, provider CASCADE"))
        db.session.commit()
        _, offering_id = common.bench_service(
            slug="figures", name="Figures studio", offering_name="Class", price_minor=1500,
            offering_fields={"pay_at_venue": True})
        customer_id = common.bench_customer("figures@bench.example").id
        turn(offering_id, customer_id, 30)  # warm-up
        for _ in range(args.rounds):
            medians = {}
            for on in (True, False):
                switch_triggers(on)
                timings = turn(offering_id, customer_id, args.bookings)
                results[on].extend(timings)
                medians[on] = statistics.median(timings)
            ratios.append(medians[True] / medians[False])
        switch_triggers(True)
        pending = db.session.scalar(db.text("SELECT count(*) FROM booking_day_delta")) + \
            db.session.scalar(db.text("SELECT count(*) FROM slot_day_delta"))
        started = time.perf_counter()
        folded = daily_figures.fold_deltas()
        fold_ms = (time.perf_counter() - started) * 1000
        # The "off" turns' bookings never reached the totals: start them again from the rows.
        db.session.execute(db.text("TRUNCATE booking, slot CASCADE"))
        db.session.commit()

    def row(label, on):
        values = sorted(results[on])
        return [label, len(values), statistics.median(values),
                values[int(len(values) * 0.99) - 1]]

    print(f"\nplace_booking in-process on PostgreSQL, {args.rounds} rounds of "
          f"{args.bookings} bookings per turn\n")
    print(common.format_table(["triggers", "bookings", "p50 ms", "p99 ms"],
                              [row("on", True), row("off", False)], markdown=True))
    print(f"\non / off, median per round: {statistics.median(ratios):.3f} "
          f"({' '.join(f'{r:.3f}' for r in ratios)})")
    print(f"folded {folded:,} delta rows ({pending:,} pending) in {fold_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
