"""Providers: admins manage all; provider staff see and edit only their own profile."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget
from sqlalchemy import inspect
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from app.models import Provider
from app.services import images, search_indexing
from app.services.branding import normalise_brand_color
from app.services.validation import check_currency, check_timezone, normalise_phone
from views.base import TenantModelView, current_user, user_is_admin
from views.console import ConsoleInterface
from views.form_fields import timezone_select
from views.money_fields import currency_select
from views.picture_fields import (
    forget_replaced,
    logo_upload,
    remember_replaced,
    uploaded_bytes,
)


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
    add_columns = [
        "name", "slug", "timezone", "currency", "contact_email", "contact_phone", "active",
        "description", "brand_color",
    ]
    # A logo needs the provider's id: it is added once the provider exists.
    edit_columns = add_columns + ["logo_upload", "remove_logo"]
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
    add_form_extra_fields = {
        "timezone": timezone_select("Time zone"),
        "currency": currency_select("Currency"),
        "description": TextAreaField("Shop description", validators=[Optional(), Length(max=4000)],
                                     widget=BS3TextAreaFieldWidget()),
        "brand_color": StringField("Brand colour",
                                   validators=[Optional(), _validator(normalise_brand_color)],
                                   render_kw={"placeholder": "#1f6feb"}),
    }
    edit_form_extra_fields = {
        **add_form_extra_fields,
        "logo_upload": logo_upload(),
        "remove_logo": BooleanField("Remove the logo"),
    }
    description_columns = {
        "timezone": "Times are shown and typed in this zone.",
        "currency": "Prices are in this currency unless an offering names another.",
        "contact_phone": "E.164, e.g. +4930123456.",
        "description": "Shown on your page in the shop.",
        "brand_color": "A hex colour such as #1f6feb for your shop pages' header; the text "
                       "on it is black or white, whichever is easier to read.",
    }
    label_columns = {"description": "Shop description", "brand_color": "Brand colour"}

    def pre_update(self, item):
        super().pre_update(item)
        # Suspending or reinstating a provider is the platform's call: staff who could
        # flip ``active`` on their own profile could lift an admin's suspension.
        if not user_is_admin(current_user()) and inspect(item).attrs.active.history.has_changes():
            raise ValueError("Only a platform admin can activate or suspend a provider.")
        self._apply_logo(item)

    def pre_add(self, item):
        super().pre_add(item)
        item.brand_color = item.brand_color or None

    @staticmethod
    def _apply_logo(item):
        item.brand_color = item.brand_color or None
        data = uploaded_bytes(getattr(item, "logo_upload", None))
        if data is not None:
            remember_replaced(images.replace_logo(item, data))
        elif getattr(item, "remove_logo", False):
            remember_replaced(images.remove_logo(item))

    def post_update(self, item):
        forget_replaced()
        search_indexing.provider_changed(item.id)
