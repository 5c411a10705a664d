"""The bookings calendar: day and week on a time grid, and moving a booking from it.

Thin: the layout comes from ``app.services.booking_calendar``, the free slots from
``reschedule_options.move_targets`` and the move itself is ``reschedule_booking``, the
call the API makes (same rules, same guarantee that no slot is overbooked). Staff see
their own provider only; an admin sees every provider or picks one. "Who" narrows the
calendar to one of the provider's staff, rooms or equipment; another provider's resource
is a 404, like another provider's offering.
"""
from __future__ import annotations

from datetime import date, timedelta
from itertools import groupby
from urllib.parse import urlencode

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access

from app.errors import DomainError
from app.models.types import MAX_ID
from app.services import agenda, booking_calendar, reschedule_options
from app.services.booking_calendar import DAY, WEEK
from app.services.bookings import Actor, Scope, reschedule_booking
from views.base import console_scope
from views.console import status_badge, status_text

CONSOLE_REASON = "console: moved on the calendar"
FILTERS = ("provider_id", "offering_id", "resource_id")  # kept while moving about


class BookingCalendarView(BaseView):
    """Bookings by time, one day or one week, with a panel to move a booking."""

    route_base = "/calendar"
    default_view = "week"
    class_permission_name = "BookingCalendarView"
    method_permission_name = {"day": "calendar", "week": "calendar",
                              "move_options": "reschedule", "move": "reschedule"}

    @expose("/day")
    @has_access
    def day(self):
        return self._render(DAY, "day")

    @expose("/week")
    @has_access
    def week(self):
        return self._render(WEEK, "week")

    @expose("/move/<reference>", methods=["GET"])
    @has_access
    def move_options(self, reference: str):
        """The free slots the booking can move to, in the provider's time (a panel)."""
        start = _date_arg("start")
        try:
            options = reschedule_options.move_targets(
                reference, scope=console_scope(), start_day=start)
        except DomainError:
            abort(404)
        template = ("console/calendar_move_panel.html" if request.args.get("fragment")
                    else "console/calendar_move.html")
        back = _calendar_args()
        step = timedelta(days=options.days)
        return self.render_template(
            template, options=options, back=back, back_url=_calendar_url(back),
            targets_by_day=[(day, list(targets)) for day, targets in groupby(
                options.targets, key=lambda target: target.starts_at.date())],
            back_args={key: value for key, value in back.items() if value},
            earlier=options.start_day - step, later=options.start_day + step,
            last_day=options.start_day + step - timedelta(days=1), title="Move a booking")

    @expose("/move/<reference>", methods=["POST"])
    @has_access
    def move(self, reference: str):
        back = _calendar_args(request.form)
        slot_id = request.form.get("slot_id", "")
        if not slot_id.isdigit() or not 0 < int(slot_id) <= MAX_ID:
            flash(f"{reference}: choose a free slot to move it to.", "danger")
            return redirect(_calendar_url(back))
        try:
            booking = reschedule_booking(reference, new_slot_id=int(slot_id),
                                         actor=Actor(g.user.id, CONSOLE_REASON),
                                         scope=console_scope())
        except DomainError as exc:  # the service rolled back: nothing changed
            flash(f"{reference}: not moved. {exc.message}", "danger")
            return redirect(_calendar_url(back))
        zone = agenda.zone_of(booking.provider.timezone if booking.provider else None)
        moved_to = booking.starts_at.astimezone(zone)
        flash(f"{reference} moved to {moved_to:%a %d %b %Y, %H:%M} {moved_to.tzname()}.",
              "success")
        return redirect(_calendar_url({**back, "at": moved_to.date()}))

    # --- rendering ----------------------------------------------------------------------

    def _render(self, days: int, kind: str):
        scope = console_scope()
        admin = scope.every_provider
        provider_id = _id_arg("provider_id") if admin else None
        if provider_id is not None:
            scope = Scope.of_provider(provider_id)  # an admin looks at one provider
        offering_id = _id_arg("offering_id")
        resource_id = _id_arg("resource_id")
        try:
            zone = agenda.provider_zone(scope.provider_id) if scope.provider_id else None
            if offering_id is not None:
                booking_calendar.check_offering(offering_id, scope=scope)
            if resource_id is not None:
                booking_calendar.check_resource(resource_id, scope=scope)
        except DomainError:
            abort(404)
        today = agenda.local_today(zone or _viewer_zone())
        shown = _date_arg("day" if kind == "day" else "week") or today
        first_day = shown if kind == "day" else booking_calendar.week_start(shown)
        narrowed = {"offering_id": offering_id, "resource_id": resource_id}
        try:
            view = booking_calendar.calendar_view(scope=scope, first_day=first_day,
                                                  days=days, **narrowed)
        except DomainError as exc:
            flash(exc.message, "danger")
            first_day = today if kind == "day" else booking_calendar.week_start(today)
            view = booking_calendar.calendar_view(scope=scope, first_day=first_day,
                                                  days=days, **narrowed)
        step = timedelta(days=days)
        filters = {"provider_id": provider_id, **narrowed}
        choices = booking_calendar.calendar_resources(scope=scope, keep=resource_id)
        who = next((choice.name for choice in choices if choice.resource_id == resource_id),
                   None)
        return self.render_template(
            "console/calendar.html", view=view, kind=kind, today=today,
            filters=filters, previous=first_day - step, following=first_day + step,
            providers=agenda.agenda_providers() if admin else None,
            offerings=booking_calendar.calendar_offerings(scope=scope),
            resource_groups=_resource_groups(choices), who=who,
            show_provider=admin and provider_id is None,
            status_badge=status_badge, status_text=status_text, movable=reschedule_options.MOVABLE,
            title="Calendar")


