"""Every allowed transition, and every refused one."""
from __future__ import annotations

import itertools

import pytest

from app.errors import Conflict
from app.models.bookings import STATUSES
from app.services.booking_states import TRANSITIONS, check_transition

ALLOWED = {
    ("pending", "confirmed"), ("pending", "expired"), ("pending", "cancelled"),
    ("confirmed", "completed"), ("confirmed", "no_show"), ("confirmed", "cancelled"),
    ("cancelled", "refunded"),
}


@pytest.mark.parametrize("current, target", sorted(ALLOWED))
def test_allowed(current, target):
    check_transition(current, target)


@pytest.mark.parametrize("current, target", sorted(
    set(itertools.product(STATUSES, STATUSES)) - ALLOWED))
def test_refused_with_the_current_state(current, target):
    with pytest.raises(Conflict) as error:
        check_transition(current, target)
    assert error.value.code == "booking.invalid_transition"
    assert error.value.errors == {"status": [current]}


def test_the_table_is_the_whole_truth():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED
    assert set(TRANSITIONS) == set(STATUSES)
