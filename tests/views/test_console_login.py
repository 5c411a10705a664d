"""Console sign-in: staff and admins get in, customers never do."""
from __future__ import annotations

from tests.helpers import console_login
from tests.views.console import console_client, is_signed_in, signed_in


def test_customer_cannot_sign_in_to_the_console(app, build, tenant_a):
    client = console_client(app)

    response = console_login(client, build.email_of(build.customer()))
    listing = client.get("/providerview/list/")

    assert response.status_code == 302
    assert not is_signed_in(client)
    assert listing.status_code != 200
    assert tenant_a.name not in listing.get_data(as_text=True)


def test_admin_signs_in_and_sees_every_provider(app, tenant_a, tenant_b, admin_email):
    admin = signed_in(app, admin_email)

    listing = admin.get("/providerview/list/")

    assert listing.status_code == 200
    assert tenant_a.name in listing.get_data(as_text=True)
    assert tenant_b.name in listing.get_data(as_text=True)
    assert admin.get(f"/providerview/show/{tenant_b.provider_id}").status_code == 200


def test_admin_reaches_security_screens(app, tenant_a, admin_email):
    admin = signed_in(app, admin_email)

    users = admin.get("/users/list/")

    assert users.status_code == 200
    assert tenant_a.staff_email in users.get_data(as_text=True)
    assert admin.get("/roles/list/").status_code == 200


def test_sign_in_does_not_leak_to_another_client(app, tenant_a):
    signed_in(app, tenant_a.staff_email)
    stranger = console_client(app)

    listing = stranger.get("/providerview/list/")

    assert listing.status_code == 302
    assert tenant_a.name not in listing.get_data(as_text=True)


def _failed_sign_ins():
    from sqlalchemy import select

    from app.extensions import db
    from app.models import AuditLog

    return db.session.execute(
        select(AuditLog.entity_id, AuditLog.changes)
        .where(AuditLog.action == "account.sign_in_failed")).all()


def test_a_wrong_console_password_is_audited_under_the_account(app, app_ctx, tenant_a):
    client = console_client(app)

    console_login(client, tenant_a.staff_email, password="not the password")
    console_login(client, "nobody-here@example.com", password="not the password")

    assert not is_signed_in(client)
    [(entity_id, changes)] = _failed_sign_ins()
    assert entity_id == str(tenant_a.staff_id)
    assert changes["surface"] == "console" and changes["reason"] == "wrong_password"


def test_a_customer_at_the_console_is_audited_as_refused(app, app_ctx, build):
    client = console_client(app)

    console_login(client, build.email_of(build.customer()))

    [(_, changes)] = _failed_sign_ins()
    assert changes["reason"] == "no_console_role"
