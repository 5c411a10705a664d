"""Choice and time fields for console forms: selects for every fixed set of values, and
the browser's own time and date pickers (HTML5 inputs, no script needed)."""
from __future__ import annotations

from zoneinfo import available_timezones

from flask_appbuilder.fieldwidgets import Select2Widget
from wtforms import DateField, SelectField, TimeField
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import DateInput, TimeInput

from app.models.availability import WEEKDAYS
from app.models.catalog import PRODUCT, SERVICE

KIND_LABELS = {SERVICE: "Service: booked in time slots", PRODUCT: "Product: sold from stock"}


def kind_select(label: str = "Kind") -> SelectField:
    return SelectField(label, choices=list(KIND_LABELS.items()), widget=Select2Widget(),
                       validators=[DataRequired()])


def timezone_select(label: str = "Time zone") -> SelectField:
    """Every IANA zone the services accept, searchable."""
    return SelectField(label, choices=sorted(available_timezones() | {"UTC"}),
                       widget=Select2Widget(), validators=[DataRequired()])


def weekday_select(label: str = "Weekday") -> SelectField:
    return SelectField(label, choices=list(enumerate(WEEKDAYS)), coerce=int,
                       widget=Select2Widget())


class _BootstrapInput:
    """Bootstrap's look for the browser's own inputs."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("class", "form-control")
        return super().__call__(field, **kwargs)


class BS3TimeInput(_BootstrapInput, TimeInput):
    pass


class BS3DateInput(_BootstrapInput, DateInput):
    pass


class ZonedTimeField(TimeField):
    """A local time of day; the console's forms label it with the zone it is in."""

    zoned = True

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators or [DataRequired()], format="%H:%M",
                         widget=BS3TimeInput(), **kwargs)


class ZonedDateField(DateField):
    """A local date; the console's forms label it with the zone it is in."""

    zoned = True

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators or [DataRequired()], widget=BS3DateInput(),
                         **kwargs)


def optional_date(label: str) -> ZonedDateField:
    return ZonedDateField(label, validators=[Optional()])


__all__ = ["KIND_LABELS", "ZonedDateField", "ZonedTimeField", "kind_select",
           "optional_date", "timezone_select", "weekday_select"]
