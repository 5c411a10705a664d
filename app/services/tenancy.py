"""Tenant scoping for the API: the one place that decides which rows a caller may touch.

Every API endpoint over provider-owned rows goes through these helpers, so a foreign
provider's id answers 404 (never the row, never a 403 that would confirm it exists).
"""
from __future__ import annotations

from sqlalchemy import Select, select

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.services.roles import ADMIN, PROVIDER
from app.services.scopes import Scope, require_scope


def staff_provider_id(user) -> int:
    """The provider a staff member acts for; anyone else is refused."""
    if user is None or PROVIDER not in user.role_names or user.provider_id is None:
        raise Forbidden("tenancy.not_staff", "Only provider staff may do this.")
    return user.provider_id


def scope_for(user) -> Scope:
    """All providers for platform admins, the own provider for staff; others refused."""
    if user is not None and ADMIN in user.role_names:
        return Scope.all_providers()
    return Scope.of_provider(staff_provider_id(user))


def scoped(query: Select, model, *, scope: Scope) -> Select:
    """Restrict ``query`` to the rows of ``model`` that ``scope`` may touch."""
    return require_scope(scope).filter(query, model)


def get_owned(model, row_id, *, scope: Scope, label: str | None = None):
    """The row if it exists and ``scope`` may touch it; otherwise NotFound."""
    require_scope(scope)
    row = db.session.scalar(scoped(select(model).where(model.id == row_id), model,
                                   scope=scope))
    if row is None:
        name = label or model.__tablename__
        raise NotFound(f"{name}.not_found", f"No {name.replace('_', ' ')} with id {row_id}.")
    return row
