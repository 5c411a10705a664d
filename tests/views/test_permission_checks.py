"""The console answers its permission checks from one read of the roles' permissions per
request, with Flask-AppBuilder's rules unchanged: what a role may do, and nothing more."""
from __future__ import annotations

from sqlalchemy import event

from app.extensions import db
from app.services.roles import PROVIDER
from tests.views.console import signed_in


def _permission_queries(app, client, path: str) -> tuple[int, int]:
    seen = []

    def note(conn, cursor, statement, *args):
        if "ab_permission_view_role" in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        status = client.get(path).status_code
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return status, len(seen)


def test_a_console_page_reads_the_permissions_once(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    status, queries = _permission_queries(app, staff, "/")
    assert status == 200
    assert queries == 1  # one role, read once, however many menu items are checked


def test_staff_stay_out_of_admin_screens(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    assert staff.get("/users/list/").status_code in (302, 403)
    assert staff.get("/roles/list/").status_code in (302, 403)


def test_a_permission_taken_from_a_role_is_gone_on_the_next_request(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    assert staff.get("/bookingview/list/", follow_redirects=True).status_code == 200
    sm = app.appbuilder.sm
    with app.app_context():
        role = sm.find_role(PROVIDER)
        granted = sm.find_permission_view_menu("can_list", "BookingView")
        sm.del_permission_role(role, granted)
    try:
        assert staff.get("/bookingview/list/").status_code in (302, 403)
    finally:
        with app.app_context():
            sm.add_permission_role(sm.find_role(PROVIDER),
                                   sm.find_permission_view_menu("can_list", "BookingView"))
