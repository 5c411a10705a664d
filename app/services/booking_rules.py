"""The rules a new booking must pass: one list, each rule written once.

:data:`GUARDS` is that list. A :class:`Guard` has a condition, written as a function of
*operands*, and the refusal a booking gets when the condition does not hold. The same
function is called twice over, with different operands:

- SQL columns and bind parameters (:mod:`app.services.booking_places`): the conditions
  become the WHERE clause of the conditional UPDATE that takes the places, which decides
  under concurrency; on PostgreSQL it sits inside the placing statement
  (:mod:`app.services.booking_statement`);
- the values read for the booking (a row of the same columns, plus the request): the
  conditions are asked in list order and the first that fails says why, before anything
  is written, and again when the UPDATE took nothing.

Operands (the same names in both forms): ``customer_active``, ``offering_active``,
``provider_active``, ``offering_id`` (the one asked for), ``slot_offering_id``,
``retired_at``, ``starts_at``, ``booked``, ``capacity`` (the slot's), ``quantity``,
``now``, ``earliest_start`` and ``latest_start`` (the offering's minimum notice and
horizon from now), ``max_active_bookings`` and ``max_held_places`` (the offering's
per-customer limits, None for none: compare through :func:`limit_or_none`),
``customer_active_bookings`` and ``customer_held_places`` (the customer's bookings of
the offering still to come, and their places held unpaid). Python's ``is`` cannot build SQL: use :func:`is_true` and :func:`is_null`.

To add a rule (the minimum notice was added so):

1. if it needs a column that is not an operand yet, add it to
   ``booking_places.COLUMN_OPERANDS`` (it is then both read and usable in SQL);
2. add one :class:`Guard` to :data:`GUARDS` where it should be asked (the first guard
   that fails answers), with ``about`` saying what it checks;
3. test it in ``tests/integration/test_booking_rules.py``: it refuses with its code on
   both placing paths.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Callable

from sqlalchemy import func
from sqlalchemy.sql.elements import ClauseElement

from app.errors import (
    UNKNOWN_USER,
    Conflict,
    DomainError,
    NotFound,
    Unauthorized,
    ValidationFailed,
)

CUSTOMER, OFFERING, SLOT = "customer", "offering", "slot"


@dataclass(frozen=True, eq=False)  # compared by identity: cheap to hash per booking
class Guard:
    """One rule: ``condition(operands)`` holds for a booking that may be placed;
    ``refusal(operands)`` is the error of one that may not (its code is ``code``).
    ``about``: what it checks (customer, offering, slot); products are not asked the slot
    guards, and a move to another slot is not asked the customer's."""

    name: str
    about: str
    code: str
    condition: Callable[[SimpleNamespace], object]
    refusal: Callable[[SimpleNamespace], DomainError]

    def holds(self, operands: SimpleNamespace) -> bool:
        return bool(self.condition(operands))


def is_true(value):
    """``value IS true`` in SQL; ``value is True`` for a value read (None is not true)."""
    return value.is_(True) if isinstance(value, ClauseElement) else value is True


def is_null(value):
    return value.is_(None) if isinstance(value, ClauseElement) else value is None


NO_LIMIT = 1_000_000  # above any count a limit is compared with


def limit_or_none(limit):
    """A per-customer limit, or a number no count reaches when the offering sets none."""
    if isinstance(limit, ClauseElement):
        return func.coalesce(limit, NO_LIMIT)
    return NO_LIMIT if limit is None else limit


def _slot_full(values) -> Conflict:
    left = values.capacity - values.booked
    return Conflict("booking.slot_full", f"Only {left} places left.",
                    {"quantity": [f"At most {max(left, 0)}."]})


def _too_soon(values) -> Conflict:
    minutes = int((values.earliest_start - values.now).total_seconds()) // 60
    hours = minutes // 60
    wait = (f"{minutes} minutes" if minutes % 60 else
            f"{hours} hour" if hours == 1 else f"{hours} hours")
    return Conflict("booking.too_soon", f"This is booked at least {wait} ahead.",
                    {"slot_id": ["Too soon: choose a later time."]})


def _too_far_ahead(values) -> Conflict:
    days = (values.latest_start - values.now).days
    return Conflict("booking.too_far_ahead", f"This is booked at most {days} days ahead.",
                    {"slot_id": ["Too far ahead: choose an earlier time."]})


def _offering_not_found(values) -> NotFound:
    return NotFound("offering.not_found", f"No offering with id {values.offering_id}.")


