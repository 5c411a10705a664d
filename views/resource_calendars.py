"""The "Outside calendars" section of a resource's page: the iCal addresses whose busy
times block it, how each fetch went (in words, times on the provider's clock), and adding,
removing and fetching one now. The rules are in ``app.services.outside_calendars``; a
refusal is an error next to its field or a message, never an error page."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.forms import DynamicForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from app.errors import DomainError, NotFound
from app.models.resource_calendars import LABEL_LENGTH, URL_LENGTH
from app.models.types import MAX_ID
from app.services import display_formats, outside_calendars
from views.base import console_scope

PERMISSION = "calendars"  # "can_calendars" on the resources screen


class OutsideCalendarForm(DynamicForm):
    url = StringField("Calendar address (iCal)", validators=[
        DataRequired(message="Paste the calendar's iCal address."),
        Length(max=URL_LENGTH)])
    label = StringField("Name", validators=[Optional(), Length(max=LABEL_LENGTH)])


class OutsideCalendarsSection:
    """Mixed into the resources screen: its show page gets the section, and these
    routes (checked as ``can_calendars``) change it."""

    calendar_methods = {"add_calendar": PERMISSION, "remove_calendar": PERMISSION,
                        "fetch_calendar": PERMISSION}

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            kwargs["outside_calendars"] = self._calendars_section(
                kwargs["pk"], g.get("outside_calendar_form"))
        return super().render_template(template, **kwargs)

    @expose("/calendars/<int:pk>/add", methods=["POST"])
    @has_access
    def add_calendar(self, pk):
        _ids_that_can_exist(pk)
        form = OutsideCalendarForm()
        if form.validate():
            try:
                calendar = outside_calendars.add_calendar(
                    pk, scope=console_scope(), url=form.url.data, label=form.label.data or "")
            except NotFound:
                abort(404)
            except DomainError as exc:
                for field, messages in (exc.errors or {"url": [exc.message]}).items():
                    target = form.label if field == "label" else form.url
                    target.errors = [*target.errors, *messages]
            else:
                _flash_fetch(calendar, added=True)
                return redirect(self._back_to_page(pk))
        g.outside_calendar_form = form  # the page again, the errors next to the fields
        return self.show(pk)

    @expose("/calendars/<int:pk>/<int:calendar_id>/remove", methods=["POST"])
    @has_access
    def remove_calendar(self, pk, calendar_id):
        _ids_that_can_exist(pk, calendar_id)
        try:
            calendar = outside_calendars.get_calendar(pk, calendar_id, scope=console_scope())
            label = calendar.label
            outside_calendars.remove_calendar(pk, calendar_id, scope=console_scope())
        except NotFound:
            abort(404)
        flash(f"Removed {label}: its busy times no longer block this resource.", "success")
        return redirect(self._back_to_page(pk))

    @expose("/calendars/<int:pk>/<int:calendar_id>/fetch", methods=["POST"])
    @has_access
    def fetch_calendar(self, pk, calendar_id):
        _ids_that_can_exist(pk, calendar_id)
        try:
            before = outside_calendars.get_calendar(pk, calendar_id,
                                                    scope=console_scope()).fetched_at
            calendar = outside_calendars.request_fetch(pk, calendar_id, scope=console_scope())
        except NotFound:
            abort(404)
        _flash_fetch(calendar, done=calendar.fetched_at != before)
        return redirect(self._back_to_page(pk))

    def _back_to_page(self, pk) -> str:
        return url_for(f"{self.endpoint}.show", pk=pk) + "#outside-calendars"

    def _calendars_section(self, pk, form) -> dict | None:
        try:
            rows = outside_calendars.list_calendars(int(pk), scope=console_scope())
        except (NotFound, ValueError):
            return None
        resource = self.datamodel.get(int(pk), self._base_filters)
        zone = resource.provider.timezone if resource is not None else "UTC"
        upcoming = outside_calendars.next_busy_times([row.id for row in rows])
        return {
            "zone": zone, "form": form or OutsideCalendarForm(formdata=None),
            "most": outside_calendars.MAX_PER_RESOURCE,
            "calendars": [_shown(row, zone, upcoming[row.id]) for row in rows],
        }


def _ids_that_can_exist(*ids: int) -> None:
    """An id past the column's range names no row: a 404, not a database error."""
    if any(not 0 < row_id <= MAX_ID for row_id in ids):
        abort(404)


def _shown(calendar, zone: str, upcoming) -> dict:
    state = outside_calendars.state_of(calendar)
    words = state.words
    if state.status == "ok":  # the label says OK already
        words = words.removeprefix("OK · ") + \
            f" in the next {current_app.config['SLOT_DAYS_AHEAD']} days."
    return {
        "id": calendar.id, "label": calendar.label,
        "address": outside_calendars.masked_address(calendar.url),
        "status": state.status, "words": words,
        "fetched": display_formats.format_local_time(calendar.fetched_at, zone),
        "next_busy": [display_formats.format_local_span(begins, ends, zone)
                      for begins, ends in upcoming],
    }


def _flash_fetch(calendar, *, added: bool = False, done: bool = True) -> None:
    state = outside_calendars.state_of(calendar)
    what = f"Added {calendar.label}" if added else f"Fetched {calendar.label}"
    if state.status == "waiting" or not done:
        flash(f"{'Added' if added else 'Fetching'} {calendar.label}: it is fetched in a "
              "moment; reload this page to see how it went.", "info")
    elif state.status == "failing":
        flash(f"{what}, but it could not be fetched: {calendar.last_error}", "warning")
    else:
        flash(f"{what}: {state.words}.", "success")

