"""Bookings: what views, the API, jobs and other services call.

The work is done in modules of their own:

- :mod:`app.services.booking_rules`: the one list of rules a new booking must pass;
- :mod:`app.services.booking_placing`: ``place_booking`` (one path per database), built
  on :mod:`~app.services.booking_places` (the conditional UPDATE that takes places),
  :mod:`~app.services.booking_statement` (PostgreSQL's placing statement),
  :mod:`~app.services.booking_rows` and :mod:`~app.services.booking_terms`;
- :mod:`app.services.booking_lifecycle`: confirming, cancelling, completing, moving and
  expiring bookings, and the verbs payments and refunds use;
- :mod:`app.services.booking_states`: which transitions exist.
"""
from __future__ import annotations

from app.services.booking_lifecycle import (
    PAYMENT_GRACE,
    cancel_booking,
    cancel_own_booking,
    complete_booking,
    confirm_booking,
    confirm_paid,
    expire_holds,
    expire_unpaid,
    get_booking_for_update,
    get_own_booking_for_update,
    mark_no_show,
    mark_refunded,
    reschedule_booking,
    reschedule_own_booking,
    transition,
)
from app.services.booking_placing import (
    MAX_QUANTITY,
    REFERENCE_ATTEMPTS,
    BookingRequest,
    place_booking,
)
from app.services.booking_rows import (
    ATTRIBUTION_FIELDS,
    BOOKING_COLUMNS,
    REFERENCE_ALPHABET,
    PlacedBooking,
    new_reference,
)
from app.services.scopes import Actor, Scope

__all__ = [
    "ATTRIBUTION_FIELDS", "BOOKING_COLUMNS", "MAX_QUANTITY", "PAYMENT_GRACE",
    "REFERENCE_ALPHABET", "REFERENCE_ATTEMPTS", "Actor", "BookingRequest",
    "PlacedBooking", "Scope", "cancel_booking", "cancel_own_booking", "complete_booking",
    "confirm_booking", "confirm_paid", "expire_holds", "expire_unpaid",
    "get_booking_for_update", "get_own_booking_for_update", "mark_no_show",
    "mark_refunded", "new_reference", "place_booking", "reschedule_booking",
    "reschedule_own_booking", "transition",
]
