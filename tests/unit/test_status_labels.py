"""Statuses are shown by name people read, never the raw value."""
from __future__ import annotations

from app.models.bookings import STATUSES
from app.services.booking_states import STATUS_LABELS, status_label
from views.console import status_badge, status_text


def test_every_booking_status_has_a_label():
    assert set(STATUS_LABELS) == set(STATUSES)
    assert status_label("no_show") == "No-show"
    assert all("_" not in label for label in STATUS_LABELS.values())


def test_unknown_statuses_read_as_words():
    assert status_text("requires_action", {}) == "Requires action"
    assert status_label("") == ""


def test_badge_is_escaped_and_coloured():
    badge = str(status_badge("no_show"))
    assert "No-show" in badge and "label-danger" in badge
    assert "&lt;b&gt;" in str(status_badge("<b>"))
    assert str(status_badge(None)) == ""
