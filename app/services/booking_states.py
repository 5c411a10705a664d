"""The booking state machine: the one place that says which transitions exist."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

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


# --- what staff may do to a booking --------------------------------------------------------
# One table decides both what the console offers and what the services accept: the
# booking page lists the actions whose ``refusal`` is None, and confirm/complete/no-show/
# mark-paid raise the same refusal. A test walks every status through both.


@dataclass(frozen=True)
class BookingFacts:
    """What the staff actions' conditions look at (read from the locked booking)."""

    status: str
    pay_at_venue: bool
    total_minor: int
    starts_at: datetime | None
    ends_at: datetime | None
    paid: bool  # a payment is recorded for it


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


@dataclass(frozen=True)
class StaffAction:
    name: str
    label: str
    target: str | None  # the status it leads to (None: the status may stay as it is)
    from_statuses: frozenset[str]
    condition: Callable[[BookingFacts, datetime], Refusal | None]
    wrong_state_code: str | None = None  # the refusal's code in another status
    past_tense: str = ""  # "marked paid": for the refusal's message

    def refusal(self, facts: BookingFacts, now: datetime) -> Refusal | None:
        if facts.status not in self.from_statuses:
            if self.target is not None:
                return Refusal("booking.invalid_transition",
                               f"A {facts.status} booking cannot become {self.target}.")
            return Refusal(self.wrong_state_code or "booking.invalid_transition",
                           f"A {status_label(facts.status).lower()} booking cannot be "
                           f"{self.past_tense}.")
        return self.condition(facts, now)


def _sources(target: str) -> frozenset[str]:
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


def _confirmable(facts: BookingFacts, now: datetime) -> Refusal | None:
    if not facts.pay_at_venue and facts.total_minor > 0:
        return Refusal("booking.awaits_payment",
                       "This booking is confirmed by its online payment, not by hand.")
    return None


def _ended(facts: BookingFacts, now: datetime) -> Refusal | None:
    if facts.ends_at is not None and facts.ends_at > now:
        return Refusal("booking.too_early", "It can be completed once it has ended.")
    return None


def _started(facts: BookingFacts, now: datetime) -> Refusal | None:
    if facts.starts_at is not None and facts.starts_at > now:
        return Refusal("booking.too_early", "A no-show can be recorded once it has started.")
    return None


def _payable_at_venue(facts: BookingFacts, now: datetime) -> Refusal | None:
    if not facts.pay_at_venue:
        return Refusal("payment.online_only",
                       "This booking is paid online; its payment confirms it.")
    if facts.paid:
        return Refusal("payment.already_paid", "This booking is marked paid already.")
    return None


def _always(facts: BookingFacts, now: datetime) -> Refusal | None:
    return None


STAFF_ACTIONS: dict[str, StaffAction] = {action.name: action for action in (
    StaffAction("confirm", "Confirm", CONFIRMED, _sources(CONFIRMED), _confirmable),
    StaffAction("mark_paid", "Mark paid", None, frozenset({PENDING, CONFIRMED}),
                _payable_at_venue, wrong_state_code="payment.not_payable",
                past_tense="marked paid"),
    StaffAction("complete", "Mark completed", COMPLETED, _sources(COMPLETED), _ended),
    StaffAction("no_show", "Mark no-show", NO_SHOW, _sources(NO_SHOW), _started),
    StaffAction("cancel", "Cancel", CANCELLED, _sources(CANCELLED), _always),
)}


def offered_actions(facts: BookingFacts, now: datetime) -> list[StaffAction]:
    """The staff actions the booking's state allows now, in the table's order."""
    return [a for a in STAFF_ACTIONS.values() if a.refusal(facts, now) is None]


def check_staff_action(name: str, facts: BookingFacts, now: datetime) -> None:
    """Raise the table's refusal of ``name`` for this booking (a 409), if any."""
    refusal = STAFF_ACTIONS[name].refusal(facts, now)
    if refusal is not None:
        raise Conflict(refusal.code, refusal.message, {"status": [facts.status]})
