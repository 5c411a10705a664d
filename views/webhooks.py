"""Console screen "Webhooks" (Integrations): the addresses a provider's own systems are sent
their events at, each one's deliveries and every attempt of a delivery.

Every change goes through ``app.services.webhook_endpoints`` (its rules, tenancy, commit);
a refusal is an error next to its field or a plain message, never an error page. Staff see
their provider's endpoints only (another provider's, or a platform endpoint, is a 404 by
any address); admins see every provider's and the platform's, and create either.

A signing secret is shown in full once, on the page that answers the creation or the
rotation (the address is then changed to the endpoint's page, so reloading it shows the
page without the secret and repeats nothing); everywhere else it is masked.
"""
from __future__ import annotations

import json

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.widgets import ListWidget, ShowWidget
from markupsafe import Markup, escape
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.errors import DomainError, NotFound
from app.models.types import MAX_ID
from app.models.webhooks import (
    CANCELLED,
    DELIVERY_STATUSES,
    DESCRIPTION_LENGTH,
    FAILED,
    PENDING,
    SUCCEEDED,
    URL_LENGTH,
    WebhookEndpoint,
)
from app.services import webhook_console, webhook_endpoints
from app.services.webhook_endpoints import ALL_TOPICS, MAX_OVERLAP_HOURS
from app.services.webhook_topics import PUBLIC_TOPICS
from views.base import TenantModelView, console_scope, current_user, user_is_admin
from views.console import ConsoleInterface, local_time, status_badge

DELIVERIES_PAGE = 25
STATUS_LABELS = {PENDING: "Pending", SUCCEEDED: "Succeeded", FAILED: "Failed",
                 CANCELLED: "Cancelled"}
# How long the old secret keeps signing after a rotation: the choices offered.
OVERLAP_CHOICES = (("0", "Stop the old secret now"),
                   ("24", "Keep the old secret for 24 hours"),
                   ("168", "Keep the old secret for 7 days"))
DEFAULT_OVERLAP = "24"
ERROR_KINDS = {"timeout": "Timed out", "network": "Could not connect",
               "refused": "Address refused", "http": "Error answer",
               "redirect": "Redirect (not followed)"}
PLATFORM_WIDE = "Platform-wide"
PLATFORM_WIDE_CHOICE = "Platform-wide: every provider's events"


# --- values as people read them --------------------------------------------------------------

def zone_of(endpoint) -> str:
    """An endpoint's times are on its provider's clock; a platform endpoint's in UTC."""
    return endpoint.provider.timezone if endpoint.provider is not None else "UTC"


def when(moment, endpoint) -> str:
    return local_time(moment, zone_of(endpoint))


def owner_name(endpoint) -> str:
    return endpoint.provider.name if endpoint.provider is not None else PLATFORM_WIDE


def state_badge(endpoint) -> Markup:
    """Active, Failing since …, or Disabled (why, since when), as a coloured label."""
    state = webhook_console.state_of(endpoint)
    since = f" since {when(state.since, endpoint)}" if state.since else ""
    if state.status == webhook_console.DISABLED:
        return _cell("default", "webhook-disabled", "Disabled",
                     f'{state.reason.rstrip(".")}{since}')
    if state.status == webhook_console.FAILING:
        tries = f"{state.failures} failed attempt{'s' if state.failures != 1 else ''} in a row"
        return _cell("danger", "webhook-failing", f"Failing{since}", tries)
    return _cell("success", "webhook-active", "Active", "")


def _cell(tone: str, kind: str, label: str, note: str) -> Markup:
    """One element (a list's card lays out one per value): the label, the note below."""
    shown = Markup(f'<span class="label label-{tone} status webhook-state {kind}">'
                   f"{escape(label)}</span>")
    if note:
        shown += Markup(f' <span class="webhook-note webhook-state-why">{escape(note)}</span>')
    return Markup(f'<span class="webhook-cell">{shown}</span>')


