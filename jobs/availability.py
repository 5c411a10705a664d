"""Periodic slot generation, so that the window of bookable days keeps moving forward."""
from __future__ import annotations

from flask import current_app

from app.services import availability
from jobs.context import with_app_context


@with_app_context
def generate_all_slots() -> int:
    report = availability.generate_slots(days=current_app.config["SLOT_DAYS_AHEAD"])
    return report.created
