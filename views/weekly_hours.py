"""The weekly-hours editor: one screen per offering where staff set several weekdays and
several time ranges at once, with slot length and capacity, and the same screen without
them for a staff member's or a room's hours. Saving goes through
``app.services.weekly_hours`` (one transaction: rules replaced, slots regenerated) or
``app.services.resource_hours`` (hours replaced, shifts laid out again)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.forms import DynamicForm
from wtforms import FieldList, Form, FormField, IntegerField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.errors import NotFound, ValidationFailed
from app.models.availability import WEEKDAYS
from app.services import resource_hours, weekly_hours
from app.services.weekly_hours import TimeRange, WeeklyHours
from views.base import console_scope
from views.console_forms import zone_note
from views.form_fields import ZonedTimeField

EMPTY_ROWS = 2  # blank rows below the ranges, to add some without the script


class RangeForm(Form):
    """One row: a time range on the weekdays ticked."""

    days = SelectMultipleField(
        "Days", choices=[(i, name[:3]) for i, name in enumerate(WEEKDAYS)], coerce=int,
        widget=ListWidget(html_tag="ul", prefix_label=False), option_widget=CheckboxInput())
    start = ZonedTimeField("From", validators=[Optional()])
    end = ZonedTimeField("Until", validators=[Optional()])

    def is_blank(self) -> bool:
        return not self.days.data and self.start.data is None and self.end.data is None


class ResourceHoursForm(DynamicForm):
    ranges = FieldList(FormField(RangeForm), min_entries=1)


class WeeklyHoursForm(ResourceHoursForm):
    slot_minutes = IntegerField("Slot length (minutes)", widget=BS3TextFieldWidget(),
                                validators=[InputRequired(), NumberRange(min=1, max=24 * 60)])
    capacity = IntegerField("Places per slot", widget=BS3TextFieldWidget(),
                            validators=[InputRequired(), NumberRange(min=1, max=100_000)])


def rows_of(hours: WeeklyHours) -> list[dict]:
    """Ranges with the same times on several days shown as one row (Mon–Fri 09:00–12:00)."""
    days_by_times: dict = {}
    for span in sorted(hours.ranges, key=lambda r: (r.start, r.end, r.weekday)):
        days_by_times.setdefault((span.start, span.end), []).append(span.weekday)
    return [{"days": days, "start": start, "end": end}
            for (start, end), days in days_by_times.items()]


def hours_from(form: WeeklyHoursForm) -> tuple[WeeklyHours | None, list[str]]:
    """The week the form describes, or the rows that are incomplete."""
    ranges, problems = ranges_from(form)
    hours = WeeklyHours(tuple(ranges), form.slot_minutes.data, form.capacity.data)
    return (None if problems else hours), problems


def ranges_from(form: ResourceHoursForm) -> tuple[list[TimeRange], list[str]]:
    ranges, problems = [], []
    for number, row in enumerate(form.ranges, start=1):
        if row.form.is_blank():
            continue
        if not row.days.data or row.start.data is None or row.end.data is None:
            problems.append(f"Row {number}: tick at least one day and give both times.")
            continue
        ranges += [TimeRange(day, row.start.data, row.end.data) for day in row.days.data]
    return ranges, problems


def week_summary(ranges) -> str:
    """"Mon–Fri 09:00–13:00, 14:00–18:00 · Sat, Sun 10:00–14:00": the week in a line,
    weekdays with the same hours together."""
    by_day: dict[int, tuple] = {}
    for span in sorted(ranges):
        by_day[span.weekday] = by_day.get(span.weekday, ()) + (
            f"{span.start:%H:%M}–{span.end:%H:%M}",)
    days_by_hours: dict[tuple, list[int]] = {}
    for day, hours in sorted(by_day.items()):
        days_by_hours.setdefault(hours, []).append(day)
    return " · ".join(f"{_day_runs(days)} {', '.join(hours)}"
                      for hours, days in days_by_hours.items())


def _day_runs(days: list[int]) -> str:
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(WEEKDAYS[run[0]][:3] + (f"–{WEEKDAYS[run[-1]][:3]}" if len(run) > 2 else
                                           "".join(f", {WEEKDAYS[d][:3]}" for d in run[1:]))
                     for run in runs)


class WeeklyHoursView(BaseView):
    route_base = "/weeklyhours"
    default_view = "edit"
    # Whoever may edit an offering's hours may edit a staff member's.
    method_permission_name = {"edit": "edit", "resource": "edit"}

    @expose("/offering/<int:offering_id>", methods=["GET", "POST"])
    @has_access
    def edit(self, offering_id):
        scope = console_scope()
        try:
            offering = weekly_hours.offering_hours(scope=scope, offering_id=offering_id)
        except NotFound:
            abort(404)
        except ValidationFailed as exc:
            flash(exc.message, "warning")
            return redirect(url_for("OfferingView.list"))
        current = offering.hours

        def save(form):
            hours, problems = hours_from(form)
            if hours is None:
                return problems
            report = weekly_hours.replace_offering_hours(scope=scope, offering_id=offering_id,
                                                         hours=hours)
            flash(f"Opening hours saved: {report.created} new slots, "
                  f"{report.removed + report.retired} no longer offered.", "success")
            return redirect(url_for("WeeklyHoursView.edit", offering_id=offering_id))

        return self._week_screen(
            WeeklyHoursForm, {"ranges": rows_of(current), "slot_minutes": current.slot_minutes,
                              "capacity": current.capacity}, save,
            title=f"Opening hours: {offering.name}", offering=offering,
            zone_note=zone_note(offering.timezone))

    @expose("/resource/<int:resource_id>", methods=["GET", "POST"])
    @has_access
    def resource(self, resource_id):
        scope = console_scope()
        try:
            week = resource_hours.hours_of(resource_id, scope=scope)
        except NotFound:
            abort(404)

        def save(form):
            ranges, problems = ranges_from(form)
            if problems:
                return problems
            saved = resource_hours.replace_hours(resource_id, scope=scope, ranges=ranges)
            flash(f"Hours of {saved.name} saved: "
                  f"{week_summary(saved.ranges) or 'no set hours'}.", "success")
            return redirect(url_for("WeeklyHoursView.resource", resource_id=resource_id))

        return self._week_screen(
            ResourceHoursForm, {"ranges": rows_of(WeeklyHours(week.ranges, 1, 1))}, save,
            title=f"Working hours: {week.name}", resource=week,
            zone_note=zone_note(week.timezone))

    def _week_screen(self, form_class, current: dict, save, *, title: str, **context):
        """One flow for anyone's week: a posted form is saved by ``save`` (a redirect, or
        the problems in words; a refusal of the service's is shown the same way), a fresh
        screen shows ``current`` with blank rows below to add ranges without the script."""
        form = form_class()
        problems = []
        if request.method == "POST" and form.validate():
            try:
                outcome = save(form)
            except ValidationFailed as exc:
                outcome = list(exc.errors.get("ranges") or [exc.message])
            if not isinstance(outcome, list):
                return outcome
            problems = outcome
        elif request.method == "GET":
            form = form_class(formdata=None, data=current)
            for _ in range(EMPTY_ROWS):
                form.ranges.append_entry()
        else:
            problems = ["Some values are missing or not valid: see the marked fields."]
        return self.render_template("console/weekly_hours.html", title=title, form=form,
                                    problems=problems, weekdays=WEEKDAYS, **context)