def delivery_status(delivery, endpoint) -> Markup:
    """A delivery's status; a pending one says whether it waits for a retry, and when."""
    badge = status_badge(delivery.status, STATUS_LABELS)
    if delivery.status == PENDING and delivery.attempts and delivery.next_attempt_at:
        return badge + Markup(' <span class="webhook-next-try">retrying, next try '
                              f'{escape(when(delivery.next_attempt_at, endpoint))}</span>')
    if delivery.status == PENDING:
        return badge + Markup(' <span class="webhook-next-try">not sent yet</span>')
    if delivery.status == CANCELLED:
        return badge + Markup(' <span class="webhook-next-try">the endpoint was '
                              'disabled</span>')
    return badge


def answer_of(attempt) -> str:
    """An attempt's answer in a few words: "200", "500", "Timed out"."""
    if attempt is None:
        return "Not tried yet"
    if attempt.response_status is not None:
        return str(attempt.response_status)
    return ERROR_KINDS.get(attempt.error_kind, "No answer")


def last_delivery_column(endpoint) -> Markup:
    delivery = getattr(endpoint, "_latest_delivery", None)
    if delivery is None:
        return Markup('<span class="text-muted">No deliveries yet</span>')
    moment = delivery.last_attempt_at or delivery.created_at
    return Markup('<span class="webhook-cell">') + status_badge(
        delivery.status, STATUS_LABELS) + Markup(
        f' <span class="webhook-note webhook-last-when">{escape(when(moment, endpoint))}'
        "</span></span>")


def topics_list(endpoint) -> Markup:
    """Every subscribed topic by group, each by name and code."""
    topics = list(endpoint.topics or [])
    if ALL_TOPICS in topics:
        return Markup("All events, those added later too")
    parts = []
    for group in webhook_console.grouped_topics():
        chosen = [t for t in group.topics if t in topics]
        if chosen:
            items = "".join(f"<li>{escape(webhook_console.topic_label(t))} "
                            f'<code>{escape(t)}</code></li>' for t in chosen)
            parts.append(f"<li><strong>{escape(group.label)}</strong>"
                         f'<ul class="webhook-topic-names">{items}</ul></li>')
    return Markup(f'<ul class="list-unstyled webhook-topics">{"".join(parts)}</ul>')


def secret_column(endpoint) -> Markup:
    text = escape(webhook_endpoints.masked_secret(endpoint.secret))
    note = ""
    if endpoint.previous_secret and endpoint.previous_secret_expires_at:
        note = (f'<br><span class="text-muted">The previous secret '
                f"{escape(webhook_endpoints.masked_secret(endpoint.previous_secret))} also "
                f"signs until {escape(when(endpoint.previous_secret_expires_at, endpoint))}"
                "</span>")
    return Markup(f"<code>{text}</code>{note}")


def ordered_words(endpoint) -> str:
    return ("One at a time, in the order the events happened" if endpoint.ordered
            else "As they happen, several at once")


def _with_latest(items) -> None:
    latest = webhook_console.latest_deliveries([item.id for item in items])
    for item in items:
        item._latest_delivery = latest.get(item.id)


# --- forms -------------------------------------------------------------------------------------

def _some_topics(form, field) -> None:
    if not field.data:
        raise ValidationError("Choose at least one event, or All events.")


class EndpointForm(DynamicForm):
    url = StringField("Endpoint address (URL)", validators=[
        DataRequired(message="Type the address your system receives webhooks at."),
        Length(max=URL_LENGTH)])
    description = StringField("Description", validators=[Length(max=DESCRIPTION_LENGTH)])
    # Checkboxes (the template groups them); the service checks the names.
    topics = SelectMultipleField("Events to send", choices=[
        (ALL_TOPICS, "All events")] + [(t, t) for t in PUBLIC_TOPICS], validate_choice=False,
        validators=[_some_topics])
    ordered = BooleanField("Deliver in order")
    provider_id = SelectField("Whose events", choices=[], validate_choice=False)


