"""Related-field dropdowns offer staff only their own provider's rows; admins get all."""
from __future__ import annotations

import pytest
from flask import g
from flask_appbuilder.models.sqla.filters import FilterEqual

from app.extensions import db
from app.models import Account, AuditLog, Provider
from tests.views.console import select_options, signed_in
from views.audit import AuditLogView
from views.base import FilterOwnProvider, TenantModelView, tenant_rel_filters
from views.console import ConsoleInterface


def _full_name(user_id: int) -> str:
    user = db.session.get(Account, user_id)
    return f"{user.first_name} {user.last_name}"


def _registered(app, view_class):
    return next(v for v in app.appbuilder.baseviews if isinstance(v, view_class))


def _choices(field) -> list[str]:
    return [str(label) for value, label, *_ in field.iter_choices() if value != "__None"]


@pytest.fixture
def acting_as_user(app):
    """Call with a user id: the rest of the test runs in a request signed in as that user."""
    contexts = []

    def enter(user_id: int) -> None:
        ctx = app.test_request_context()
        ctx.push()
        contexts.append(ctx)
        g.user = db.session.get(Account, user_id)

    yield enter
    for ctx in reversed(contexts):
        ctx.pop()


# --- real screens, over HTTP --------------------------------------------------------------

def test_audit_search_form_offers_staff_their_provider_and_colleagues(app, tenant_a, tenant_b):
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get("/auditlogview/list/")

    assert select_options(response, "provider") == [tenant_a.name]
    assert select_options(response, "actor") == [_full_name(tenant_a.staff_id)]


def test_audit_search_form_offers_admin_every_provider(app, tenant_a, tenant_b, admin_email):
    admin = signed_in(app, admin_email)

    response = admin.get("/auditlogview/list/")

    assert sorted(select_options(response, "provider")) == [tenant_a.name, tenant_b.name]
    assert _full_name(tenant_b.staff_id) in select_options(response, "actor")


def test_user_admin_form_offers_admin_every_provider(app, tenant_a, tenant_b, admin_email):
    admin = signed_in(app, admin_email)

    response = admin.get("/users/add")

    assert response.status_code == 200
    assert sorted(select_options(response, "provider")) == [tenant_a.name, tenant_b.name]


# --- the forms of registered screens, without HTTP ----------------------------------------

@pytest.mark.parametrize("form", ["add_form", "edit_form", "search_form"])
def test_audit_view_forms_filter_provider_for_staff(app, tenant_a, tenant_b, acting_as_user, form):
    acting_as_user(tenant_a.staff_id)
    fields = getattr(_registered(app, AuditLogView), form).refresh()

    if form == "search_form":
        assert _choices(fields.provider) == [tenant_a.name]
    else:  # staff never choose a provider on add and edit forms: their own is implied
        assert "provider" not in fields
    assert _choices(fields.actor) == [_full_name(tenant_a.staff_id)]


def test_audit_view_forms_offer_nothing_to_staff_without_provider(
    app, build, tenant_a, acting_as_user
):
    acting_as_user(build.staff(provider_id=None))
    fields = _registered(app, AuditLogView).search_form.refresh()

    assert _choices(fields.provider) == []
    assert _choices(fields.actor) == []


# --- the base class itself ----------------------------------------------------------------

def test_tenant_rel_filters_cover_every_relation_to_tenant_rows():
    filters = tenant_rel_filters(AuditLog)

    assert set(filters) == {"actor", "api_key", "provider"}
    assert filters["provider"] == [["id", FilterOwnProvider, None]]
    assert filters["actor"] == [["provider_id", FilterOwnProvider, None]]
    assert filters["api_key"] == [["provider_id", FilterOwnProvider, None]]
    assert tenant_rel_filters(Provider) == {}


class StaffAccountView(TenantModelView):
    """Test-only: a tenant screen with an editable provider relation and its own filter."""

    datamodel = ConsoleInterface(Account)
    add_columns = edit_columns = ["first_name", "last_name", "username", "email", "provider"]
    search_form_query_rel_fields = {"provider": [["active", FilterEqual, True]]}
    search_columns = ["provider"]


def test_own_dropdown_filters_add_to_the_tenant_filter(
    app_ctx, tenant_a, tenant_b, acting_as_user
):
    view = StaffAccountView()  # both providers are active: only the tenant filter hides B
    acting_as_user(tenant_a.staff_id)

    assert _choices(view.search_form.refresh().provider) == [tenant_a.name]


def test_save_pins_the_relation_not_only_the_column(app_ctx, tenant_a, tenant_b, acting_as_user):
    view = StaffAccountView()
    acting_as_user(tenant_a.staff_id)
    item = Account(email="forged@example.com", username="forged", first_name="F", last_name="G")
    item.provider = db.session.get(Provider, tenant_b.provider_id)  # as a forged form would

    view.pre_add(item)
    db.session.add(item)
    db.session.flush()

    assert item.provider_id == tenant_a.provider_id
    db.session.rollback()


def test_save_refused_for_staff_without_provider(app_ctx, build, tenant_a, acting_as_user):
    view = StaffAccountView()
    acting_as_user(build.staff(provider_id=None))
    item = Account(email="orphan@example.com", username="orphan", first_name="O", last_name="P")
    item.provider = db.session.get(Provider, tenant_a.provider_id)

    with pytest.raises(ValueError):
        view.pre_add(item)
