"""Console screens for messages: templates (overrides and platform defaults) and delivery.

Staff see and edit their own provider's template overrides only: a new override starts
from the platform default (leave the bodies empty), deleting it falls back to the
default. Admins also edit the platform defaults (rows without a provider). A template
that does not render is refused on save with the reason flashed. The delivery log is
read-only; "Send again" (failed messages only) creates a new message.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual
from markupsafe import Markup, escape
from wtforms import TextAreaField
from wtforms.validators import Optional, ValidationError

from app.errors import DomainError, NotFound
from app.models import Notification, NotificationTemplate
from app.models.notifications import CHANNELS, NOTIFICATION_STATUSES, TEMPLATE_KEYS
from app.services import notification_templates as templates
from app.services import notifications, template_catalog
from views.base import TenantModelView, console_scope
from views.console import (
    ConsoleInterface,
    choice_field,
    local_column,
    local_time,
    preformatted,
    status_badge,
    status_field,
    words_column,
)


def _renders(part: str):
    """A field validator: the part must render with the sample values (a form error
    next to the field, the typed text kept, instead of a refused save)."""
    def check(form, field):
        if field.data:
            try:
                templates.render_part_sample(part, field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
    return check


def _body(label: str, description: str = "", part: str = "body_text") -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), _renders(part)],
                         widget=BS3TextAreaFieldWidget(), description=description)


VARIABLES_HELP = "Variables: " + ", ".join("{{ %s }}" % name for name in templates.VARIABLES)


class NotificationTemplateView(TenantModelView):
    datamodel = ConsoleInterface(
        NotificationTemplate,
        display={"provider": lambda t: t.provider.name if t.provider else "(platform default)",
                 "updated_at": local_column("updated_at")},
        column_filters={"key": [FilterEqual], "channel": [FilterEqual]})
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete",
                        "can_preview"]
    method_permission_name = {"preview": "preview", "preview_action": "preview",
                              "preview_template": "preview", "customise": "add",
                              "edit_default": "edit", "revert": "delete"}
    list_title = "Message templates"
    show_title = "Message template"
    add_title = "Customise a message"
    edit_title = "Edit message template"
    list_columns = ["key", "channel", "locale", "provider", "subject", "updated_at"]
    show_columns = ["key", "channel", "locale", "provider", "subject", "body_text",
                    "body_html", "updated_at"]
    add_columns = ["key", "channel", "locale", "provider", "subject", "body_text",
                   "body_html"]
    edit_columns = ["subject", "body_text", "body_html"]
    search_columns = ["key", "channel", "locale"]
    order_columns = ["key", "channel", "locale", "updated_at"]
    base_order = ("key", "asc")
    formatters_columns = {"body_text": preformatted, "body_html": preformatted}
    add_form_extra_fields = {
        "key": choice_field("Message", TEMPLATE_KEYS),
        "channel": choice_field("Channel", CHANNELS),
        "body_text": _body("Text", "Leave empty to start from the platform default. "
                           + VARIABLES_HELP),
        "body_html": _body("HTML (email)", "Leave empty to start from the default."),
    }
    edit_form_extra_fields = {
        "body_text": _body("Text", VARIABLES_HELP),
        "body_html": _body("HTML (email)", part="body_html"),
    }
    validators_columns = {"subject": [_renders("subject")]}
    search_form_extra_fields = {"key": choice_field("Message", TEMPLATE_KEYS),
                                "channel": choice_field("Channel", CHANNELS)}
    description_columns = {"provider": "Staff: always your provider. Admins: leave empty "
                                       "to edit the platform default."}
    label_columns = {"key": "Message", "body_text": "Text", "body_html": "HTML (email)",
                     "updated_at": "Updated (local time)"}

    def pre_add(self, item):
        super().pre_add(item)
        item.locale = (item.locale or templates.DEFAULT_LOCALE).strip()
        if not (item.body_text or "").strip():
            default = templates.default_parts(item.key, item.channel, item.locale)
            item.subject = item.subject or default.subject
            item.body_text = default.body_text
            item.body_html = item.body_html or default.body_html
        self._check(item)

    def pre_update(self, item):
        super().pre_update(item)
        self._check(item)

    @staticmethod
    def _check(item):
        # Flask-AppBuilder flashes what pre_add/pre_update raise and saves nothing.
        try:
            templates.check_console_edit(item)
        except DomainError as exc:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items())
            raise ValueError(f"{exc.message}" + (f" ({details})" if details else "")) from None

    # --- the catalog: every platform default with the provider's override -----------

    @expose("/list/")
    @has_access
    def list(self):
        scope = console_scope()
        zone = "UTC" if scope.every_provider else _own_zone()
        return self.render_template(
            "notifications/console/catalog.html", title=self.list_title,
            entries=template_catalog.template_catalog(scope=scope),
            overrides=(template_catalog.provider_overrides(scope=scope)
                       if scope.every_provider else []),
            admin=scope.every_provider, local=lambda moment: local_time(moment, zone))

    @expose("/customise", methods=["POST"])
    @has_access
    def customise(self):
        """Staff: their override of a default (created from the default's text), to edit."""
        try:
            pk = template_catalog.customise_template(**_default_args(request.form),
                                                     scope=console_scope())
        except NotFound:
            abort(404)
        except DomainError as exc:
            flash(exc.message, "danger")
            return redirect(url_for(f"{self.endpoint}.list"))
        return redirect(url_for(f"{self.endpoint}.edit", pk=pk))

    @expose("/edit_default", methods=["POST"])
    @has_access
    def edit_default(self):
        """Admins: the platform default itself, to edit."""
        try:
            pk = template_catalog.edit_default(**_default_args(request.form),
                                               scope=console_scope())
        except NotFound:
            abort(404)
        return redirect(url_for(f"{self.endpoint}.edit", pk=pk))

    @expose("/preview_template")
    @has_access
    def preview_template(self):
        """What a message looks like for this provider now (its override, else the
        default), with sample values."""
        args = _default_args(request.args)
        try:
            rendered = template_catalog.preview_in_force(**args, scope=console_scope())
            error = None
        except NotFound:
            abort(404)
        except DomainError as exc:  # a broken override: say why, never a 500
            rendered, error = None, exc.message
        return self.render_template(
            "notifications/console/preview_in_force.html", rendered=rendered, error=error,
            html_frame=html_preview(rendered.body_html if rendered else None),
            title="Preview: " + template_catalog.template_name(**args))

    @expose("/revert/<int:pk>", methods=["GET", "POST"])
    @has_access
    def revert(self, pk):
        """Delete the provider's override (after a confirmation page): back to the default."""
        scope = console_scope()
        try:
            row = template_catalog.get_override(pk, scope=scope)
            name = template_catalog.template_name(row.key, row.channel, row.locale)
            if request.method == "POST":
                template_catalog.revert_template(pk, scope=scope)
                flash(f"{name}: back to the platform default.", "success")
                return redirect(url_for(f"{self.endpoint}.list"))
        except NotFound:
            abort(404)
        return self.render_template("notifications/console/revert.html",
                                    title="Revert to the default", name=name)

    @action("preview_action", "Preview", "", "fa-eye", multiple=False)
    def preview_action(self, item):
        return redirect(url_for(f"{self.endpoint}.preview", pk=item.id))

    @expose("/preview/<int:pk>", methods=["GET", "POST"])
    @has_access
    def preview(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        source = {"subject": item.subject, "body_text": item.body_text,
                  "body_html": item.body_html}
        if request.method == "POST":  # try an edit without saving it
            source.update({k: request.form.get(k) for k in source if k in request.form})
        error, rendered = None, None
        try:
            rendered = templates.preview(key=item.key, channel=item.channel,
                                         locale=item.locale, **source)
        except DomainError as exc:
            error = exc.message + " " + "; ".join(
                f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items())
        return self.render_template(
            "notifications/console/preview.html", item=item, source=source,
            rendered=rendered, error=error, variables=templates.VARIABLES,
            html_frame=html_preview(rendered.body_html if rendered else None),
            title="Preview: " + template_catalog.template_name(item.key, item.channel,
                                                               item.locale))


def _default_args(values) -> dict:
    """key, channel and locale of a platform default, from a form or the query string;
    missing ones are a 404 (no such default)."""
    found = {name: (values.get(name) or "").strip() for name in ("key", "channel", "locale")}
    if not all(found.values()) or any(len(value) > 40 for value in found.values()):
        abort(404)
    return found


def _own_zone() -> str:
    provider = getattr(getattr(g, "user", None), "provider", None)
    return provider.timezone if provider is not None else "UTC"


class NotificationView(TenantModelView):
    datamodel = ConsoleInterface(
        Notification,
        display={"created_at": local_column("created_at"), "sent_at": local_column("sent_at"),
                 "next_attempt_at": local_column("next_attempt_at"),
                 "updated_at": local_column("updated_at"),
                 "template_key": words_column("template_key"),
                 "channel": words_column("channel")},
        column_filters={"status": [FilterEqual, FilterNotEqual],
                        "channel": [FilterEqual, FilterNotEqual],
                        "template_key": [FilterEqual]})
    base_permissions = ["can_list", "can_show", "can_send_again"]
    method_permission_name = {"send_again": "send_again"}
    item_name = "message"
    list_title = "Delivery log"
    show_title = "Message"
    list_columns = ["created_at", "template_key", "channel", "recipient", "status",
                    "attempts", "error", "sent_at"]
    show_fieldsets = [
        ("Message", {"fields": ["template_key", "channel", "recipient", "locale", "booking",
                                "subject", "body_text", "body_html"]}),
        ("Delivery", {"fields": ["status", "attempts", "error", "provider_message_id",
                                 "delivery_status", "next_attempt_at", "created_at",
                                 "sent_at", "updated_at"]}),
    ]
    search_columns = ["status", "channel", "template_key", "recipient", "created_at"]
    search_form_extra_fields = {"status": status_field(NOTIFICATION_STATUSES),
                                "channel": choice_field("Channel", CHANNELS),
                                "template_key": choice_field("Message", TEMPLATE_KEYS)}
    order_columns = ["created_at", "status", "channel", "attempts", "sent_at"]
    base_order = ("created_at", "desc")
    formatters_columns = {"error": preformatted, "body_text": preformatted,
                          "body_html": preformatted, "status": status_badge}
    label_columns = {"template_key": "Message", "body_text": "Text",
                     "body_html": "HTML", "provider_message_id": "Provider message id",
                     "delivery_status": "Carrier status", "created_at": "Created (local time)",
                     "sent_at": "Sent (local time)", "next_attempt_at": "Next attempt",
                     "updated_at": "Updated (local time)"}

    @action("send_again", "Send again", "Send the selected failed messages again, as new "
            "messages?", "fa-repeat")
    def send_again(self, items):
        scope = console_scope()
        for item in items if isinstance(items, list) else [items]:
            item_id = item.id
            try:
                new_id = notifications.resend_notification(item_id, scope=scope)
            except DomainError as exc:
                flash(f"Message {item_id}: {exc.message}", "danger")
                continue
            flash(f"Message {item_id} sent again as message {new_id}.", "success")
        return redirect(self.get_redirect())


def html_preview(html: str | None) -> Markup:
    """An email's HTML shown in a sandboxed frame: its markup cannot touch the console."""
    if not html:
        return Markup("")
    return Markup(f'<iframe sandbox="" style="width:100%;min-height:320px;border:1px solid #ddd"'
                  f' srcdoc="{escape(html)}"></iframe>')