class BookingAgendaView(BaseView):
    """The old day agenda's address: it now opens the calendar's day."""

    route_base = "/bookings"
    default_view = "agenda"

    @expose("/agenda/")
    @has_access
    def agenda(self):
        args = {key: request.args[key] for key in ("day", "provider_id")
                if request.args.get(key)}
        return redirect(url_for("BookingCalendarView.day", **args))


RESOURCE_GROUPS = {"staff": "Staff", "room": "Rooms", "equipment": "Equipment"}


def _resource_groups(choices) -> list[tuple[str, list]]:
    """The "Who" choices by kind: [("Staff", [...]), ("Rooms", [...])]; one group without
    a heading ("") when the provider has staff only."""
    groups = [(RESOURCE_GROUPS.get(kind, kind.capitalize()), list(members))
              for kind, members in groupby(choices, key=lambda choice: choice.kind)]
    if len(groups) == 1 and groups[0][0] == RESOURCE_GROUPS["staff"]:
        return [("", groups[0][1])]
    return groups


def _viewer_zone() -> str | None:
    """"Today" without a chosen provider: the staff member's provider zone, else the
    account's own zone (an admin looking at every provider)."""
    user = getattr(g, "user", None)
    if user is None:
        return None
    provider = getattr(user, "provider", None)
    if provider is not None:
        return provider.timezone
    return getattr(user, "timezone", None)


def _id_arg(name: str, source=None) -> int | None:
    value = (source if source is not None else request.args).get(name, "")
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        abort(404)
    return int(value)


def _date_arg(name: str) -> date | None:
    value = request.args.get(name, "")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        flash(f"{value!r} is not a day (YYYY-MM-DD): showing today.", "warning")
        return None


def _calendar_args(source=None) -> dict:
    """Where the calendar was (view, day, provider, offering, who), to go back there."""
    source = source if source is not None else request.args
    kind = source.get("view") if source.get("view") in ("day", "week") else "week"
    return {"view": kind, "at": source.get("at", ""),
            **{key: _id_arg(key, source) for key in FILTERS}}


def _calendar_url(back: dict) -> str:
    kind = back["view"]
    args = {("day" if kind == "day" else "week"): str(back["at"] or "")}
    args.update({key: back[key] for key in FILTERS if back[key]})
    args = {key: value for key, value in args.items() if value}
    path = url_for(f"BookingCalendarView.{kind}")
    return f"{path}?{urlencode(args)}" if args else path


__all__ = ["BookingAgendaView", "BookingCalendarView"]
