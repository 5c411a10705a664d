"""Providers: admins manage all; provider staff see and edit only their own profile."""
from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from wtforms.validators import ValidationError

from app.models import Provider
from app.services.validation import check_currency, check_timezone, normalise_phone
from views.base import TenantModelView


def _validator(check):
    def validate(form, field):
        if field.data:
            try:
                field.data = check(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc

    return validate


class ProviderView(TenantModelView):
    datamodel = SQLAInterface(Provider)
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
    }
    description_columns = {
        "timezone": "IANA zone, e.g. Europe/Berlin. Times are shown in this zone.",
        "currency": "ISO 4217 code, e.g. EUR.",
        "contact_phone": "E.164, e.g. +4930123456.",
    }
