"""Periodic jobs: one table for both modes; each tick is enqueued once, however many
schedulers run."""
from __future__ import annotations

from datetime import timedelta

from rq import Queue

from app.models.types import utcnow
from app.redis import redis_client
from app import job_registry
from app.job_registry import JOBS, PERIODIC, Job, Periodic
from app.services import housekeeping
from jobs.scheduler import build_scheduler


def _noop():
    return "ok"


def test_two_schedulers_enqueue_a_tick_once(app_ctx, monkeypatch):
    monkeypatch.setitem(JOBS, "test.noop", Job("test.noop", _noop, "default"))
    connection = redis_client()
    schedule = (Periodic("test-tick", "test.noop", interval=3600),)
    first, second = build_scheduler(connection, schedule), build_scheduler(connection, schedule)

    enqueued = first.enqueue_jobs() + second.enqueue_jobs()

    assert [job.name for job in enqueued] == ["test-tick"]
    assert Queue("default", connection=connection).count == 1


def test_the_periodic_table_covers_the_periodic_work():
    jobs = {entry.job for entry in PERIODIC}
    assert {"bookings.expire_holds", "sweeps.sweep_pending", "availability.generate_slots",
            "payments.reconcile", "notifications.queue_reminders",
            "attribution.clear_request_details", "maintenance.purge_revoked_tokens",
            "maintenance.purge_idempotency_keys", "maintenance.fold_daily_figures",
            "outside_calendars.fetch_due", "webhooks.hand_over_due",
            "webhooks.purge_log", "maintenance.purge_api_key_calls"} == jobs
    assert len({entry.key for entry in PERIODIC}) == len(PERIODIC)
    assert all(entry.job in JOBS for entry in PERIODIC)  # every name resolves


def test_the_scheduler_runs_the_periodic_table(app_ctx):
    scheduler = build_scheduler(redis_client())
    registered = {job.name: job for job in scheduler.get_jobs()}
    assert set(registered) == {entry.key for entry in PERIODIC}
    for entry in PERIODIC:
        work = JOBS[entry.job]
        assert registered[entry.key].func is work.func
        assert registered[entry.key].queue_name == work.queue


def test_embedded_housekeeping_runs_the_periodic_table(app_ctx, monkeypatch):
    ran = []
    for name in {entry.job for entry in PERIODIC}:
        monkeypatch.setitem(JOBS, name, Job(name, lambda name=name: ran.append(name)))
    housekeeping.reset()
    assert housekeeping.run_if_due(iter([0.0]).__next__) is True
    assert sorted(ran) == sorted(entry.job for entry in PERIODIC)

    # An hour later: the interval entries again, the daily ones not.
    ran.clear()
    assert housekeeping.run_if_due(iter([3600.0]).__next__) is True
    assert sorted(ran) == sorted(entry.job for entry in PERIODIC if entry.interval)

    ran.clear()  # a day later: everything
    assert housekeeping.run_if_due(iter([3600.0 + 86400]).__next__) is True
    assert sorted(ran) == sorted(entry.job for entry in PERIODIC)
    assert job_registry.PERIODIC is PERIODIC


def test_one_failing_entry_does_not_hold_up_the_others(app_ctx, monkeypatch):
    ran = []

    def broken():
        raise RuntimeError("down")

    for name in {entry.job for entry in PERIODIC}:
        monkeypatch.setitem(JOBS, name, Job(name, lambda name=name: ran.append(name)))
    monkeypatch.setitem(JOBS, "bookings.expire_holds", Job("bookings.expire_holds", broken))
    housekeeping.reset()
    assert housekeeping.run_if_due(iter([0.0]).__next__) is True
    assert "sweeps.sweep_pending" in ran and "bookings.expire_holds" not in ran


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
