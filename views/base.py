"""The one tenant-scoped ModelView base every provider-owned console screen uses.

Provider staff see and change only their provider's rows: in lists, show/edit/delete by
id (``base_filters`` are applied to lookups by primary key too), list and show actions
(which Flask-AppBuilder does not filter: see ``action``), the related-field dropdowns of
add, edit and search forms, and on save. Admins see everything.
"""
from __future__ import annotations

from flask import abort, g, redirect, request, session, url_for
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from sqlalchemy import BigInteger, Integer, false, inspect

from app.errors import Forbidden
from app.models import Provider
from app.models.types import MAX_ID
from app.services import tenancy
from app.services.scopes import Scope
from views.console_forms import ConsoleFormWidget, for_the_signed_in_person
from views.titles import PlainTitles


def current_user():
    return getattr(g, "user", None)


def user_is_admin(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_admin)


def user_provider_id(user) -> int | None:
    return getattr(user, "provider_id", None) if user is not None else None


def console_scope() -> Scope:
    """The rows the signed-in user acts on: every provider's for admins, the own
    provider's for staff; anyone else (staff without a provider) is refused with a 403."""
    user = current_user()
    try:
        return tenancy.scope_for(user if getattr(user, "is_authenticated", False) else None)
    except Forbidden:
        abort(403)


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


def chosen_provider_id() -> int | None:
    """The provider an admin chose on a per-provider screen (``provider_id`` in the query
    or the form), or None before choosing; a value no provider id can be is a 404."""
    value = request.values.get("provider_id", "")
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        abort(404)
    return int(value)


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


class ConsoleModelView(PlainTitles, ModelView):
    """Base for every console screen: titles in plain words (``item_name``)."""


class TenantModelView(ConsoleModelView):
    """Base for console screens over provider-owned rows."""

    tenant_column = "provider_id"
    # Forms adapt to the person signed in (no provider field for staff): views.console_forms.
    add_widget = ConsoleFormWidget
    edit_widget = ConsoleFormWidget

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
            # A screen's own dropdown filters are added to the tenant filter, never in its
            # place: replacing it would offer staff every provider's rows again.
            merged = {key: list(filters) for key, filters in rel_filters.items()}
            for key, filters in (getattr(self, attr) or {}).items():
                merged[key] = merged.get(key, []) + list(filters)
            setattr(self, attr, merged)
        super().__init__(**kwargs)
        self.add_form = for_the_signed_in_person(self.add_form)
        self.edit_form = for_the_signed_in_person(self.edit_form)

    # --- after a save, back to the list the person came from ---------------------------
    # Flask-AppBuilder goes "back" through one page history shared by every screen and
    # tab of the session, so a save could land on whatever list was opened last. Each
    # screen remembers its own list (with its filters, order and page) instead.

    def update_redirect(self):
        super().update_redirect()
        if request.endpoint == f"{self.endpoint}.list":
            session[self._list_key()] = request.full_path

    def post_add_redirect(self):
        return self._back_to_list()

    def post_edit_redirect(self):
        return self._back_to_list()

    def post_delete_redirect(self):
        return self._back_to_list()

    def _back_to_list(self):
        self.get_redirect()  # keeps Flask-AppBuilder's own history in step
        remembered = session.get(self._list_key())
        if not (isinstance(remembered, str) and remembered.startswith("/")
                and not remembered.startswith("//")):
            remembered = url_for(f"{self.endpoint}.list")
        return redirect(remembered)

    def _list_key(self) -> str:
        return f"list_url.{self.endpoint}"

    # Flask-AppBuilder loads the rows of an action by primary key *without* base_filters,
    # so staff could run a list or show action on another provider's rows by posting
    # their ids. Both routes are re-exposed to check every id against the filters first.
    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        self._require_action(name)
        self._require_visible([pk])
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        self._require_action(request.form["action"])
        self._require_visible(request.form.getlist("rowid"))
        return super().action_post()

    def _require_action(self, name):
        # An unknown action name is a 404, not Flask-AppBuilder's AttributeError (a 500).
        if name not in self.actions:
            abort(404)

    def _require_visible(self, pks):
        for pk in pks:
            pk = self._deserialize_pk_if_composite(pk)
            if self.datamodel.get(pk, self._base_filters) is None:
                abort(404)

    def _deserialize_pk_if_composite(self, pk):
        pk = super()._deserialize_pk_if_composite(pk)
        # Every by-id route comes through here. An id beyond the column's range names no
        # row, but PostgreSQL answers it with an error (a 500): make it a plain 404.
        if not _fits_integer_pk(self.datamodel, pk):
            abort(404)
        return pk

    def pre_add(self, item):
        self._pin_to_own_provider(item)

    def pre_update(self, item):
        self._pin_to_own_provider(item)

    def _pin_to_own_provider(self, item):
        # The dropdown already offers only the own provider; this holds against forged posts.
        user = current_user()
        if user_is_admin(user) or self.tenant_column != "provider_id":
            return
        provider_id = user_provider_id(user)
        if provider_id is None:
            # Raised errors are flashed by Flask-AppBuilder and nothing is saved.
            raise ValueError("Your account is not attached to a provider.")
        item.provider_id = provider_id
        # On flush a many-to-one relationship overwrites its foreign key column, so a
        # provider object set by the form would win over the id pinned above: pin both.
        # Loaded without a flush: the unchecked row must reach the rule checks first.
        with self.datamodel.session.no_autoflush:
            provider = self.datamodel.session.get(Provider, provider_id)
        for rel in _provider_relations(type(item)):
            setattr(item, rel.key, provider)


def _fits_integer_pk(datamodel, pk) -> bool:
    if datamodel.is_pk_composite():
        return True
    return fits_integer_column(datamodel, datamodel.get_pk_name(), pk)


def fits_integer_column(datamodel, column_name: str, value) -> bool:
    """Whether ``value`` could be stored in the column (for a relation: in the related
    row's id): False only for a whole number beyond an integer column's range (anything
    else is left to the caller)."""
    if datamodel.is_relation(column_name):
        related = datamodel.get_related_interface(column_name)
        if related.is_pk_composite():
            return True
        datamodel, column_name = related, related.get_pk_name()
    column = datamodel.list_columns.get(column_name)
    if column is None or not isinstance(getattr(column, "type", None), Integer):
        return True
    try:
        number = int(value)
    except (TypeError, ValueError):
        return True  # not a number: Flask-AppBuilder already finds no row for it
    bits = 63 if isinstance(column.type, BigInteger) else 31
    return -(2**bits) <= number < 2**bits


def _provider_relations(model):
    """Many-to-one relationships of ``model`` that set its ``provider_id`` column."""
    column = inspect(model).columns.get("provider_id")
    return [
        rel for rel in inspect(model).relationships
        if rel.mapper.class_ is Provider and any(c is column for c in rel.local_columns)
    ]


__all__ = ["ConsoleModelView", "FilterOwnProvider", "TenantModelView", "fits_integer_column", "tenant_rel_filters"]
