from __future__ import annotations

from app.services.roles import ADMIN, CUSTOMER, PROVIDER, ROLE_PERMISSIONS, sync_roles


def _permission_sets(sm) -> dict[str, set[tuple[str, str]]]:
    return {
        role.name: {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
        for role in sm.get_all_roles()
    }


def test_sync_roles_is_idempotent(app_ctx):
    sm = app_ctx.appbuilder.sm
    before = _permission_sets(sm)

    report = sync_roles(app_ctx.appbuilder)

    assert (report.roles_created, report.permissions_added, report.permissions_removed) == (
        0, 0, 0)
    assert _permission_sets(sm) == before


def test_roles_hold_exactly_what_the_code_says(app_ctx):
    sets = _permission_sets(app_ctx.appbuilder.sm)
    assert sets[PROVIDER] == set(ROLE_PERMISSIONS[PROVIDER])
    assert sets[CUSTOMER] == set()
    assert ("can_edit", "ProviderView") in sets[PROVIDER]
    assert ("can_add", "ProviderView") not in sets[PROVIDER]
    assert ("can_delete", "ProviderView") not in sets[PROVIDER]
    assert {("can_add", "ProviderView"), ("can_list", "UserDBModelView"),
            ("can_list", "AuditLogView")} <= sets[ADMIN]


def test_sync_roles_repairs_drift(app_ctx):
    sm = app_ctx.appbuilder.sm
    role = sm.find_role(PROVIDER)
    grant = sm.find_permission_view_menu("can_delete", "ProviderView")
    sm.add_permission_role(role, grant)
    revoke = sm.find_permission_view_menu("can_list", "AuditLogView")
    sm.del_permission_role(role, revoke)

    report = sync_roles(app_ctx.appbuilder)

    assert (report.permissions_added, report.permissions_removed) == (1, 1)
    assert _permission_sets(sm)[PROVIDER] == set(ROLE_PERMISSIONS[PROVIDER])


def test_admins_hold_everything_but_the_staff_business_menu(app_ctx):
    from app.services.roles import ADMIN_WITHOUT

    sm = app_ctx.appbuilder.sm
    admin = _permission_sets(sm)[ADMIN]
    every = {(pv.permission.name, pv.view_menu.name)
             for pv in sm.session.query(sm.permissionview_model).all()}
    assert ("menu_access", "Business") in ADMIN_WITHOUT
    assert admin == every - ADMIN_WITHOUT
