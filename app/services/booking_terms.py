"""Per process, by offering id: the terms the last booking of each offering was placed on.

On PostgreSQL a booking of a service is placed straight from these, without reading its
offering first: the placing statement re-checks every term (and every guard), so a stale
memory costs one more read and a retry, never a wrong booking. It saves a round trip per
booking (see ``docs/performance.md`` for what that is worth).
"""
from __future__ import annotations

import threading
from typing import NamedTuple


class OfferingTerms(NamedTuple):
    """What a booking takes from its offering and provider: every one of them but the
    zone is re-checked by the placing statement."""

    id: int
    kind: str
    price_minor: int
    currency: str
    provider_id: int
    pay_at_venue: bool
    tax_rate_bp: int
    tax_inclusive: bool
    # Per-customer limits: a booking of an offering with any is placed row by row.
    max_active_bookings: int | None
    max_held_places: int | None
    # Takes time of staff, rooms or equipment: on PostgreSQL the statement places it and
    # the resources are taken after it, in one transaction; elsewhere row by row.
    needs_resources: bool
    # Not re-checked: only the day in which "any available" counts bookings.
    provider_timezone: str | None

    @property
    def limits_customers(self) -> bool:
        return self.max_active_bookings is not None or self.max_held_places is not None

    @property
    def placed_row_by_row(self) -> bool:
        """Per-customer limits and resources are checked row by row, not in the single
        statement."""
        return self.limits_customers or bool(self.needs_resources)


REMEMBERED_OFFERINGS = 10_000
_remembered_terms: dict[int, OfferingTerms] = {}
_remembering = threading.Lock()  # threaded servers: one writer at a time


def remembered(offering_id: int) -> OfferingTerms | None:
    return _remembered_terms.get(offering_id)


def remember(values) -> OfferingTerms:
    """Keep the terms among ``values`` (a read of the offering) for the next booking."""
    terms = OfferingTerms(*(getattr(values, name) for name in OfferingTerms._fields))
    with _remembering:
        _remembered_terms.pop(terms.id, None)
        if len(_remembered_terms) >= REMEMBERED_OFFERINGS:
            del _remembered_terms[next(iter(_remembered_terms))]  # the longest unrefreshed
        _remembered_terms[terms.id] = terms
    return terms
