"""The one tenant-scoped ModelView base every provider-owned console screen uses.

Provider staff see and change only their provider's rows: in lists, show/edit/delete by
id (``base_filters`` are applied to lookups by primary key too), the related-field
dropdowns of add, edit and search forms, and on save. Admins see everything.
"""
from __future__ import annotations

from flask import g
from flask_appbuilder import ModelView
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import false, inspect

from app.models import Provider


def current_user():
    return getattr(g, "user", None)


def user_is_admin(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_admin)


def user_provider_id(user) -> int | None:
    return getattr(user, "provider_id", None) if user is not None else None


class FilterOwnProvider(BaseFilter):
    """Rows of the signed-in user's provider; admins are not filtered; others see none."""

    name = "Own provider"
    arg_name = "own_provider"

    def apply(self, query, value):
        user = current_user()
        if user_is_admin(user):
            return query
        query, field = get_field_setup_query(query, self.model, self.column_name)
        provider_id = user_provider_id(user)
        if provider_id is None:
            return query.filter(false())
        return query.filter(field == provider_id)


def _tenant_column(model) -> str | None:
    """The column that names a model's provider, if the model is tenant-scoped."""
    if model is Provider:
        return "id"
    if "provider_id" in inspect(model).columns:
        return "provider_id"
    return None


def tenant_rel_filters(model) -> dict[str, list]:
    """Dropdown filters for every relationship of ``model`` that points at tenant rows."""
    filters = {}
    for rel in inspect(model).relationships:
        column = _tenant_column(rel.mapper.class_)
        if column is not None:
            filters[rel.key] = [[column, FilterOwnProvider, None]]
    return filters


class TenantModelView(ModelView):
    """Base for console screens over provider-owned rows."""

    tenant_column = "provider_id"

    def __init__(self, **kwargs):
        model = self.datamodel.obj
        self.base_filters = [[self.tenant_column, FilterOwnProvider, None]] + list(
            self.base_filters or []
        )
        rel_filters = tenant_rel_filters(model)
        for attr in (
            "add_form_query_rel_fields",
            "edit_form_query_rel_fields",
            "search_form_query_rel_fields",
        ):
            merged = dict(rel_filters)
            merged.update(getattr(self, attr) or {})
            setattr(self, attr, merged)
        super().__init__(**kwargs)

    def pre_add(self, item):
        self._pin_to_own_provider(item)

    def pre_update(self, item):
        self._pin_to_own_provider(item)

    def _pin_to_own_provider(self, item):
        # The dropdown already offers only the own provider; this holds against forged posts.
        user = current_user()
        if user_is_admin(user) or self.tenant_column != "provider_id":
            return
        item.provider_id = user_provider_id(user)


__all__ = ["FilterOwnProvider", "SQLAInterface", "TenantModelView", "tenant_rel_filters"]
