"""Console screens for resources: the staff, rooms and equipment a provider's services
need, their working hours (edited on the weekly-hours screen) and their time off. Saves
go through ``app.services.resources`` (its rules, its commit, the cache it refreshes);
the forms check the same rules first, so a broken rule is an error next to its field
rather than a refused save."""
from __future__ import annotations

from datetime import datetime

from flask import request, url_for
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from markupsafe import Markup, escape
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.models import Resource, ResourceBusy
from app.models.resources import RESOURCE_KINDS
from app.services import resource_hours, resources
from app.services.scopes import Scope
from views.base import TenantModelView, console_scope, current_user, user_provider_id
from views.console import ConsoleInterface, local_column
from views.console_forms import staff_zone
from views.form_fields import LocalMomentField
from views.resource_calendars import OutsideCalendarsSection
from views.weekly_hours import week_summary

MOMENT_FORMAT = "%Y-%m-%dT%H:%M"  # the browser's datetime-local value


def _provider_scope(provider_id: int | None) -> Scope:
    """The signed-in person's scope, narrowed to one provider for admins (a new resource
    belongs to one provider)."""
    scope = console_scope()
    if scope.every_provider and provider_id is not None:
        return Scope.of_provider(provider_id)
    return scope


def _provider_id_of(item) -> int | None:
    provider = getattr(item, "provider", None)
    return provider.id if provider is not None else item.provider_id


class ResourceInterface(ConsoleInterface):
    """Adds and edits through the resources service (it owns the commit)."""

    def add(self, item, commit: bool = True) -> None:
        provider_id = _provider_id_of(item)
        saved = resources.create_resource(scope=_provider_scope(provider_id),
                                          name=item.name, kind=item.kind)
        item.id = saved.id

    def edit(self, item, commit: bool = True) -> None:
        resources.update_resource(item.id, scope=console_scope(), name=item.name,
                                  kind=item.kind, active=bool(item.active))


def _same_name(name: str | None) -> str:
    return " ".join((name or "").split())


def _form_provider_id(form) -> int | None:
    """The provider a resource form saves for: the edited row's, the one an admin picked,
    or the signed-in staff's own."""
    pk = (request.view_args or {}).get("pk")
    if pk is not None:
        row = resources.get_resource(int(pk), scope=console_scope())
        return row.provider_id
    if "provider" in form:
        provider = form["provider"].data
        return provider.id if provider is not None else None
    return user_provider_id(current_user())


def _name_free(form, field) -> None:
    """One name per resource of a provider (the service's rule, said next to the field)."""
    name = _same_name(field.data)
    provider_id = _form_provider_id(form)
    if not name or provider_id is None:
        return
    pk = (request.view_args or {}).get("pk")
    for other in resources.list_resources(scope=Scope.of_provider(provider_id)):
        if other.name == name and str(other.id) != str(pk):
            raise ValidationError(f"There is a resource called “{name}” already.")


def time_off_link(resource) -> Markup:
    """A link to the resource's time off."""
    href = url_for("ResourceTimeOffView.list", _flt_0_resource=resource.id)
    return Markup(f'<a class="btn btn-xs btn-default resource-time-off-link" '
                  f'href="{escape(href)}"><i class="fa fa-plane"></i> Time off</a>')


def hours_link(resource) -> Markup:
    """The resource's weekly hours in a line, linking to their editor."""
    summary = week_summary(resource_hours.ranges_of(resource.id)) or "No set hours"
    href = url_for("WeeklyHoursView.resource", resource_id=resource.id)
    return Markup(f'<a class="resource-hours-link" href="{escape(href)}">'
                  f'<i class="fa fa-clock-o"></i> {escape(summary)}</a>')


