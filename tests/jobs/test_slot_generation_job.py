"""The daily slot generation (job and command) retires slots with booking history, never
deletes them, and a second run changes nothing."""
from __future__ import annotations

from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import AvailabilityRule, Booking, Slot
from app.job_registry import generate_all_slots


def _stale_slots_with_history(app, build) -> dict:
    """Slots whose rule is gone (removed behind the application's back, so that only the
    periodic run reconciles them), two of them with a cancelled or expired booking."""
    ids = build.service_with_past_bookings(slot_days=app.config["SLOT_DAYS_AHEAD"])
    db.session.execute(delete(AvailabilityRule).where(AvailabilityRule.id == ids["rule"]))
    db.session.commit()
    return ids


def _remaining(ids: dict) -> dict[int, bool]:
    """Slot id: retired, for the offering's slots still in the table."""
    db.session.expire_all()
    return {slot.id: slot.retired_at is not None for slot in db.session.scalars(
        select(Slot).where(Slot.offering_id == ids["offering"]))}


def test_the_daily_job_retires_slots_with_history_and_is_idempotent(app, app_ctx, build):
    ids = _stale_slots_with_history(app, build)

    generate_all_slots()

    assert _remaining(ids) == {ids["nine"]: True, ids["ten"]: True}
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 2
    generate_all_slots()
    assert _remaining(ids) == {ids["nine"]: True, ids["ten"]: True}


def test_the_generate_slots_command_reports_retired_slots(app, app_ctx, build):
    ids = _stale_slots_with_history(app, build)
    runner = app.test_cli_runner()

    first = runner.invoke(args=["bookwell", "generate-slots"])
    second = runner.invoke(args=["bookwell", "generate-slots"])

    assert first.exit_code == 0, first.output
    assert "retired: 2," in first.output and "kept (booked): 0" in first.output
    assert second.exit_code == 0, second.output
    assert "removed: 0, retired: 0, restored: 0" in second.output
    assert _remaining(ids) == {ids["nine"]: True, ids["ten"]: True}
