"""Console search filters: one rule for typed times, and never a value of the wrong type.

Typed times mean one wall clock on every screen: provider staff type their provider's
local time; admins, whose lists mix providers, type UTC. Each time filter names its zone
("From (Europe/Berlin)"), and a typed offset ("10:00+02:00") is taken as written.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dateutil import parser as date_parser
from flask import g, has_app_context
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterNotEqual,
    SQLAFilterConverter,
    get_field_setup_query,
)

from app.models import Account
from app.services import agenda
from views.base import user_is_admin

TRUE_WORDS = {"y", "yes", "true", "1", "on"}


# --- typed times -------------------------------------------------------------------------

def typed_time_zone() -> str:
    """The zone a time typed into a console filter is read in: the provider's for staff,
    UTC for admins (and anyone without a provider)."""
    user = getattr(g, "user", None) if has_app_context() else None
    provider = getattr(user, "provider", None)
    if user is None or user_is_admin(user) or provider is None:
        return "UTC"
    return provider.timezone or "UTC"


def typed_moment(value) -> datetime | None:
    """Typed text ("2031-07-15", "2031-07-15 09:30") as an aware UTC moment, read in
    :func:`typed_time_zone` unless it carries an offset; None if it is no date-time."""
    try:
        moment = value if isinstance(value, datetime) else date_parser.parse(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=agenda.zone_of(typed_time_zone()))
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError, TypeError):
        return None


def typed_time_text(moment: datetime) -> str:
    """A moment as someone would type it into a time filter: "2031-07-15 09:30" on the
    :func:`typed_time_zone` wall clock, with the offset only where that wall clock is
    ambiguous (the hour repeated when the clocks go back), so it reads back the same."""
    local = moment.astimezone(agenda.zone_of(typed_time_zone()))
    text = local.strftime("%Y-%m-%d %H:%M")
    if typed_moment(text) != moment.astimezone(timezone.utc).replace(second=0, microsecond=0):
        text = local.strftime("%Y-%m-%d %H:%M%z")
        text = f"{text[:-2]}:{text[-2:]}"
    return text


class FilterTimeFrom(BaseFilter):
    """On or after a typed time. Flask-AppBuilder's own datetime filters send a naive
    datetime, which our UTC columns refuse (a 500). A value that is no time is ignored."""

    arg_name = "time_from"
    label = "From"

    @property
    def name(self) -> str:  # read when the search form is drawn, for the signed-in user
        return f"{self.label} ({typed_time_zone()})"

    def compare(self, field, moment):
        return field >= moment

    def apply(self, query, value):
        moment = typed_moment(value)
        if moment is None:
            return query
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(self.compare(field, moment))


class FilterTimeBefore(FilterTimeFrom):
    arg_name = "time_before"
    label = "Before"

    def compare(self, field, moment):
        return field < moment


TIME_FILTERS = [FilterTimeFrom, FilterTimeBefore]


class FilterRelatedTimeFrom(FilterTimeFrom):
    """A time of the related row (``related_time``, e.g. a waiting list entry's slot's
    ``starts_at``), on or after a typed time; read like every typed time."""

    related_time = "starts_at"
    arg_name = "related_time_from"

    def apply(self, query, value):
        moment = typed_moment(value)
        if moment is None:
            return query
        relation = getattr(self.model, self.column_name)
        target = relation.property.mapper.class_
        return query.filter(relation.has(self.compare(getattr(target, self.related_time),
                                                      moment)))


class FilterRelatedTimeBefore(FilterRelatedTimeFrom):
    arg_name = "related_time_before"
    label = "Before"

    def compare(self, field, moment):
        return field < moment


class FilterRelatedTimeAt(FilterRelatedTimeFrom):
    """At the typed minute (a link to one time's rows uses it)."""

    arg_name = "related_time_at"
    label = "At"

    def compare(self, field, moment):
        return (field >= moment) & (field < moment + timedelta(minutes=1))


RELATED_TIME_FILTERS = [FilterRelatedTimeFrom, FilterRelatedTimeBefore, FilterRelatedTimeAt]


# --- flags -------------------------------------------------------------------------------

def typed_flag(value) -> bool:
    # Flask-AppBuilder passes anything but "y" through as text, which PostgreSQL
    # refuses to compare with a boolean column (a 500 for ?_flt_0_active=zz).
    return str(value).strip().lower() in TRUE_WORDS


class FilterBooleanEqual(FilterEqual):
    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.is_(typed_flag(value)))


class FilterBooleanNotEqual(FilterNotEqual):
    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.is_not(typed_flag(value)))


# --- accounts ----------------------------------------------------------------------------

class FilterAccountEmailContains(BaseFilter):
    """A relation to an account, searched by the account's email."""

    name = "Email contains"
    arg_name = "email_ct"

    def apply(self, query, value):
        relation = getattr(self.model, self.column_name)
        return query.filter(relation.has(Account.email.icontains(str(value), autoescape=True)))


class FilterAccountEmailEqual(BaseFilter):
    name = "Email is"
    arg_name = "email_eq"

    def apply(self, query, value):
        relation = getattr(self.model, self.column_name)
        return query.filter(relation.has(Account.email.ilike(
            str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"),
            escape="\\")))


class FilterRelatedNameContains(BaseFilter):
    """A relation searched by the related row's name: a typed name instead of a dropdown
    of every row (a provider may have thousands of offerings; all of them, for admins)."""

    name = "Name contains"
    arg_name = "name_ct"

    def apply(self, query, value):
        relation = getattr(self.model, self.column_name)
        target = relation.property.mapper.class_
        return query.filter(relation.has(target.name.icontains(str(value), autoescape=True)))


# --- choosing filters --------------------------------------------------------------------

REPLACED = {"is_boolean": [FilterBooleanEqual, FilterBooleanNotEqual],
            "is_datetime": TIME_FILTERS}


class ConsoleFilterConverter(SQLAFilterConverter):
    """A screen's own filters for a column first (``column_filters`` of its interface),
    then ours for flags and times, then Flask-AppBuilder's."""

    conversion_table = tuple(
        (test, REPLACED.get(test, filters)) for test, filters in SQLAFilterConverter.conversion_table
    )

    def convert(self, col_name):
        custom = getattr(self.datamodel, "column_filters", {}).get(col_name)
        if custom is not None:
            return [flt(col_name, self.datamodel) for flt in custom]
        return super().convert(col_name)