class ResourceView(OutsideCalendarsSection, TenantModelView):
    """Who or what does a provider's services. Not deleted (their bookings keep them):
    made inactive instead. Its page lists the outside calendars whose busy times block
    it (``views.resource_calendars``)."""

    datamodel = ResourceInterface(Resource, display={
        "kind": lambda row: resources.kind_label(row.kind), "time_off": time_off_link,
        "hours": hours_link})
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_calendars"]
    method_permission_name = OutsideCalendarsSection.calendar_methods
    show_template = "console/resource_show.html"
    list_columns = ["name", "kind", "active", "offerings", "hours", "provider", "time_off"]
    show_columns = ["name", "kind", "active", "offerings", "hours", "provider", "created_at"]
    add_columns = ["provider", "name", "kind"]  # a new resource is active
    edit_columns = ["name", "kind", "active"]
    search_columns = ["name", "kind", "active", "provider"]
    order_columns = ["name", "kind"]
    base_order = ("name", "asc")
    label_columns = {"offerings": "Services", "hours": "Working hours", "time_off": "Time off",
                     "created_at": "Added"}
    add_form_extra_fields = edit_form_extra_fields = {
        "name": StringField("Name", validators=[DataRequired(), Length(max=resources.MAX_NAME),
                                                _name_free],
                            widget=BS3TextFieldWidget(),
                            description="As your team calls them, e.g. “Anna” or “Room 2”. "
                                        "Customers may see it when they choose who."),
        "kind": SelectField("Kind", choices=[(kind, resources.kind_label(kind))
                                             for kind in RESOURCE_KINDS],
                            widget=Select2Widget(), validators=[DataRequired()],
                            description="A service linked to several kinds needs one of "
                                        "each (a stylist and a chair)."),
        # Not a required box: unticked means inactive.
        "active": BooleanField("Active", default=True, description=(
            "Untick when they no longer work here: no new bookings are given to them; "
            "bookings they have keep them.")),
    }


class ResourceTimeOffInterface(ConsoleInterface):
    """Time off is added and deleted through the resources service."""

    def add(self, item, commit: bool = True) -> None:
        busy = resources.add_time_off(item.resource.id, scope=console_scope(),
                                      starts_at=item.starts_at, ends_at=item.ends_at,
                                      reason=item.reason or "")
        item.id = busy.id

    def delete(self, item, commit: bool = True) -> None:
        resources.delete_time_off(item.id, scope=console_scope())


def _resource_zone(form) -> str | None:
    """Times are typed on the clock of the chosen resource's provider (staff: their own,
    even before a resource is chosen)."""
    resource = form["resource"].data
    return resource.provider.timezone if resource is not None else staff_zone()


def _typed(field) -> datetime | None:
    try:
        return datetime.strptime(field.raw_data[0], MOMENT_FORMAT)
    except (IndexError, TypeError, ValueError):
        return None


def _after_start(form, field) -> None:
    # Both are typed on the same clock: compared as typed (the start is UTC by now).
    start, end = _typed(form["starts_at"]), _typed(field)
    if start is not None and end is not None and end <= start:
        raise ValidationError("The end must be after the start.")


def _moment(label: str, *extra) -> LocalMomentField:
    return LocalMomentField(label, [DataRequired(), *extra], zone_of_form=_resource_zone,
                            zone_of_row=lambda row: row.provider.timezone)


class FilterTypedByStaff(BaseFilter):
    """Time off typed by staff: busy times imported from outside calendars are shown on
    the resource's page, per calendar, and never edited here."""

    name = "Typed by staff"
    arg_name = "typed_by_staff"

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(field.is_(None))


class ResourceTimeOffView(TenantModelView):
    """Times a resource cannot be booked, typed and shown on the provider's clock."""

    datamodel = ResourceTimeOffInterface(ResourceBusy, display={
        column: local_column(column) for column in ("starts_at", "ends_at")})
    item_name, list_title = "resource time off", "Resource time off"
    items_name = "resource time off periods"
    base_permissions = ["can_list", "can_show", "can_add", "can_delete"]
    base_filters = [["calendar_id", FilterTypedByStaff, None]]
    list_columns = ["resource", "starts_at", "ends_at", "reason", "provider"]
    show_columns = list_columns
    add_columns = ["resource", "starts_at", "ends_at", "reason"]
    search_columns = ["resource", "provider"]
    order_columns = ["starts_at", "ends_at"]
    base_order = ("starts_at", "desc")
    label_columns = {"resource": "Who or what", "starts_at": "From", "ends_at": "Until"}
    description_columns = {"reason": "For your team: customers are not shown it."}
    add_form_extra_fields = {
        "starts_at": _moment("From"), "ends_at": _moment("Until", _after_start),
        "reason": StringField("Reason", validators=[Optional(), Length(max=200)],
                              widget=BS3TextFieldWidget()),
    }

    def pre_add(self, item):
        super().pre_add(item)
        # The time off belongs to the resource's provider, whoever adds it.
        if item.resource is not None:
            item.provider_id = item.resource.provider_id


__all__ = ["ResourceTimeOffView", "ResourceView", "time_off_link"]