class RotateForm(DynamicForm):
    overlap_hours = SelectField("When the old secret stops signing",
                                choices=list(OVERLAP_CHOICES), default=DEFAULT_OVERLAP)


def _provider_choices() -> list[tuple[str, str]]:
    providers = webhook_console.provider_names()
    return [("", PLATFORM_WIDE_CHOICE)] + [(str(pid), name) for pid, name in providers]


def _errors_onto(form, exc: DomainError) -> None:
    """A refusal's messages next to the fields they are about; the rest above the form."""
    fields = {"url": form.url, "topics": form.topics, "description": form.description,
              "ordered": form.ordered, "provider_id": form.provider_id}
    general = []
    for name, messages in (exc.errors or {}).items():
        field = fields.get(name)
        if field is None:
            general += list(messages)
        else:
            field.errors = [*field.errors, *messages]
    if not exc.errors:
        general.append(exc.message)
    form.general_errors = general


def _ids_that_can_exist(*ids) -> None:
    """Not a number, or past the column's range, an id names no row: a 404, not an
    error page."""
    if any(not str(row_id).isdigit() or not 0 < int(row_id) <= MAX_ID for row_id in ids):
        abort(404)


class DetailsWidget(ShowWidget):
    template = "console/webhook_show_widget.html"


class EndpointListWidget(ListWidget):
    """The list; the Provider column for admins only (staff's rows are all their own)."""

    def __init__(self, **kwargs):
        if not user_is_admin(current_user()):
            kwargs["include_columns"] = [c for c in kwargs.get("include_columns") or []
                                         if c != "provider"]
        super().__init__(**kwargs)


# --- the screen --------------------------------------------------------------------------------

