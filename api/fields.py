"""Fields shared by the API's schemas."""
from __future__ import annotations

from datetime import datetime, timezone

import marshmallow as ma

from app.models.types import MAX_ID


def Id(**kwargs) -> ma.fields.Integer:  # noqa: N802 - used like a field class
    """A row id: a whole number from 1 to 2,147,483,647."""
    return ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID), **kwargs)


# Instants a client may ask about; outside, converting to UTC or adding a window can
# leave the range Python's datetime holds (0001-01-01T00:10+10:01 is before year 1 in UTC).
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def _plausible_instant(value: datetime) -> None:
    try:
        year = value.astimezone(timezone.utc).year
    except OverflowError:
        year = 0
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ma.ValidationError(f"Must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}.")


def Instant(**kwargs) -> ma.fields.AwareDateTime:  # noqa: N802 - used like a field class
    """A date and time with its offset, from 1970 to 2200."""
    return ma.fields.AwareDateTime(validate=_plausible_instant, **kwargs)
