"""ProviderView: staff see and edit only their own provider; never add, delete or admin."""
from __future__ import annotations

import pytest

from tests.views.console import (
    audit_rows,
    provider_count,
    provider_form,
    provider_snapshot,
    set_provider_active,
    signed_in,
)

REFUSED = (302, 403)  # Flask-AppBuilder: redirect to login, or 403 for a signed-in user


def test_staff_list_shows_own_provider_only(app, tenant_a, tenant_b):
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get("/providerview/list/")

    assert response.status_code == 200
    assert tenant_a.name in response.get_data(as_text=True)
    assert tenant_b.name not in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["show", "edit"])
def test_staff_get_foreign_provider_is_404(app, tenant_a, tenant_b, page):
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get(f"/providerview/{page}/{tenant_b.provider_id}")

    assert response.status_code == 404
    assert tenant_b.name not in response.get_data(as_text=True)


def test_staff_post_edit_foreign_provider_is_404_and_changes_nothing(app, tenant_a, tenant_b):
    before = provider_snapshot(tenant_b.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post(
        f"/providerview/edit/{tenant_b.provider_id}",
        data=provider_form(tenant_b.provider_id, name="Hijacked"),
    )

    assert response.status_code == 404
    assert provider_snapshot(tenant_b.provider_id) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_cannot_delete_foreign_provider(app, tenant_a, tenant_b, method):
    before = provider_snapshot(tenant_b.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    response = getattr(staff, method)(f"/providerview/delete/{tenant_b.provider_id}")

    assert response.status_code in REFUSED + (404,)
    assert provider_snapshot(tenant_b.provider_id) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_cannot_delete_own_provider(app, tenant_a, method):
    staff = signed_in(app, tenant_a.staff_email)

    response = getattr(staff, method)(f"/providerview/delete/{tenant_a.provider_id}")

    assert response.status_code in REFUSED
    assert provider_snapshot(tenant_a.provider_id) is not None


def test_staff_edits_own_provider_and_the_edit_is_audited(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post(
        f"/providerview/edit/{tenant_a.provider_id}",
        data=provider_form(tenant_a.provider_id, name="Alpha Spa & Sauna"),
    )

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert provider_snapshot(tenant_a.provider_id)["name"] == "Alpha Spa & Sauna"
    [entry] = audit_rows("provider.updated")
    assert entry.actor_id == tenant_a.staff_id
    assert entry.provider_id == tenant_a.provider_id
    assert entry.entity_id == str(tenant_a.provider_id)
    assert entry.changes["name"] == ["Alpha Spa", "Alpha Spa & Sauna"]


def test_staff_edit_with_invalid_timezone_changes_nothing(app, tenant_a):
    before = provider_snapshot(tenant_a.provider_id)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.post(
        f"/providerview/edit/{tenant_a.provider_id}",
        data=provider_form(tenant_a.provider_id, timezone="Mars/Olympus"),
    )

    assert response.status_code == 200  # the form again, with the error
    assert provider_snapshot(tenant_a.provider_id) == before
    assert audit_rows("provider.updated") == []


@pytest.mark.parametrize("active", [True, False])
def test_staff_cannot_suspend_or_reinstate_their_provider(app, tenant_a, active):
    set_provider_active(tenant_a.provider_id, not active)
    staff = signed_in(app, tenant_a.staff_email)

    staff.post(
        f"/providerview/edit/{tenant_a.provider_id}",
        data=provider_form(tenant_a.provider_id, active=active, name="Alpha Reborn"),
    )

    after = provider_snapshot(tenant_a.provider_id)
    assert after["active"] is (not active)
    assert after["name"] == tenant_a.name  # the whole edit was refused


@pytest.mark.parametrize("active", [True, False])
def test_admin_suspends_and_reinstates_providers(app, tenant_a, admin_email, active):
    set_provider_active(tenant_a.provider_id, not active)
    admin = signed_in(app, admin_email)

    response = admin.post(
        f"/providerview/edit/{tenant_a.provider_id}",
        data=provider_form(tenant_a.provider_id, active=active),
    )

    assert response.status_code == 302
    assert provider_snapshot(tenant_a.provider_id)["active"] is active


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_cannot_add_providers(app, tenant_a, method):
    count = provider_count()
    staff = signed_in(app, tenant_a.staff_email)

    if method == "get":
        response = staff.get("/providerview/add")
    else:
        response = staff.post(
            "/providerview/add", data=provider_form(tenant_a.provider_id, slug="forged")
        )

    assert response.status_code in REFUSED
    assert provider_count() == count


@pytest.mark.parametrize("url", ["/users/list/", "/users/add", "/roles/list/"])
def test_staff_cannot_reach_security_screens(app, tenant_a, url):
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get(url)

    assert response.status_code in REFUSED
    assert tenant_a.staff_email not in response.get_data(as_text=True)


def test_provider_role_without_provider_sees_nothing(app, build, tenant_a, tenant_b):
    orphan = signed_in(app, build.email_of(build.staff(provider_id=None)))

    listing = orphan.get("/providerview/list/")
    show = orphan.get(f"/providerview/show/{tenant_a.provider_id}")
    edit = orphan.post(
        f"/providerview/edit/{tenant_a.provider_id}",
        data=provider_form(tenant_a.provider_id, name="Orphaned"),
    )

    assert listing.status_code == 200
    assert tenant_a.name not in listing.get_data(as_text=True)
    assert tenant_b.name not in listing.get_data(as_text=True)
    assert show.status_code == 404
    assert edit.status_code == 404
    assert provider_snapshot(tenant_a.provider_id)["name"] == tenant_a.name
