"""Console screen: the provider's API keys (Integrations → API keys; admins see every
provider's).

Staff make a key (a name, the scopes it holds, an optional last day), see it once on the
page that follows, and revoke it; the list shows each key's prefix, scopes, last use and
status, and a key's page its recent calls. The rules are in ``app.services.api_keys``.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import groupby

from flask import abort, flash, make_response, redirect, request, url_for
from flask_appbuilder import expose, has_access
from markupsafe import Markup

from app.errors import DomainError, NotFound
from app.models import ProviderApiKey
from app.services import agenda, api_keys, catalog_rules
from app.services.wall_clock import NoSuchLocalTime, utc_from_wall_clock
from views.base import TenantModelView, console_scope, current_user
from views.console import (ConsoleInterface, local_column, local_time, person,
                           provider_zone_of)

STATUS_LABELS = {api_keys.ACTIVE: "Active", api_keys.EXPIRED: "Expired",
                 api_keys.REVOKED: "Revoked"}
STATUS_TONES = {api_keys.ACTIVE: "success", api_keys.EXPIRED: "default",
                api_keys.REVOKED: "danger"}
SCOPE_LABELS = {s.name: s.label for s in api_keys.SCOPES}


def scope_groups() -> list[tuple[str, list[api_keys.KeyScope]]]:
    """The scopes by area, in the service's order: the form's checkbox groups."""
    return [(area, list(scopes)) for area, scopes in groupby(api_keys.SCOPES,
                                                             key=lambda s: s.area)]


def _status(key) -> Markup:
    status = api_keys.status_of(key)
    return Markup('<span class="label label-{0} status api-key-status">{1}</span>').format(
        STATUS_TONES[status], STATUS_LABELS[status])


def _scopes(key) -> Markup:
    return Markup("<br>").join(Markup('<span class="api-key-scope" title="{0}">{1}</span>')
                               .format(name, SCOPE_LABELS.get(name, name))
                               for name in key.scopes or ())


def _last_used(key) -> str:
    if key.last_used_at is None:
        return "Never"
    when = local_time(key.last_used_at, provider_zone_of(key))
    return f"{when} from {key.last_used_ip}" if key.last_used_ip else when


def _revoked(key) -> str:
    if key.revoked_at is None:
        return "Not revoked"
    when = local_time(key.revoked_at, provider_zone_of(key))
    return f"{when} by {person(key.revoked_by)}" if key.revoked_by else when


def _expires(key) -> str:
    return local_time(key.expires_at, provider_zone_of(key)) if key.expires_at else "Never"


class ApiKeyView(TenantModelView):
    route_base = "/api-keys"
    datamodel = ConsoleInterface(ProviderApiKey, display={
        "created_at": local_column("created_at"),
        "revoked_at": _revoked,
        "expires_at": _expires,
        "last_used_at": _last_used,
        "scopes": _scopes,
        "status": _status,
    })
    item_name, items_name = "API key", "API keys"
    list_template = "console/api_keys_list.html"
    show_template = "console/api_key_show.html"
    base_permissions = ["can_list", "can_show", "can_create", "can_revoke"]
    list_columns = ["name", "prefix", "status", "scopes", "last_used_at", "expires_at",
                    "created_by", "created_at", "provider"]
    show_columns = ["name", "prefix", "status", "scopes", "last_used_at", "expires_at",
                    "created_by", "created_at", "revoked_at", "provider"]
    search_columns = ["name", "prefix", "provider"]
    order_columns = ["name", "prefix", "created_at", "last_used_at", "expires_at"]
    base_order = ("created_at", "desc")
    label_columns = {"prefix": "Prefix", "status": "Status", "scopes": "May",
                     "last_used_at": "Last used", "expires_at": "Expires",
                     "created_by": "Made by", "created_at": "Made",
                     "revoked_at": "Revoked",
                     "provider": "Provider"}

    def render_template(self, template, **kwargs):
        if template == self.show_template and kwargs.get("pk") is not None:
            kwargs["calls"] = self._recent_calls(kwargs["pk"])
        return super().render_template(template, **kwargs)

    def _recent_calls(self, pk) -> dict:
        key = self._key(pk)
        zone = provider_zone_of(key)
        calls = api_keys.recent_calls(key.id, scope=console_scope())
        return {"zone": zone or "UTC", "most": api_keys.CALLS_SHOWN,
                "active": api_keys.status_of(key) == api_keys.ACTIVE,
                "rows": [{"at": local_time(c.at, zone), "method": c.method, "path": c.path,
                          "status": c.status_code, "ip": c.ip or ""} for c in calls]}

    def _key(self, pk) -> ProviderApiKey:
        if not str(pk).isdigit() or int(pk) > 2**31 - 1:
            abort(404)
        try:
            return api_keys.get_key(int(pk), scope=console_scope())
        except NotFound:
            abort(404)

    # --- making a key ------------------------------------------------------------------

    @expose("/create", methods=["GET", "POST"])
    @has_access
    def create(self):
        scope = console_scope()
        providers = agenda.agenda_providers() if scope.every_provider else []
        form = {"name": "", "scopes": [], "expires_on": "", "provider_id": "",
                "errors": {}}
        if request.method == "POST":
            form.update(name=request.form.get("name", ""),
                        scopes=request.form.getlist("scopes"),
                        expires_on=request.form.get("expires_on", ""),
                        provider_id=request.form.get("provider_id", ""))
            made = self._make(scope, form)
            if made is not None:
                row, key = made
                response = make_response(self.render_template(
                    "console/api_key_created.html", title="API key made", key=key, row=row,
                    scope_labels=[SCOPE_LABELS[s] for s in row.scopes],
                    expires=_expires(row)))
                # The key is on this page only: no browser or proxy may keep a copy.
                response.headers["Cache-Control"] = "no-store"
                return response
        zone = None if scope.every_provider else catalog_rules.provider_timezone(
            scope.provider_id)
        return self.render_template("console/api_key_form.html", title="Make an API key",
                                    form=form, groups=scope_groups(), providers=providers,
                                    zone=zone)

    def _make(self, scope, form):
        errors = form["errors"]
        provider_id = scope.provider_id
        if scope.every_provider:
            value = form["provider_id"]
            provider_id = int(value) if value.isdigit() and int(value) <= 2**31 - 1 else None
            if provider_id is None:
                errors["provider_id"] = "Choose the provider the key works for."
                return None
        expires_at = None
        if form["expires_on"]:
            zone = catalog_rules.provider_timezone(provider_id) or "UTC"
            try:
                # Works through the last day on the provider's clock, to the midnight after.
                expires_at = utc_from_wall_clock(datetime.combine(
                    date.fromisoformat(form["expires_on"]) + timedelta(days=1), time()), zone)
            except (ValueError, OverflowError, NoSuchLocalTime):
                errors["expires_on"] = "A date such as 2027-12-31."
                return None
        try:
            return api_keys.create_key(scope=scope, provider_id=provider_id,
                                       name=form["name"], scopes=form["scopes"],
                                       expires_at=expires_at,
                                       created_by_id=current_user().id)
        except NotFound:
            errors["provider_id"] = "No such provider."
        except DomainError as refused:
            for field, messages in (refused.errors or {"name": [refused.message]}).items():
                errors["expires_on" if field == "expires_at" else field] = " ".join(messages)
        return None

    # --- revoking ----------------------------------------------------------------------

    @expose("/revoke/<pk>", methods=["GET", "POST"])
    @has_access
    def revoke(self, pk):
        key = self._key(pk)
        if request.method == "POST":
            api_keys.revoke_key(key.id, scope=console_scope(), revoked_by_id=current_user().id)
            flash(f"The API key “{key.name}” is revoked: its next call is refused.",
                  "success")
            return redirect(url_for(f"{self.endpoint}.show", pk=key.id))
        return self.render_template("console/api_key_revoke.html", title="Revoke API key",
                                    key=key, status=api_keys.status_of(key))


__all__ = ["ApiKeyView", "scope_groups"]