GUARDS: tuple[Guard, ...] = (
    # The booking endpoint takes the customer from the token alone (no query of its own),
    # so this is where an account deactivated after its token was issued is refused.
    Guard("customer_active", CUSTOMER, UNKNOWN_USER[0],
          lambda v: is_true(v.customer_active),
          lambda v: Unauthorized(*UNKNOWN_USER)),
    Guard("offering_active", OFFERING, "offering.not_found",
          lambda v: is_true(v.offering_active), _offering_not_found),
    Guard("provider_active", OFFERING, "offering.not_found",
          lambda v: is_true(v.provider_active), _offering_not_found),
    # Bookings still to come, held or confirmed, of this offering by this customer.
    Guard("customer_booking_limit", CUSTOMER, "booking.customer_limit",
          lambda v: v.customer_active_bookings < limit_or_none(v.max_active_bookings),
          lambda v: Conflict("booking.customer_limit", (
              f"You have {v.customer_active_bookings} bookings of this to come already; "
              f"{v.max_active_bookings} is the most one customer may have."))),
    # Unpaid places held: one customer cannot hold a whole class while not paying.
    Guard("customer_hold_limit", CUSTOMER, "booking.hold_limit",
          lambda v: v.customer_held_places + v.quantity <= limit_or_none(v.max_held_places),
          lambda v: Conflict("booking.hold_limit", (
              f"At most {v.max_held_places} places may wait for payment per customer; "
              f"pay or cancel your other bookings of this first."),
              {"quantity": [f"At most {max(v.max_held_places - v.customer_held_places, 0)}."]})),
    Guard("slot_of_offering", SLOT, "booking.unknown_slot",
          lambda v: v.slot_offering_id == v.offering_id,
          lambda v: ValidationFailed("booking.unknown_slot", "No such slot for this offering.",
                                     {"slot_id": ["No such slot for this offering."]})),
    Guard("slot_offered", SLOT, "booking.slot_retired",
          lambda v: is_null(v.retired_at),
          lambda v: Conflict("booking.slot_retired", "That time is no longer offered.",
                             {"slot_id": ["No longer offered; choose another time."]})),
    Guard("slot_not_started", SLOT, "booking.slot_started",
          lambda v: v.starts_at > v.now,
          lambda v: Conflict("booking.slot_started", "That slot has already started.")),
    # Strictly after: with no notice this is "not started", which the statement relies on.
    Guard("slot_after_notice", SLOT, "booking.too_soon",
          lambda v: v.starts_at > v.earliest_start, _too_soon),
    Guard("slot_within_horizon", SLOT, "booking.too_far_ahead",
          lambda v: v.starts_at <= v.latest_start, _too_far_ahead),
    Guard("slot_has_room", SLOT, "booking.slot_full",
          lambda v: v.booked + v.quantity <= v.capacity, _slot_full),
)


# PostgreSQL's placing statement (app.services.booking_statement) runs only for offerings
# without per-customer limits, so it leaves those out; "not started" is in "after the
# notice" (a notice is never negative). Left out of it, they are still asked in Python
# when a statement takes nothing, in list order: the same refusals.
NOT_IN_STATEMENT = frozenset({"customer_booking_limit", "customer_hold_limit",
                              "slot_not_started"})


# Only in the statement run on its own: it places no resources' time, so it takes
# nothing for an offering that needs resources (a memory of its terms from before they
# were linked); the booking is then placed again, taking their time.
STATEMENT_ONLY = (
    Guard("no_resources_needed", OFFERING, "booking.resources_needed",
          lambda v: ~v.needs_resources,
          lambda v: Conflict("booking.resources_needed", "Placed with its resources.")),
)


def statement_guards(*, resources_after: bool = False) -> tuple[Guard, ...]:
    """The guards of the placing statement: :data:`GUARDS` but those above, and the
    statement's own. ``resources_after``: the caller takes the resources' time after
    the statement, in its transaction (an offering remembered as needing them)."""
    return _statement_guards(GUARDS, resources_after)


@lru_cache(maxsize=4)
def _statement_guards(guards: tuple[Guard, ...],
                      resources_after: bool = False) -> tuple[Guard, ...]:
    return tuple(guard for guard in guards
                 if guard.name not in NOT_IN_STATEMENT) + (
        () if resources_after else STATEMENT_ONLY)


def about(*subjects: str, guards=None) -> tuple[Guard, ...]:
    """The guards (of :data:`GUARDS` unless given) that check one of ``subjects``, in
    list order."""
    return tuple(guard for guard in (GUARDS if guards is None else guards)
                 if guard.about in subjects)


def check(guards, values: SimpleNamespace) -> None:
    """Raise the refusal of the first guard whose condition ``values`` fail."""
    for guard in guards:
        if not guard.holds(values):
            raise guard.refusal(values)


def conditions(guards, operands: SimpleNamespace) -> list:
    """Every guard's condition over SQL ``operands``: a WHERE clause."""
    return [guard.condition(operands) for guard in guards]