class WebhookEndpointView(TenantModelView):
    """Webhook endpoints: list, add, edit, delete (through the service), their page with
    deliveries, and the buttons that send a test event, rotate the secret, disable and
    enable, redeliver."""

    datamodel = ConsoleInterface(
        WebhookEndpoint,
        display={
            "topics": lambda e: webhook_console.topics_summary(e.topics),
            "status": state_badge,
            "last_delivery": last_delivery_column,
            "provider": owner_name,
            "ordered": ordered_words,
            "secret": secret_column,
            "created_at": lambda e: when(e.created_at, e),
            "updated_at": lambda e: when(e.updated_at, e),
        },
        prefetch=_with_latest,
    )
    item_name = "webhook endpoint"
    list_title = "Webhooks"
    show_title = "Webhook endpoint"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete",
                        "can_manage"]
    method_permission_name = {"send_test": "manage", "rotate": "manage", "disable": "manage",
                              "enable": "manage", "redeliver": "manage", "delivery": "show"}
    show_template = "console/webhook_endpoint_show.html"
    show_widget = DetailsWidget
    list_widget = EndpointListWidget
    list_template = "console/webhook_endpoint_list.html"
    list_columns = ["url", "description", "topics", "status", "last_delivery", "provider"]
    show_columns = ["url", "description", "status", "topics", "ordered", "secret",
                    "provider", "created_at", "updated_at"]
    search_columns = ["url", "description", "active", "provider"]
    order_columns = ["url", "description"]
    base_order = ("id", "asc")
    label_columns = {"url": "Endpoint address", "description": "Description",
                     "topics": "Events", "status": "Status",
                     "last_delivery": "Last delivery", "provider": "Provider",
                     "ordered": "Delivery order", "secret": "Signing secret",
                     "active": "Active", "created_at": "Added", "updated_at": "Changed"}

    # --- the endpoint's page -----------------------------------------------------------------

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        """The details table shows every subscribed topic (the list shows a summary)."""
        widgets = widgets or {}
        values = self.datamodel.get_values_item(item, self.show_columns)
        values[self.show_columns.index("topics")] = topics_list(item)
        widgets["show"] = self.show_widget(
            pk=pk, label_columns=self.label_columns, include_columns=self.show_columns,
            value_columns=values, formatters_columns={}, actions={},
            fieldsets=show_fieldsets or self.show_fieldsets,
            modelview_name=self.__class__.__name__)
        return widgets

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            kwargs["hook"] = self._page_of(int(kwargs["pk"]))
        return super().render_template(template, **kwargs)

    def _page_of(self, pk: int) -> dict:
        scope = console_scope()
        endpoint = self._endpoint_or_404(pk)
        status = request.args.get("status") or None
        if status not in (None, *DELIVERY_STATUSES):
            status = None
        before = request.args.get("before", "")
        before_id = int(before) if before.isdigit() and 0 < int(before) <= MAX_ID else None
        deliveries = webhook_endpoints.list_deliveries(
            endpoint.id, scope=scope, status=status, limit=DELIVERIES_PAGE + 1,
            before_id=before_id)
        more = len(deliveries) > DELIVERIES_PAGE
        deliveries = deliveries[:DELIVERIES_PAGE]
        attempts = webhook_console.latest_attempts([d.id for d in deliveries])
        return {
            "endpoint": endpoint, "zone": zone_of(endpoint),
            "state": webhook_console.state_of(endpoint), "state_badge": state_badge(endpoint),
            "kept_days": current_app.config.get("WEBHOOK_LOG_DAYS"),
            "revealed": g.get("revealed_secret"),
            "rotate_form": RotateForm(formdata=None),
            "status": status, "statuses": [(s, STATUS_LABELS[s]) for s in DELIVERY_STATUSES],
            "deliveries": [{
                "id": d.id, "topic": webhook_console.topic_label(d.topic), "code": d.topic,
                "status": delivery_status(d, endpoint),
                "occurred": when(d.occurred_at, endpoint), "attempts": d.attempts,
                "answer": answer_of(attempts.get(d.id)),
            } for d in deliveries],
            "older": url_for(f"{self.endpoint}.show", pk=pk, status=status,
                             before=deliveries[-1].id) + "#deliveries" if more else None,
            "newest": url_for(f"{self.endpoint}.show", pk=pk, status=status) + "#deliveries"
            if before_id else None,
        }

    def _endpoint_or_404(self, pk) -> WebhookEndpoint:
        _ids_that_can_exist(pk)
        try:
            return webhook_endpoints.get_endpoint(int(pk), scope=console_scope())
        except NotFound:
            abort(404)

    def _show_url(self, pk, anchor: str = "") -> str:
        return url_for(f"{self.endpoint}.show", pk=pk) + anchor

    # --- add and edit ------------------------------------------------------------------------

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        is_admin = user_is_admin(current_user())
        form = EndpointForm()
        if is_admin:
            form.provider_id.choices = _provider_choices()
        else:
            del form["provider_id"]
        if request.method == "GET":
            form.topics.data = [ALL_TOPICS]
        if request.method == "POST" and form.validate():
            owner = None
            if is_admin and form.provider_id.data:
                owner = int(form.provider_id.data) if form.provider_id.data.isdigit() else -1
            try:
                endpoint = webhook_endpoints.create_endpoint(
                    scope=console_scope(), url=form.url.data, topics=form.topics.data or [],
                    description=form.description.data or "", ordered=form.ordered.data,
                    provider_id=owner)
            except DomainError as exc:
                _errors_onto(form, exc)
            else:
                flash(f"Webhook endpoint added: {endpoint.url}. Copy its signing secret now: "
                      "it is not shown again.", "success")
                g.revealed_secret = {"secret": endpoint.secret, "why": "created"}
                return self.show(endpoint.id)
        return self._form_page(form, title="Add webhook endpoint", endpoint=None)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        endpoint = self._endpoint_or_404(pk)
        if request.method == "GET":
            form = EndpointForm(formdata=None, obj=endpoint)
        else:
            form = EndpointForm()
        del form["provider_id"]  # an endpoint keeps its owner
        if request.method == "POST" and form.validate():
            try:
                webhook_endpoints.update_endpoint(
                    endpoint.id, scope=console_scope(), url=form.url.data,
                    topics=form.topics.data or [], description=form.description.data or "",
                    ordered=form.ordered.data)
            except NotFound:
                abort(404)
            except DomainError as exc:
                _errors_onto(form, exc)
            else:
                flash("Webhook endpoint saved.", "success")
                return redirect(self._show_url(endpoint.id))
        return self._form_page(form, title="Edit webhook endpoint", endpoint=endpoint)

    def _form_page(self, form, *, title: str, endpoint):
        chosen = set(form.topics.data or [])
        return self.render_template(
            "console/webhook_endpoint_form.html", title=title, form=form, endpoint=endpoint,
            groups=webhook_console.grouped_topics(), chosen=chosen, all_topics=ALL_TOPICS,
            labels=webhook_console.TOPIC_LABELS,
            general_errors=getattr(form, "general_errors", []),
            back=self._show_url(endpoint.id) if endpoint else url_for(f"{self.endpoint}.list"))

    # --- delete, with a page that says what goes -----------------------------------------------

    @expose("/delete/<pk>", methods=["GET", "POST"])
    @has_access
    def delete(self, pk):
        endpoint = self._endpoint_or_404(pk)
        if request.method == "POST":
            form = DynamicForm()
            if not form.validate():
                abort(400)
            url = endpoint.url
            try:
                webhook_endpoints.delete_endpoint(endpoint.id, scope=console_scope())
            except NotFound:
                abort(404)
            flash(f"Webhook endpoint deleted: {url} is sent no more events.", "success")
            return redirect(url_for(f"{self.endpoint}.list"))
        return self.render_template(
            "console/webhook_endpoint_delete.html", title="Delete webhook endpoint",
            endpoint=endpoint, back=self._show_url(endpoint.id))

    # --- buttons on the endpoint's page --------------------------------------------------------

    @expose("/test/<pk>", methods=["POST"])
    @has_access
    def send_test(self, pk):
        endpoint = self._endpoint_or_404(pk)
        try:
            delivery = webhook_endpoints.send_test_event(endpoint.id, scope=console_scope())
        except NotFound:
            abort(404)
        except DomainError as exc:
            flash(f"No test event sent: {exc.message}", "warning")
            return redirect(self._show_url(endpoint.id))
        _flash_sent("Test event", delivery)
        return redirect(self._show_url(endpoint.id, "#deliveries"))

    @expose("/rotate/<pk>", methods=["POST"])
    @has_access
    def rotate(self, pk):
        endpoint = self._endpoint_or_404(pk)
        form = RotateForm()
        if not form.validate():
            flash("Choose when the old secret stops signing.", "warning")
            return redirect(self._show_url(endpoint.id))
        try:
            hours = min(float(form.overlap_hours.data), MAX_OVERLAP_HOURS)
            endpoint = webhook_endpoints.rotate_secret(endpoint.id, scope=console_scope(),
                                                       overlap_hours=hours)
        except NotFound:
            abort(404)
        except (DomainError, ValueError) as exc:
            flash(f"The secret was not changed: {getattr(exc, 'message', exc)}", "warning")
            return redirect(self._show_url(endpoint.id))
        if endpoint.previous_secret_expires_at:
            flash("New signing secret made. The old one also signs until "
                  f"{when(endpoint.previous_secret_expires_at, endpoint)}: switch your "
                  "system over before then.", "success")
        else:
            flash("New signing secret made. The old one no longer signs.", "success")
        g.revealed_secret = {"secret": endpoint.secret, "why": "rotated"}
        return self.show(endpoint.id)

    @expose("/disable/<pk>", methods=["POST"])
    @has_access
    def disable(self, pk):
        endpoint = self._endpoint_or_404(pk)
        if not DynamicForm().validate():
            abort(400)
        webhook_endpoints.disable_endpoint(endpoint.id, scope=console_scope(),
                                           reason="Disabled by staff.")
        flash(f"Webhook endpoint disabled: {endpoint.url} is sent no events until you "
              "enable it. Deliveries that were waiting are cancelled.", "success")
        return redirect(self._show_url(endpoint.id))

    @expose("/enable/<pk>", methods=["POST"])
    @has_access
    def enable(self, pk):
        endpoint = self._endpoint_or_404(pk)
        if not DynamicForm().validate():
            abort(400)
        webhook_endpoints.enable_endpoint(endpoint.id, scope=console_scope())
        flash(f"Webhook endpoint enabled: new events are sent to {endpoint.url}. "
              "Redeliver any you missed from the Deliveries tab.", "success")
        return redirect(self._show_url(endpoint.id))

    # --- one delivery ----------------------------------------------------------------------------

    @expose("/delivery/<pk>/<delivery_id>", methods=["GET"])
    @has_access
    def delivery(self, pk, delivery_id):
        endpoint = self._endpoint_or_404(pk)
        detail = self._delivery_or_404(endpoint, delivery_id)
        delivery = detail.delivery
        return self.render_template(
            "console/webhook_delivery.html",
            title=f"Delivery: {webhook_console.topic_label(delivery.topic)}",
            endpoint=endpoint, delivery=delivery, zone=zone_of(endpoint),
            status=delivery_status(delivery, endpoint),
            topic=webhook_console.topic_label(delivery.topic),
            occurred=when(delivery.occurred_at, endpoint),
            created=when(delivery.created_at, endpoint),
            payload=_pretty(delivery.payload),
            attempts=[{
                "when": when(a.attempted_at, endpoint), "answer": answer_of(a),
                "status": a.response_status, "ok": a.error_kind is None,
                "duration": f"{a.duration_ms:,} ms" if a.duration_ms is not None else "",
                "error": a.error or "", "kind": ERROR_KINDS.get(a.error_kind, ""),
                "excerpt": a.response_excerpt or "",
                "headers": sorted((a.request_headers or {}).items()),
            } for a in detail.attempts],
            show_url=self._show_url(endpoint.id, "#deliveries"),
            list_url=url_for(f"{self.endpoint}.list"))

    @expose("/redeliver/<pk>/<delivery_id>", methods=["POST"])
    @has_access
    def redeliver(self, pk, delivery_id):
        endpoint = self._endpoint_or_404(pk)
        detail = self._delivery_or_404(endpoint, delivery_id)
        page = url_for(f"{self.endpoint}.delivery", pk=endpoint.id,
                       delivery_id=detail.delivery.id)
        if not DynamicForm().validate():
            abort(400)
        try:
            delivery = webhook_endpoints.redeliver(endpoint.id, detail.delivery.id,
                                                   scope=console_scope())
        except NotFound:
            abort(404)
        except DomainError as exc:
            flash(f"Not redelivered: {exc.message}", "warning")
            return redirect(page)
        _flash_sent("Redelivery", delivery)
        return redirect(page)

    def _delivery_or_404(self, endpoint, delivery_id):
        _ids_that_can_exist(delivery_id)
        try:
            return webhook_endpoints.get_delivery(endpoint.id, int(delivery_id),
                                                  scope=console_scope())
        except NotFound:
            abort(404)


def _flash_sent(what: str, delivery) -> None:
    """What became of a delivery sent just now: done already (sent in this request, as
    without a job queue), or on its way."""
    if delivery.status == SUCCEEDED:
        flash(f"{what} delivered: your endpoint answered with success.", "success")
    elif delivery.status == FAILED:
        flash(f"{what} failed: see its attempt for the answer.", "danger")
    elif delivery.attempts:
        flash(f"{what} not delivered yet: it is retried; see its attempts.", "warning")
    else:
        flash(f"{what} sent. It arrives in a moment: reload to see how it went.", "info")


def _pretty(payload: str) -> str:
    try:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return payload


__all__ = ["WebhookEndpointView"]
