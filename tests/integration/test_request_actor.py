"""The request edge names who acts for the audit trail, and forgets it afterwards."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog
from app.services import audit
from app.services.scopes import SYSTEM
from tests.helpers import bearer, token_for


def _entry(action: str) -> AuditLog:
    return db.session.scalar(select(AuditLog).where(AuditLog.action == action))


def test_an_anonymous_request_is_named_by_its_address(client, app_ctx):
    response = client.post("/api/v1/auth/register", json={
        "email": "edge@example.com", "password": "long-enough-pw", "first_name": "E",
        "last_name": "D"}, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 202
    entry = _entry("account.registered")
    assert (entry.actor_id, entry.ip) == (None, "203.0.113.7")
    assert audit.current_actor() == SYSTEM


def test_a_verified_token_names_its_account(client, app_ctx, build):
    staff = build.staff(build.provider())
    response = client.post("/api/v1/provider/categories", json={"name": "Massages"},
                           headers=bearer(token_for(staff)),
                           environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert response.status_code == 201, response.get_json()
    entry = _entry("category.created")
    assert (entry.actor_id, entry.ip) == (staff, "198.51.100.8")
    assert audit.current_actor() == SYSTEM
