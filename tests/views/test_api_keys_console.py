"""The API keys screen: staff make, see and revoke their own provider's keys only; the
key is on the page after making it and nowhere else; admins see every provider's."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import ProviderApiKey
from app.services import api_keys
from tests.views.console import page_text, signed_in

KEY = re.compile(r"bwk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def _make(client, **form):
    data = {"name": "CRM sync", "scopes": ["catalog:read", "bookings:write"], **form}
    return client.post("/api-keys/create", data=data)


def test_staff_make_a_key_and_see_it_once(app, build, tenant_a):
    client = signed_in(app, tenant_a.staff_email)
    made = _make(client, expires_on="2099-12-31")
    assert made.status_code == 200
    shown = KEY.findall(page_text(made))
    assert len(set(shown)) == 1 and made.headers["Cache-Control"] == "no-store"
    key = shown[0]
    row = db.session.scalar(select(ProviderApiKey))
    assert row.provider_id == tenant_a.provider_id and row.created_by_id == tenant_a.staff_id
    assert row.scopes == ["bookings:write", "catalog:read"]
    # Through the end of the last day on the provider's clock (Berlin: UTC+1 in winter).
    assert row.expires_at.isoformat() == "2099-12-31T23:00:00+00:00"
    for address in ("/api-keys/list/", f"/api-keys/show/{row.id}"):
        page = page_text(client.get(address))
        assert row.prefix in page and key not in page and key[13:] not in page


def test_bad_input_shows_form_errors_and_makes_nothing(app, build, tenant_a):
    client = signed_in(app, tenant_a.staff_email)
    for form, message in (({"name": ""}, "1 to 80 characters"),
                          ({"scopes": []}, "Choose at least one scope"),
                          ({"scopes": ["api_keys:write"]}, "Unknown scope"),
                          ({"expires_on": "2001-01-01"}, "in the future"),
                          ({"expires_on": "31.12.2030"}, "A date such as")):
        page = _make(client, **form)
        assert page.status_code == 200 and message in page_text(page), form
    assert db.session.scalar(select(ProviderApiKey)) is None


def test_staff_see_and_revoke_only_their_own_providers_keys(app, build, tenant_a, tenant_b):
    own, _ = build.api_key(tenant_a.provider_id, name="Own key")
    foreign, foreign_key = build.api_key(tenant_b.provider_id, name="Foreign key")
    client = signed_in(app, tenant_a.staff_email)
    listed = page_text(client.get("/api-keys/list/"))
    assert "Own key" in listed and "Foreign key" not in listed
    assert client.get(f"/api-keys/show/{foreign}").status_code == 404
    assert client.get(f"/api-keys/revoke/{foreign}").status_code == 404
    assert client.post(f"/api-keys/revoke/{foreign}").status_code == 404
    assert api_keys.authenticate(foreign_key).id == foreign  # still works
    assert client.post(f"/api-keys/revoke/{own}").status_code == 302
    db.session.expire_all()
    assert api_keys.status_of(db.session.get(ProviderApiKey, own)) == api_keys.REVOKED


def test_admins_see_every_providers_keys_and_make_one_for_a_provider(app, build, admin_email,
                                                                      tenant_a, tenant_b):
    build.api_key(tenant_a.provider_id, name="Alpha key")
    build.api_key(tenant_b.provider_id, name="Beta key")
    client = signed_in(app, admin_email)
    listed = page_text(client.get("/api-keys/list/"))
    assert "Alpha key" in listed and "Beta key" in listed and "Beta Barbers" in listed
    assert "Choose the provider" in page_text(_make(client, name="No provider"))
    assert _make(client, name="For Beta", provider_id=str(tenant_b.provider_id)).status_code == 200
    assert db.session.scalar(select(ProviderApiKey.provider_id).where(
        ProviderApiKey.name == "For Beta")) == tenant_b.provider_id


def test_a_keys_page_lists_its_recent_calls(app, client, build, tenant_a):
    key_id, key = build.api_key(tenant_a.provider_id, "catalog:read", name="CRM sync")
    client.get("/api/v1/provider/categories", headers={"Authorization": f"Bearer {key}"})
    page = page_text(signed_in(app, tenant_a.staff_email).get(f"/api-keys/show/{key_id}"))
    assert "GET /api/v1/provider/categories" in page and "Recent calls" in page


def test_the_audit_log_names_the_key_a_change_was_made_with(app, client, build, tenant_a):
    _, key = build.api_key(tenant_a.provider_id, "catalog:write", name="CRM sync")
    client.post("/api/v1/provider/categories", json={"name": "Facials"},
                headers={"Authorization": f"Bearer {key}"})
    page = page_text(signed_in(app, tenant_a.staff_email).get("/auditlogview/list/"))
    assert f"API key &#39;CRM sync&#39; ({key[:12]})" in page or \
        f"API key 'CRM sync' ({key[:12]})" in page
