"""Console search filters that never send a value of the wrong type to the database."""
from __future__ import annotations

from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterNotEqual,
    SQLAFilterConverter,
    get_field_setup_query,
)
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


class ConsoleFilterConverter(SQLAFilterConverter):
    conversion_table = tuple(
        ("is_boolean", [FilterBooleanEqual, FilterBooleanNotEqual]) if test == "is_boolean"
        else (test, filters)
        for test, filters in SQLAFilterConverter.conversion_table
    )


class ConsoleInterface(SQLAInterface):
    """The data interface of every console screen."""

    filter_converter_class = ConsoleFilterConverter
