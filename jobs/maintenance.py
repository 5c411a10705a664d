"""Housekeeping jobs."""
from __future__ import annotations

from app.services import accounts, idempotency
from jobs.context import with_app_context


@with_app_context
def purge_revoked_tokens() -> int:
    return accounts.purge_expired_revocations()


@with_app_context
def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()
