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
