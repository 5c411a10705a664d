"""Periodic jobs: each tick is enqueued once, however many schedulers run."""
from __future__ import annotations

from datetime import timedelta

from rq import Queue

from app.models.types import utcnow
from app.redis import redis_client
from app.services import housekeeping
from jobs.scheduler import SCHEDULE, Periodic, build_scheduler


def _noop():
    return "ok"


def test_two_schedulers_enqueue_a_tick_once(app_ctx):
    connection = redis_client()
    schedule = (Periodic("test-tick", _noop, "default", interval=3600),)
    first, second = build_scheduler(connection, schedule), build_scheduler(connection, schedule)

    enqueued = first.enqueue_jobs() + second.enqueue_jobs()

    assert [job.name for job in enqueued] == ["test-tick"]
    assert Queue("default", connection=connection).count == 1


def test_the_schedule_covers_the_periodic_work():
    names = {entry.name for entry in SCHEDULE}
    assert {"expire-holds", "outbox-sweep", "generate-slots", "reconcile-payments",
            "conversion-sweep", "clear-attribution-request-details"} <= names
    assert all(entry.func.__module__.startswith("jobs.") for entry in SCHEDULE)


def test_embedded_housekeeping_expires_holds_once_a_minute(app_ctx, build):
    from app.extensions import db
    from app.models import Booking, Slot
    from app.services.bookings import place_booking

    offering = build.offering(build.provider(), price_minor=1000)
    slot_id = build.future_slot(offering, capacity=2)
    booking = place_booking(customer_id=build.customer(), offering_id=offering,
                            slot_id=slot_id)
    db.session.get(Booking, booking.id).hold_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    clock = iter([1000.0, 1010.0]).__next__
    housekeeping.reset()

    assert housekeeping.run_if_due(clock) is True
    assert housekeeping.run_if_due(clock) is False  # ten seconds later: not again

    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "expired"
    assert db.session.get(Slot, slot_id).booked == 0
