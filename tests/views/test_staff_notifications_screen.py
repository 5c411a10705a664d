"""The staff notifications screen: staff edit their own provider's, admins any provider's."""
from __future__ import annotations

from app.extensions import db
from app.services import staff_notifications
from app.services.scopes import Scope
from tests.views.console import page_text, signed_in

SCREEN = "/staff-notifications/"


def form(**changes):
    values = {"on_new": "y", "on_awaiting_confirmation": "y", "on_cancelled": "y",
              "on_rescheduled": "y", "to_staff_accounts": "y", "extra_addresses": ""}
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def settings_of(provider_id):
    db.session.expire_all()
    return staff_notifications.get_settings(provider_id, scope=Scope.of_provider(provider_id))


def test_staff_see_their_defaults_and_save(app, tenant_a, tenant_b):
    client = signed_in(app, tenant_a.staff_email)
    page = page_text(client.get(SCREEN))
    assert "Alpha Spa" in page and "Beta Barbers" not in page
    assert tenant_a.staff_email in page  # the staff accounts that receive them today
    response = client.post(SCREEN, data=form(on_new=None, to_staff_accounts=None,
                                             extra_addresses="Desk@Alpha.example\n"),
                           follow_redirects=True)
    assert response.status_code == 200 and "Staff notifications saved" in page_text(response)
    saved = settings_of(tenant_a.provider_id)
    assert "new" not in saved.events and "cancelled" in saved.events
    assert not saved.to_staff_accounts and saved.extra_addresses == ("desk@alpha.example",)
    assert settings_of(tenant_b.provider_id).extra_addresses == ()


def test_an_invalid_address_is_a_form_error_and_nothing_is_saved(app, tenant_a):
    client = signed_in(app, tenant_a.staff_email)
    response = client.post(SCREEN, data=form(on_new=None, extra_addresses="ok@example.com\n"
                                             "nope@"))
    assert response.status_code == 200
    page = page_text(response)
    assert "Not an email address: nope@" in page and "alert-danger" in page
    saved = settings_of(tenant_a.provider_id)
    assert "new" in saved.events and saved.extra_addresses == ()


def test_staff_cannot_reach_another_providers_settings(app, tenant_a, tenant_b):
    client = signed_in(app, tenant_a.staff_email)
    page = page_text(client.get(f"{SCREEN}?provider_id={tenant_b.provider_id}"))
    assert "Alpha Spa" in page and "Beta Barbers" not in page
    client.post(f"{SCREEN}?provider_id={tenant_b.provider_id}",
                data=form(extra_addresses="spy@example.com"))
    assert settings_of(tenant_b.provider_id).extra_addresses == ()
    assert settings_of(tenant_a.provider_id).extra_addresses == ("spy@example.com",)


def test_admins_pick_a_provider_and_edit_it(app, tenant_a, tenant_b, admin_email):
    client = signed_in(app, admin_email)
    page = page_text(client.get(SCREEN))
    assert "Alpha Spa" in page and "Beta Barbers" in page
    target = f"{SCREEN}?provider_id={tenant_b.provider_id}"
    assert "Beta Barbers" in page_text(client.get(target))
    client.post(target, data=form(extra_addresses="boss@beta.example"))
    assert settings_of(tenant_b.provider_id).extra_addresses == ("boss@beta.example",)
    assert client.get(f"{SCREEN}?provider_id=999999").status_code == 404
    assert client.get(f"{SCREEN}?provider_id=abc").status_code == 404
