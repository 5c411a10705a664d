"""The booking state machine: the one place that says which transitions exist."""
from __future__ import annotations

from app.errors import Conflict
from app.models.bookings import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    EXPIRED,
    NO_SHOW,
    PENDING,
    REFUNDED,
)

TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({CONFIRMED, EXPIRED, CANCELLED}),
    CONFIRMED: frozenset({COMPLETED, NO_SHOW, CANCELLED}),
    CANCELLED: frozenset({REFUNDED}),
    COMPLETED: frozenset(),
    NO_SHOW: frozenset(),
    EXPIRED: frozenset(),
    REFUNDED: frozenset(),
}
# What people read for each status (console, storefront, messages): never the raw name.
STATUS_LABELS: dict[str, str] = {
    PENDING: "Pending",
    CONFIRMED: "Confirmed",
    COMPLETED: "Completed",
    NO_SHOW: "No-show",
    EXPIRED: "Expired",
    CANCELLED: "Cancelled",
    REFUNDED: "Refunded",
}
# Leaving these for one of RELEASING gives the places (or stock) back.
RELEASING = frozenset({EXPIRED, CANCELLED})


def status_label(status: str | None) -> str:
    """The readable name of a booking status ("No-show" for ``no_show``)."""
    if not status:
        return ""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise Conflict(
            "booking.invalid_transition",
            f"A {current} booking cannot become {target}.",
            {"status": [current]},
        )
