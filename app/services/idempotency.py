"""Idempotency keys for create requests: a retried request gets the first answer.

The key is claimed in its own short transaction before the work starts (the unique key
(user, key) decides between two concurrent retries), and the answer is stored after.
The same key with another body is refused; a key whose first request is still running
answers 409. Keys are kept ``RETENTION`` (at least 24 hours).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import IdempotencyRecord
from app.models.types import utcnow

RETENTION = timedelta(hours=48)
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Claim:
    record_id: int | None = None
    replay_status: int | None = None
    replay_body: object = None

    @property
    def is_replay(self) -> bool:
        return self.replay_status is not None


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def claim(*, user_id: int, key: str, endpoint: str, fingerprint: str) -> Claim:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed("idempotency.bad_key", "Idempotency-Key must be 1-200 characters.",
                               {"Idempotency-Key": ["1 to 200 characters."]})
    db.session.rollback()  # start clean: the claim is its own transaction
    record = IdempotencyRecord(user_id=user_id, key=key, endpoint=endpoint,
                               request_hash=fingerprint)
    db.session.add(record)
    try:
        db.session.commit()
        return Claim(record_id=record.id)
    except IntegrityError:
        db.session.rollback()
    first = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))
    if first is None:  # released meanwhile: the first attempt failed; claim it again
        return claim(user_id=user_id, key=key, endpoint=endpoint, fingerprint=fingerprint)
    if first.request_hash != fingerprint or first.endpoint != endpoint:
        raise ValidationFailed("idempotency.key_reused",
                               "This Idempotency-Key was used for a different request.",
                               {"Idempotency-Key": ["Already used with another body."]})
    if first.status_code is None:
        raise Conflict("idempotency.in_progress",
                       "The first request with this Idempotency-Key is still running.")
    return Claim(replay_status=first.status_code, replay_body=first.response_body)


def complete(record_id: int, *, status_code: int, body) -> None:
    db.session.rollback()
    record = db.session.get(IdempotencyRecord, record_id)
    if record is not None:
        record.status_code, record.response_body = status_code, body
        db.session.commit()


def release(record_id: int) -> None:
    """The first attempt failed on our side: let a retry run it again."""
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
    db.session.commit()


def purge_expired(now=None) -> int:
    result = db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < (now or utcnow()) - RETENTION))
    db.session.commit()
    return result.rowcount
