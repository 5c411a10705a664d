"""A new password chosen in the console (one's own "Reset my password", or an admin's for
a user): the password rule applies, and the account's other sign-ins end."""
from __future__ import annotations

import time

from sqlalchemy import select

from app.extensions import db
from app.models import Account, AuditLog, SignInSession
from tests.helpers import console_login
from tests.views.console import console_client, page_text, signed_in

NEW_PASSWORD = "a-fresh-harbour-lantern"


def _going_sessions(account_id) -> int:
    return len(db.session.scalars(select(SignInSession).where(
        SignInSession.account_id == account_id, SignInSession.ended_at.is_(None))).all())


def test_staff_change_their_password_and_only_this_browser_stays(app, tenant_a):
    other_browser = signed_in(app, tenant_a.staff_email)
    time.sleep(1.05)  # a session started in the same second as the change would still count
    me = signed_in(app, tenant_a.staff_email)

    weak = me.post("/resetmypassword/form",
                   data={"password": "password123", "conf_password": "password123"})
    assert weak.status_code == 200 and "easy to guess" in page_text(weak)
    assert _going_sessions(tenant_a.staff_id) == 2

    changed = me.post("/resetmypassword/form",
                      data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert changed.status_code == 302
    assert me.get("/").status_code == 200  # this browser stays signed in
    assert other_browser.get("/").status_code == 302  # back to the sign-in page
    assert _going_sessions(tenant_a.staff_id) == 1
    actions = db.session.scalars(select(AuditLog.action)).all()
    assert "account.password_changed" in actions
    assert "account.sessions_ended_by_password_change" in actions
    assert console_login(console_client(app), tenant_a.staff_email,
                         NEW_PASSWORD).status_code == 302


def test_an_admins_new_password_for_staff_ends_all_their_sessions(app, tenant_a, admin_email):
    staff = signed_in(app, tenant_a.staff_email)
    time.sleep(1.05)
    admin = signed_in(app, admin_email)

    weak = admin.post(f"/resetpassword/form?pk={tenant_a.staff_id}",
                      data={"password": "short", "conf_password": "short"})
    assert weak.status_code == 200 and "at least 8 characters" in page_text(weak)
    assert staff.get("/").status_code == 200

    changed = admin.post(f"/resetpassword/form?pk={tenant_a.staff_id}",
                         data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert changed.status_code == 302
    assert staff.get("/").status_code == 302
    assert _going_sessions(tenant_a.staff_id) == 0
    assert admin.get("/").status_code == 200


def test_an_admin_adding_a_user_is_held_to_the_password_rule(app, admin_email):
    admin = signed_in(app, admin_email)
    form = {"first_name": "Nora", "last_name": "Kale", "username": "nora",
            "email": "nora@example.com", "active": "y",
            "roles": str(app.appbuilder.sm.find_role("Admin").id)}
    weak = admin.post("/users/add", data={**form, "password": "nora@example.com",
                                          "conf_password": "nora@example.com"})
    assert weak.status_code == 200 and "easy to guess" in page_text(weak)
    assert db.session.scalars(select(Account).where(Account.email == "nora@example.com")
                              ).first() is None
    strong = admin.post("/users/add", data={**form, "password": NEW_PASSWORD,
                                            "conf_password": NEW_PASSWORD})
    assert strong.status_code == 302
    assert console_login(console_client(app), "nora@example.com", NEW_PASSWORD).status_code == 302


def test_a_user_without_a_role_is_a_form_error(app, admin_email):
    admin = signed_in(app, admin_email)
    refused = admin.post("/users/add", data={
        "first_name": "Nora", "last_name": "Kale", "username": "nora",
        "email": "nora@example.com", "active": "y",
        "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert refused.status_code == 200 and "Choose at least one role." in page_text(refused)
