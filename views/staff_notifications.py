"""Console screen: which booking events the provider's staff are emailed about, and where.

Staff edit their own provider's settings; admins pick a provider first. The rules (valid
addresses, defaults, who receives what) are in ``app.services.staff_notifications``.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget
from flask_appbuilder.forms import DynamicForm
from wtforms import BooleanField, TextAreaField

from app.errors import DomainError, NotFound
from app.services import agenda, staff_notifications
from app.services.staff_notifications import EVENT_LABELS, EVENTS
from views.base import chosen_provider_id, console_scope


class StaffNotificationForm(DynamicForm):
    to_staff_accounts = BooleanField(
        "Send to the staff accounts",
        description="The email addresses of everyone who signs in to the console for "
                    "this provider.")
    extra_addresses = TextAreaField(
        "Also send to", widget=BS3TextAreaFieldWidget(),
        description="More email addresses, one per line (e.g. a shared front-desk "
                    "inbox).")


for _event, _label in EVENT_LABELS.items():
    setattr(StaffNotificationForm, f"on_{_event}", BooleanField(_label))


class StaffNotificationSettingsView(BaseView):
    route_base = "/staff-notifications"
    default_view = "settings"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def settings(self):
        scope = console_scope()
        provider_id = scope.provider_id if not scope.every_provider else chosen_provider_id()
        if provider_id is None:  # an admin who has not picked a provider yet
            return self.render_template(
                "console/provider_choice.html", title="Staff notifications",
                what="staff notifications", endpoint=f"{self.endpoint}.settings",
                providers=agenda.agenda_providers())
        try:
            current = staff_notifications.get_settings(provider_id, scope=scope)
        except NotFound:
            abort(404)
        form = StaffNotificationForm()
        if request.method == "GET":
            form.to_staff_accounts.data = current.to_staff_accounts
            form.extra_addresses.data = "\n".join(current.extra_addresses)
            for event in EVENTS:
                getattr(form, f"on_{event}").data = event in current.events
        elif form.validate_on_submit():
            try:
                staff_notifications.update_settings(
                    provider_id, scope=scope,
                    events={e for e in EVENTS if getattr(form, f"on_{e}").data},
                    to_staff_accounts=form.to_staff_accounts.data,
                    extra_addresses=form.extra_addresses.data or "")
            except DomainError as exc:  # nothing was saved: show why next to the field
                for field_name, messages in (exc.errors or {"extra_addresses": [exc.message]}
                                             ).items():
                    field = getattr(form, field_name, form.extra_addresses)
                    field.errors = [*field.errors, *messages]
            else:
                flash("Staff notifications saved.", "success")
                args = {"provider_id": provider_id} if scope.every_provider else {}
                return redirect(url_for(f"{self.endpoint}.settings", **args))
        return self.render_template(
            "console/staff_notifications.html", title="Staff notifications", form=form,
            settings=current, events=[f"on_{e}" for e in EVENTS],
            admin=scope.every_provider)


__all__ = ["StaffNotificationSettingsView"]
