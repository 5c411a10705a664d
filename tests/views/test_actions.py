"""List and show actions act only on rows the signed-in user may see.

No console screen has actions yet (bookings, payments and refunds will); this module
mounts a test-only provider screen with one action on a second app over the same data.
"""
from __future__ import annotations

import pytest
from flask import redirect
from flask_appbuilder.actions import action

from app.models import Provider
from tests.views.console import provider_snapshot, second_app, signed_in
from views.base import TenantModelView
from views.console import ConsoleInterface

RENAMED = " (renamed)"


class ProviderActionView(TenantModelView):
    """Test-only: guarded by staff's ``can_edit`` on ProviderView, at its own URL."""

    datamodel = ConsoleInterface(Provider)
    tenant_column = "id"
    route_base = "/test/provider-actions"
    class_permission_name = "ProviderView"
    method_permission_name = {"rename": "edit"}

    @action("rename", "Rename")
    def rename(self, items):
        for item in items if isinstance(items, list) else [items]:
            item.name += RENAMED
        self.datamodel.session.commit()
        return redirect("/")


@pytest.fixture(scope="module")
def action_app(app, tmp_dir):
    return second_app(app, tmp_dir, views=[ProviderActionView])


def _name(provider_id: int) -> str:
    return provider_snapshot(provider_id)["name"]


def test_list_action_on_foreign_rows_is_404(action_app, tenant_a, tenant_b):
    staff = signed_in(action_app, tenant_a.staff_email)

    response = staff.post(
        "/test/provider-actions/action_post",
        data={"action": "rename", "rowid": [tenant_a.provider_id, tenant_b.provider_id]},
    )

    assert response.status_code == 404
    assert _name(tenant_b.provider_id) == tenant_b.name
    assert _name(tenant_a.provider_id) == tenant_a.name  # all or nothing


def test_list_action_on_own_rows_runs(action_app, tenant_a):
    staff = signed_in(action_app, tenant_a.staff_email)

    response = staff.post(
        "/test/provider-actions/action_post",
        data={"action": "rename", "rowid": [tenant_a.provider_id]},
    )

    assert response.status_code == 302
    assert _name(tenant_a.provider_id) == tenant_a.name + RENAMED


def test_single_action_on_foreign_row_is_404(action_app, tenant_a, tenant_b):
    staff = signed_in(action_app, tenant_a.staff_email)

    response = staff.post(f"/test/provider-actions/action/rename/{tenant_b.provider_id}")

    assert response.status_code == 404
    assert _name(tenant_b.provider_id) == tenant_b.name


def test_single_action_on_own_row_runs(action_app, tenant_a):
    staff = signed_in(action_app, tenant_a.staff_email)

    response = staff.post(f"/test/provider-actions/action/rename/{tenant_a.provider_id}")

    assert response.status_code == 302
    assert _name(tenant_a.provider_id) == tenant_a.name + RENAMED


def test_unknown_action_is_404_not_500(action_app, tenant_a):
    staff = signed_in(action_app, tenant_a.staff_email)

    response = staff.post(
        "/test/provider-actions/action_post",
        data={"action": "no-such-action", "rowid": [tenant_a.provider_id]},
    )

    assert response.status_code == 404


def test_admin_runs_the_action_on_any_provider(action_app, tenant_b, admin_email):
    admin = signed_in(action_app, admin_email)

    response = admin.post(
        "/test/provider-actions/action_post",
        data={"action": "rename", "rowid": [tenant_b.provider_id]},
    )

    assert response.status_code == 302
    assert _name(tenant_b.provider_id) == tenant_b.name + RENAMED
