"""AuditLogView: staff read their own provider's trail only; admins read all of it."""
from __future__ import annotations

from tests.views.console import audit_entry, signed_in

A_MARK = "test.alpha_marker"
B_MARK = "test.beta_marker"
PLATFORM_MARK = "test.platform_marker"


def _trail(tenant_a, tenant_b) -> dict[str, int]:
    return {
        A_MARK: audit_entry(tenant_a.provider_id, A_MARK),
        B_MARK: audit_entry(tenant_b.provider_id, B_MARK),
        PLATFORM_MARK: audit_entry(None, PLATFORM_MARK),
    }


def test_staff_list_shows_own_provider_rows_only(app, tenant_a, tenant_b):
    _trail(tenant_a, tenant_b)
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get("/auditlogview/list/").get_data(as_text=True)

    assert A_MARK in page
    assert B_MARK not in page
    assert PLATFORM_MARK not in page
    assert tenant_b.name not in page


def test_staff_filtering_by_foreign_provider_finds_nothing(app, tenant_a, tenant_b):
    _trail(tenant_a, tenant_b)
    staff = signed_in(app, tenant_a.staff_email)

    response = staff.get(f"/auditlogview/list/?_flt_0_provider={tenant_b.provider_id}")

    assert response.status_code == 200
    assert B_MARK not in response.get_data(as_text=True)
    assert A_MARK not in response.get_data(as_text=True)  # the filter did apply


def test_staff_show_foreign_row_is_404(app, tenant_a, tenant_b):
    ids = _trail(tenant_a, tenant_b)
    staff = signed_in(app, tenant_a.staff_email)

    own = staff.get(f"/auditlogview/show/{ids[A_MARK]}")
    foreign = staff.get(f"/auditlogview/show/{ids[B_MARK]}")
    platform = staff.get(f"/auditlogview/show/{ids[PLATFORM_MARK]}")

    assert own.status_code == 200 and A_MARK in own.get_data(as_text=True)
    assert foreign.status_code == 404
    assert platform.status_code == 404


def test_admin_sees_every_row(app, tenant_a, tenant_b, admin_email):
    ids = _trail(tenant_a, tenant_b)
    admin = signed_in(app, admin_email)

    page = admin.get("/auditlogview/list/").get_data(as_text=True)
    foreign = admin.get(f"/auditlogview/show/{ids[B_MARK]}")

    assert A_MARK in page and B_MARK in page and PLATFORM_MARK in page
    assert foreign.status_code == 200 and B_MARK in foreign.get_data(as_text=True)


def test_audit_log_is_read_only_even_for_own_rows(app, tenant_a, tenant_b):
    ids = _trail(tenant_a, tenant_b)
    staff = signed_in(app, tenant_a.staff_email)

    for url in (f"/auditlogview/edit/{ids[A_MARK]}", f"/auditlogview/delete/{ids[A_MARK]}"):
        assert staff.post(url).status_code in (302, 403, 404), url
    assert staff.get(f"/auditlogview/show/{ids[A_MARK]}").status_code == 200
