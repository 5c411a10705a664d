"""Providers: admins manage all; provider staff see and edit only their own profile."""
from __future__ import annotations

from sqlalchemy import inspect
from wtforms.validators import Optional, ValidationError

from app.models import Provider
from app.services import search_indexing
from app.services.validation import check_currency, check_timezone, normalise_phone
from views.base import TenantModelView, current_user, user_is_admin
from views.console import ConsoleInterface
from views.form_fields import timezone_select
from views.money_fields import currency_select


def _validator(check):
    def validate(form, field):
        if field.data:
            try:
                field.data = check(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc

    return validate


class ProviderView(TenantModelView):
    """Providers: a change (name, active) reaches every offering in the search index."""
    datamodel = ConsoleInterface(Provider)
    tenant_column = "id"
    list_columns = ["name", "slug", "timezone", "currency", "contact_email", "active"]
    search_columns = ["name", "slug", "active"]
    add_columns = edit_columns = [
        "name", "slug", "timezone", "currency", "contact_email", "contact_phone", "active",
    ]
    show_columns = add_columns + ["created_at", "updated_at"]
    order_columns = ["name", "slug", "active"]
    validators_columns = {
        "timezone": [_validator(check_timezone)],
        "currency": [_validator(check_currency)],
        "contact_phone": [_validator(normalise_phone)],
        # Flask-AppBuilder requires input for every non-nullable column, and an unticked
        # checkbox sends none: without this a provider could never be suspended here.
        "active": [Optional()],
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "timezone": timezone_select("Time zone"),
        "currency": currency_select("Currency"),
    }
    description_columns = {
        "timezone": "Times are shown and typed in this zone.",
        "currency": "Prices are in this currency unless an offering names another.",
        "contact_phone": "E.164, e.g. +4930123456.",
    }

    def pre_update(self, item):
        super().pre_update(item)
        # Suspending or reinstating a provider is the platform's call: staff who could
        # flip ``active`` on their own profile could lift an admin's suspension.
        if not user_is_admin(current_user()) and inspect(item).attrs.active.history.has_changes():
            raise ValueError("Only a platform admin can activate or suspend a provider.")

    def post_update(self, item):
        search_indexing.provider_changed(item.id)
