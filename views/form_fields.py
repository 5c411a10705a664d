"""Choice and time fields for console forms: selects for every fixed set of values, and
the browser's own time and date pickers (HTML5 inputs, no script needed)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from flask_appbuilder.fieldwidgets import Select2Widget
from wtforms import DateField, DateTimeLocalField, SelectField, TimeField
from wtforms.validators import DataRequired, Optional, ValidationError
from wtforms.widgets import DateInput, DateTimeLocalInput, TimeInput

from app.models.availability import WEEKDAYS
from app.models.catalog import PRODUCT, SERVICE
from app.services.wall_clock import NoSuchLocalTime, utc_from_wall_clock, wall_clock

KIND_LABELS = {SERVICE: "Service: booked in time slots", PRODUCT: "Product: sold from stock"}
KIND_NAMES = {SERVICE: "Service", PRODUCT: "Product"}  # in lists


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


__all__ = ["KIND_LABELS", "KIND_NAMES", "LocalMomentField", "ZonedDateField", "ZonedTimeField", "kind_select",
           "optional_date", "timezone_select", "weekday_select"]


class BS3DateTimeLocalInput(_BootstrapInput, DateTimeLocalInput):
    pass


class LocalMomentField(DateTimeLocalField):
    """A moment typed as a wall-clock date and time in the provider's zone, stored in UTC.

    ``zone_of_form(form)`` names the zone a typed time is in (read at validation, so a
    provider picked in the same form counts); ``zone_of_row(row)`` the zone a stored
    moment is shown in. After validation ``data`` is an aware UTC datetime.
    """

    zoned = True

    def __init__(self, label=None, validators=None, *, zone_of_form, zone_of_row, **kwargs):
        super().__init__(label, validators or [DataRequired()], format="%Y-%m-%dT%H:%M",
                         widget=BS3DateTimeLocalInput(), **kwargs)
        self.zone_of_form = zone_of_form
        self.zone_of_row = zone_of_row

    def show_stored(self, row) -> None:
        if isinstance(self.data, datetime) and self.data.tzinfo is not None:
            zone = self.zone_of_row(row)
            self.data = wall_clock(self.data, zone) if zone else None

    def post_validate(self, form, validation_stopped):
        if validation_stopped or self.errors or not isinstance(self.data, datetime) \
                or self.data.tzinfo is not None:
            return
        zone = self.zone_of_form(form)
        if not zone:
            raise ValidationError("Pick a provider first.")
        try:
            self.data = utc_from_wall_clock(self.data, zone)
        except NoSuchLocalTime as exc:
            raise ValidationError(str(exc)) from None
