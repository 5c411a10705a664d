"""The API key service: made once and shown once, stored hashed, validated, scoped to
its provider, revoked at once; old call records are pruned."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import NotFound, Unauthorized, ValidationFailed
from app.extensions import db
from app.models import ApiKeyCall, AuditLog, ProviderApiKey
from app.models.types import utcnow
from app.services import api_keys
from app.services.scopes import Scope


def _make(provider_id: int, **fields):
    return api_keys.create_key(scope=Scope.of_provider(provider_id), provider_id=provider_id,
                               **fields)


@pytest.fixture
def providers(build):
    return build.provider(), build.provider()


def test_a_key_is_shown_once_and_only_its_hash_is_stored(app_ctx, providers):
    a, _ = providers
    row, key = _make(a, name="CRM sync",
                                   scopes=["bookings:read", "catalog:write"])
    assert key.startswith(row.prefix + "_") and len(row.prefix) == 12
    assert len(key) == 12 + 1 + 43
    stored = db.session.get(ProviderApiKey, row.id)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr([getattr(stored, c.key) for c in ProviderApiKey.__table__.c])
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "api_key.created"))
    assert key not in str(entry.changes) and stored.key_hash not in str(entry.changes)
    assert api_keys.authenticate(key).id == row.id


def test_listing_is_per_provider(app_ctx, providers):
    a, b = providers
    _make(a, name="CRM", scopes=["catalog:read"])
    _make(b, name="Door lock",
                        scopes=["bookings:read"])
    assert [k.name for k in api_keys.list_keys(scope=Scope.of_provider(a))] == ["CRM"]
    assert {k.name for k in api_keys.list_keys(scope=Scope.all_providers())} == {
        "CRM", "Door lock"}


def test_another_providers_key_cannot_be_seen_or_revoked(app_ctx, providers):
    a, b = providers
    row, key = _make(b, name="Door lock",
                                   scopes=["bookings:read"])
    with pytest.raises(NotFound):
        api_keys.get_key(row.id, scope=Scope.of_provider(a))
    with pytest.raises(NotFound):
        api_keys.revoke_key(row.id, scope=Scope.of_provider(a))
    with pytest.raises(NotFound):
        api_keys.create_key(scope=Scope.of_provider(a), provider_id=b, name="Sneaky",
                            scopes=["catalog:read"])
    assert api_keys.authenticate(key).provider_id == b


def test_revoking_stops_the_key_at_once_and_is_audited(app_ctx, providers, build):
    a, _ = providers
    staff = build.staff(a)
    row, key = _make(a, name="CRM",
                                   scopes=["catalog:read"], created_by_id=staff)
    revoked = api_keys.revoke_key(row.id, scope=Scope.of_provider(a), revoked_by_id=staff)
    assert revoked.revoked_by_id == staff and api_keys.status_of(revoked) == api_keys.REVOKED
    with pytest.raises(Unauthorized):
        api_keys.authenticate(key)
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "api_key.revoked")) == 1


@pytest.mark.parametrize("name, scopes, code", [
    ("", ["catalog:read"], "api_key.bad_name"),
    ("   ", ["catalog:read"], "api_key.bad_name"),
    ("x" * 81, ["catalog:read"], "api_key.bad_name"),
    ("CRM", [], "api_key.no_scope"),
    ("CRM", ["catalog:read", "api_keys:write"], "api_key.unknown_scope"),
    ("CRM", ["admin"], "api_key.unknown_scope"),
])
def test_bad_input_is_refused_and_stores_nothing(app_ctx, providers, name, scopes, code):
    with pytest.raises(ValidationFailed) as refused:
        _make(providers[0], name=name, scopes=scopes)
    assert refused.value.code == code
    assert db.session.scalar(select(func.count()).select_from(ProviderApiKey)) == 0


def test_the_expiry_must_be_in_the_future(app_ctx, providers):
    with pytest.raises(ValidationFailed) as refused:
        _make(providers[0], name="CRM",
                            scopes=["catalog:read"], expires_at=utcnow() - timedelta(1))
    assert refused.value.code == "api_key.expiry_past"


def test_names_are_unique_among_a_providers_active_keys(app_ctx, providers):
    a, b = providers
    first, _ = _make(a, name="CRM",
                                   scopes=["catalog:read"])
    _make(b, name="CRM", scopes=["catalog:read"])
    with pytest.raises(ValidationFailed) as refused:
        _make(a, name="CRM", scopes=["catalog:read"])
    assert refused.value.code == "api_key.name_taken"
    api_keys.revoke_key(first.id, scope=Scope.of_provider(a))
    _make(a, name="CRM", scopes=["catalog:read"])


def test_an_expired_key_is_refused(app_ctx, providers):
    row, key = _make(providers[0], name="CRM",
                                   scopes=["catalog:read"],
                                   expires_at=utcnow() + timedelta(minutes=5))
    assert api_keys.authenticate(key).id == row.id
    with pytest.raises(Unauthorized):
        api_keys.authenticate(key, now=utcnow() + timedelta(minutes=5))
    assert api_keys.status_of(row, now=utcnow() + timedelta(minutes=6)) == api_keys.EXPIRED


def test_last_use_is_written_at_most_once_a_minute(app_ctx, providers):
    row, key = _make(providers[0], name="CRM",
                                   scopes=["catalog:read"])
    now = utcnow()
    api_keys.record_call(api_keys.authenticate(key), method="GET", path="/a",
                         status_code=200, ip="192.0.2.1", now=now)
    api_keys.record_call(api_keys.authenticate(key), method="GET", path="/b",
                         status_code=200, ip="192.0.2.2", now=now + timedelta(seconds=30))
    db.session.expire_all()
    assert db.session.get(ProviderApiKey, row.id).last_used_ip == "192.0.2.1"
    api_keys.record_call(api_keys.authenticate(key), method="GET", path="/c",
                         status_code=200, ip="192.0.2.3", now=now + timedelta(seconds=61))
    db.session.expire_all()
    assert db.session.get(ProviderApiKey, row.id).last_used_ip == "192.0.2.3"
    calls = api_keys.recent_calls(row.id, scope=Scope.of_provider(providers[0]))
    assert [c.path for c in calls] == ["/c", "/b", "/a"]
    with pytest.raises(NotFound):
        api_keys.recent_calls(row.id, scope=Scope.of_provider(providers[1]))


def test_old_calls_are_pruned(app, app_ctx, providers):
    row, key = _make(providers[0], name="CRM",
                                   scopes=["catalog:read"])
    caller = api_keys.authenticate(key)
    old = utcnow() - timedelta(days=app.config["API_KEY_CALL_RETENTION_DAYS"] + 1)
    api_keys.record_call(caller, method="GET", path="/old", status_code=200, ip=None, now=old)
    api_keys.record_call(caller, method="GET", path="/new", status_code=200, ip=None)
    assert api_keys.purge_old_calls() == 1
    assert db.session.scalars(select(ApiKeyCall.path)).all() == ["/new"]


def test_keys_made_at_once_never_share_a_name(app, app_ctx, providers, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL "
                    "(TEST_DATABASE_URL)")
    import threading

    barrier, outcomes = threading.Barrier(4), []

    def maker() -> None:
        with app.app_context():
            barrier.wait()
            try:
                _make(providers[0], name="CRM", scopes=["catalog:read"])
                outcomes.append("made")
            except ValidationFailed as refused:
                outcomes.append(refused.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=maker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["api_key.name_taken"] * 3 + ["made"]
