"""Every change to an audited model leaves one AuditLog row in the same transaction."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Account, AuditLog, Provider
from app.services import audit
from app.services.scopes import Actor


def _entries(action: str | None = None) -> list[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.id)
    if action:
        query = query.where(AuditLog.action == action)
    return list(db.session.scalars(query))


def test_create_update_delete_are_recorded_with_actor_and_changes(app_ctx, build):
    admin_id = build.admin()
    with audit.acting_as(Actor(admin_id)):
        provider = Provider(name="Lumen Spa", slug="lumen", timezone="UTC", currency="EUR")
        db.session.add(provider)
        db.session.commit()
        provider.name = "Lumen Day Spa"
        provider.currency = "EUR"  # unchanged value: not a change
        db.session.commit()
        provider_id = provider.id
        db.session.delete(provider)
        db.session.commit()

    created, updated, deleted = (_entries(f"provider.{kind}")[0]
                                 for kind in ("created", "updated", "deleted"))
    assert created.actor_id == admin_id and created.entity_id == str(provider_id)
    assert created.changes["name"] == "Lumen Spa"
    assert updated.changes == {"name": ["Lumen Spa", "Lumen Day Spa"]}
    assert deleted.changes["slug"] == "lumen"
    # The trail outlives the provider it describes.
    assert deleted.provider_id is None and created.provider_id is None


def test_a_rolled_back_change_leaves_no_entry(app_ctx, build):
    provider_id = build.provider()
    before = len(_entries())
    db.session.get(Provider, provider_id).name = "Never saved"
    db.session.flush()
    db.session.rollback()
    assert len(_entries()) == before


def test_passwords_are_masked_and_login_bookkeeping_is_ignored(app_ctx, build):
    user_id = build.customer()
    user = db.session.get(Account, user_id)
    user.login_count = 7
    db.session.commit()
    assert _entries("account.updated") == []

    user.password = "new-hash-value"
    db.session.commit()

    (entry,) = _entries("account.updated")
    assert entry.changes == {"password": "***"}


def test_explicit_record_replaces_the_generic_entry(app_ctx, build):
    provider_id = build.provider()
    provider = db.session.get(Provider, provider_id)
    provider.active = False
    audit.record("provider.suspended", entity="provider", subject=provider,
                 changes={"reason": "unpaid invoices"})
    db.session.commit()

    (entry,) = _entries("provider.suspended")
    assert entry.entity_id == str(provider_id) and entry.provider_id == provider_id
    assert entry.changes == {"reason": "unpaid invoices"}
    assert _entries("provider.updated") == []


def test_request_actor_and_ip_are_recorded(client, app_ctx):
    client.post("/api/v1/auth/register", json={
        "email": "ip@example.com", "password": "long-enough-pw", "first_name": "I",
        "last_name": "P"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    (entry,) = _entries("account.registered")
    assert entry.ip == "203.0.113.9"
    assert entry.entity == "account"
