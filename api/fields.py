"""Fields shared by the API's schemas."""
from __future__ import annotations

from datetime import date, datetime, timezone

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


class DateOrMoment(ma.fields.String):
    """A query bound: an ISO date (``2031-03-01``), a date and time without an offset, or
    one with it (``2031-03-01T09:00:00Z``); the service reads the first two in the
    provider's zone. Documented as a string."""

    default_error_messages = {
        "invalid": "Not an ISO 8601 date (2031-03-01) or date and time "
                   "(2031-03-01T09:00:00Z).",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            moment = date.fromisoformat(value) if len(value) == 10 \
                else datetime.fromisoformat(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if isinstance(moment, datetime) and moment.tzinfo is not None:
            _plausible_instant(moment)
        elif not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            # Checked before the service moves it to UTC, which could overflow.
            raise ma.ValidationError(
                f"Must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}.")
        return moment


class IsoMoment(ma.fields.AwareDateTime):
    """A moment the service already wrote as ISO 8601 UTC text (the public facts of a
    row, :mod:`app.services.public_facts`): dumped as it is, documented as a date-time."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if value is None or isinstance(value, str) \
            else super()._serialize(value, attr, obj, **kwargs)
