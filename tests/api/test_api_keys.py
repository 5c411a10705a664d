"""Provider API keys on the provider API: a key acts for its own provider only, with the
scopes it holds; revoked, expired, unknown or garbled keys get 401 at once; each call is
recorded and changes made with a key name it in the audit trail."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiKeyCall, AuditLog, Category, ProviderApiKey
from app.models.types import utcnow
from app.services import api_keys
from app.services.scopes import Scope
from tests.helpers import assert_error_shape, bearer, token_for

P = "/api/v1/provider"


@pytest.fixture
def two_shops(build):
    a, b = build.provider(), build.provider()
    return {"a": a, "b": b, "a_category": build.category(a, name="Massages"),
            "b_category": build.category(b, name="Nails")}


def test_a_key_reads_its_own_providers_rows_only(client, build, two_shops):
    _, key = build.api_key(two_shops["a"], "catalog:read", name="CRM sync")
    listed = client.get(f"{P}/categories", headers=bearer(key))
    assert listed.status_code == 200, listed.get_json()
    assert [c["id"] for c in listed.get_json()] == [two_shops["a_category"]]
    assert client.get(f"{P}/categories/{two_shops['a_category']}",
                      headers=bearer(key)).status_code == 200
    assert_error_shape(client.get(f"{P}/categories/{two_shops['b_category']}",
                                  headers=bearer(key)), 404)


def test_a_key_changes_its_own_providers_rows_and_not_anothers(client, build, two_shops):
    _, key = build.api_key(two_shops["a"], "catalog:write")
    created = client.post(f"{P}/categories", json={"name": "Facials"}, headers=bearer(key))
    assert created.status_code == 201, created.get_json()
    assert db.session.get(Category, created.get_json()["id"]).provider_id == two_shops["a"]
    assert_error_shape(client.patch(f"{P}/categories/{two_shops['b_category']}",
                                    json={"name": "Taken over"}, headers=bearer(key)), 404)
    assert_error_shape(client.delete(f"{P}/categories/{two_shops['b_category']}",
                                     headers=bearer(key)), 404)
    db.session.expire_all()
    assert db.session.get(Category, two_shops["b_category"]).name == "Nails"


def test_a_revoked_key_is_refused_at_once(client, build, two_shops):
    key_id, key = build.api_key(two_shops["a"], "catalog:read")
    assert client.get(f"{P}/categories", headers=bearer(key)).status_code == 200
    api_keys.revoke_key(key_id, scope=Scope.of_provider(two_shops["a"]))
    assert_error_shape(client.get(f"{P}/categories", headers=bearer(key)), 401,
                       "auth.invalid_api_key")


def test_an_expired_key_is_refused(client, build, two_shops):
    key_id, key = build.api_key(two_shops["a"], "catalog:read",
                                expires_at=utcnow() + timedelta(hours=1))
    assert client.get(f"{P}/categories", headers=bearer(key)).status_code == 200
    db.session.execute(ProviderApiKey.__table__.update()
                       .where(ProviderApiKey.id == key_id)
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert_error_shape(client.get(f"{P}/categories", headers=bearer(key)), 401,
                       "auth.invalid_api_key")


@pytest.mark.parametrize("presented", [
    "bwk_00000000_" + "x" * 43,          # unknown prefix
    "bwk_",                               # garbled
    "bwk_abc",                            # too short
    "bwk_" + "y" * 300,                   # far too long
])
def test_unknown_or_garbled_keys_are_refused(client, build, two_shops, presented):
    assert_error_shape(client.get(f"{P}/categories", headers=bearer(presented)), 401,
                       "auth.invalid_api_key")


def test_a_real_prefix_with_a_wrong_secret_is_refused(client, build, two_shops):
    _, key = build.api_key(two_shops["a"], "catalog:read")
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert_error_shape(client.get(f"{P}/categories", headers=bearer(forged)), 401,
                       "auth.invalid_api_key")


def test_a_key_without_the_scope_is_refused_for_a_read_and_a_write(client, build, two_shops):
    _, key = build.api_key(two_shops["a"], "payments:read")
    body = assert_error_shape(client.get(f"{P}/categories", headers=bearer(key)), 403,
                              "auth.scope_missing")
    assert body["errors"] == {"scope": ["catalog:read"]}
    assert_error_shape(client.post(f"{P}/categories", json={"name": "Facials"},
                                   headers=bearer(key)), 403, "auth.scope_missing")
    assert db.session.scalar(select(Category).where(Category.name == "Facials")) is None


def test_reading_does_not_allow_writing(client, build, two_shops):
    _, key = build.api_key(two_shops["a"], "catalog:read")
    assert_error_shape(client.patch(f"{P}/categories/{two_shops['a_category']}",
                                    json={"name": "Renamed"}, headers=bearer(key)), 403,
                       "auth.scope_missing")


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/me"),
    ("get", "/api/v1/bookings"),
    ("get", "/api/v1/receipts"),
    ("post", "/api/v1/auth/refresh"),
])
def test_a_key_is_refused_on_customer_endpoints(client, build, two_shops, method, path):
    _, key = build.api_key(two_shops["a"], *api_keys.SCOPE_NAMES)
    assert_error_shape(getattr(client, method)(path, headers=bearer(key)), 401,
                       "auth.api_key_not_accepted")


def test_staff_tokens_keep_full_access(client, build, two_shops):
    token = token_for(build.staff(two_shops["a"]))
    assert client.get(f"{P}/categories", headers=bearer(token)).status_code == 200
    assert client.post(f"{P}/categories", json={"name": "Facials"},
                       headers=bearer(token)).status_code == 201


def test_the_rate_limit_of_a_key_answers_429_with_retry_after(app, client, build, two_shops,
                                                              monkeypatch):
    monkeypatch.setitem(app.config, "API_KEY_RATE_LIMIT", "2 per minute")
    _, key = build.api_key(two_shops["a"], "catalog:read")
    _, other = build.api_key(two_shops["a"], "catalog:read")
    statuses = [client.get(f"{P}/categories", headers=bearer(key)).status_code
                for _ in range(2)]
    assert statuses == [200, 200]
    limited = client.get(f"{P}/categories", headers=bearer(key))
    assert_error_shape(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Counted per key: another key of the same provider is not held up.
    assert client.get(f"{P}/categories", headers=bearer(other)).status_code == 200


def test_every_call_is_recorded_with_its_key_and_status(client, build, two_shops):
    key_id, key = build.api_key(two_shops["a"], "catalog:read", name="CRM sync")
    client.get(f"{P}/categories", headers=bearer(key), environ_base={"REMOTE_ADDR":
                                                                     "203.0.113.9"})
    client.get(f"{P}/categories/{two_shops['b_category']}", headers=bearer(key))
    client.post(f"{P}/categories", json={"name": "x"}, headers=bearer(key))
    calls = db.session.scalars(select(ApiKeyCall).order_by(ApiKeyCall.id)).all()
    assert [(c.api_key_id, c.provider_id, c.method, c.status_code) for c in calls] == [
        (key_id, two_shops["a"], "GET", 200), (key_id, two_shops["a"], "GET", 404),
        (key_id, two_shops["a"], "POST", 403)]
    assert calls[0].path == f"{P}/categories" and calls[0].ip == "203.0.113.9"
    assert calls[0].api_key.label == f"API key 'CRM sync' ({key[:12]})"
    db.session.expire_all()
    row = db.session.get(ProviderApiKey, key_id)
    assert row.last_used_ip == "203.0.113.9" and row.last_used_at is not None


def test_a_change_made_with_a_key_names_the_key_in_the_audit_trail(client, build,
                                                                     two_shops):
    key_id, key = build.api_key(two_shops["a"], "catalog:write", name="CRM sync")
    created = client.post(f"{P}/categories", json={"name": "Facials"}, headers=bearer(key))
    entry = db.session.scalar(select(AuditLog).where(
        AuditLog.entity == "category", AuditLog.entity_id == str(created.get_json()["id"])))
    assert entry.api_key_id == key_id and entry.actor_id is None
    assert entry.api_key.label.startswith("API key 'CRM sync' (bwk_")


def test_idempotency_keys_of_a_key_replay_the_first_answer(client, build, two_shops):
    maker = build.staff(two_shops["a"])
    _, key = build.api_key(two_shops["a"], "catalog:write", created_by_id=maker)
    headers = {**bearer(key), "Idempotency-Key": "create-facials-1"}
    first = client.post(f"{P}/categories", json={"name": "Facials"}, headers=headers)
    again = client.post(f"{P}/categories", json={"name": "Facials"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    # The maker's own key of the same name is another request altogether.
    own = client.post(f"{P}/categories", json={"name": "Wraps"},
                      headers={**bearer(token_for(maker)), "Idempotency-Key": "create-facials-1"})
    assert own.status_code == 201 and own.get_json()["id"] != first.get_json()["id"]


def test_idempotency_keys_need_a_key_whose_maker_still_exists(client, build, two_shops):
    _, key = build.api_key(two_shops["a"], "catalog:write")  # no maker recorded
    assert_error_shape(client.post(f"{P}/categories", json={"name": "Facials"},
                                   headers={**bearer(key), "Idempotency-Key": "k-1"}),
                       422, "idempotency.unavailable")
