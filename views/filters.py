"""Console search filters that never send a value of the wrong type to the database."""
from __future__ import annotations

from datetime import datetime, timezone

from dateutil import parser as date_parser
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterGreater,
    FilterNotEqual,
    FilterSmaller,
    SQLAFilterConverter,
    get_field_setup_query,
)
from sqlalchemy import false
from flask_appbuilder.models.sqla.interface import SQLAInterface

TRUE_WORDS = {"y", "yes", "true", "1", "on"}


def _as_bool(value) -> bool:
    # Flask-AppBuilder passes anything but "y" through as text, which PostgreSQL
    # refuses to compare with a boolean column (a 500 for ?_flt_0_active=zz).
    return str(value).strip().lower() in TRUE_WORDS


class FilterBooleanEqual(FilterEqual):
    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.is_(_as_bool(value)))


class FilterBooleanNotEqual(FilterNotEqual):
    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.is_not(_as_bool(value)))


def _as_utc(value) -> datetime | None:
    """A typed date-time as aware UTC (a time without zone is taken as UTC); None if it
    is no date-time. A naive value would be refused by the UTC columns (a 500)."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = date_parser.parse(str(value))
        except (ValueError, OverflowError):
            return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _datetime_filter(base, compare):
    class Filter(base):
        def apply(self, query, value):
            query, field = get_field_setup_query(query, self.model, self.column_name)
            moment = _as_utc(value)
            return query.filter(false() if moment is None else compare(field, moment))

    Filter.__name__ = f"UTC{base.__name__}"
    return Filter


UTC_DATETIME_FILTERS = [
    _datetime_filter(FilterEqual, lambda field, v: field == v),
    _datetime_filter(FilterGreater, lambda field, v: field > v),
    _datetime_filter(FilterSmaller, lambda field, v: field < v),
    _datetime_filter(FilterNotEqual, lambda field, v: field != v),
]
REPLACED = {"is_boolean": [FilterBooleanEqual, FilterBooleanNotEqual],
            "is_datetime": UTC_DATETIME_FILTERS}


class ConsoleFilterConverter(SQLAFilterConverter):
    conversion_table = tuple(
        (test, REPLACED.get(test, filters)) for test, filters in SQLAFilterConverter.conversion_table
    )


class ConsoleInterface(SQLAInterface):
    """The data interface of every console screen."""

    filter_converter_class = ConsoleFilterConverter
