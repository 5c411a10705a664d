"""Idempotency keys for create requests: a retried request gets the first answer.

The key is claimed in its own short transaction before the work starts (the unique key
(user, key) decides between two concurrent retries), and the answer is stored after.
The same key with another body is refused. Keys are kept ``RETENTION`` (at least 24 hours).

A claim is a lease of ``IDEMPOTENCY_LEASE_SECONDS``: a retry while it runs answers 409
``idempotency.in_progress`` with ``Retry-After``. A request whose process died holds the
key only until the lease expires; then a retry takes the key over (``attempt`` + 1) and
either finds what the dead request committed (work that records the key's record id in
its own transaction, as a booking does) and replays it, or runs the request again. Only
the current holder of the lease may store the answer or give the key up, so a slow first
request that outlives its lease cannot overwrite or delete its successor's claim.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import IdempotencyRecord
from app.models.types import utcnow
from app.services.transactions import breaks_constraint, end_read, unit_of_work

RETENTION = timedelta(hours=48)
MAX_KEY_LENGTH = 200


class InProgress(Conflict):
    """The first request with this key still holds its lease."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("idempotency.in_progress",
                         "The first request with this Idempotency-Key is still running; "
                         f"retry in {retry_after_seconds} s.")
        self.headers = {"Retry-After": str(retry_after_seconds)}


class AlreadyCommitted(Conflict):
    """The work under this key was committed by an earlier holder of the key (whose lease
    ran out while it was still running): replay that instead of doing it twice."""

    def __init__(self) -> None:
        super().__init__("idempotency.in_progress",
                         "An earlier request with this Idempotency-Key has done this.")


@dataclass(frozen=True)
class Claim:
    record_id: int | None = None
    attempt: int = 1
    replay_status: int | None = None
    replay_body: object = None

    @property
    def is_replay(self) -> bool:
        return self.replay_status is not None

    @property
    def is_takeover(self) -> bool:
        """An earlier holder's lease ran out: it may have committed its work."""
        return self.attempt > 1


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def lease_seconds() -> int:
    return current_app.config.get("IDEMPOTENCY_LEASE_SECONDS", 30)


def claim(*, user_id: int, key: str, endpoint: str, fingerprint: str,
          now: datetime | None = None) -> Claim:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed("idempotency.bad_key", "Idempotency-Key must be 1-200 characters.",
                               {"Idempotency-Key": ["1 to 200 characters."]})
    now = now or utcnow()
    lease_until = now + timedelta(seconds=lease_seconds())
    end_read()  # start clean: the claim is its own transaction
    try:
        with unit_of_work():
            record = IdempotencyRecord(user_id=user_id, key=key, endpoint=endpoint,
                                       request_hash=fingerprint, lease_expires_at=lease_until,
                                       attempt=1)
            db.session.add(record)
            db.session.flush()
            return Claim(record_id=record.id)
    except IntegrityError as exc:
        if not breaks_constraint(exc, "uq_idempotency_user_key",
                                 "idempotency_record.user_id, idempotency_record.key"):
            raise
    first = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))
    if first is None:  # released meanwhile: the first attempt failed; claim it again
        return claim(user_id=user_id, key=key, endpoint=endpoint, fingerprint=fingerprint,
                     now=now)
    if first.request_hash != fingerprint or first.endpoint != endpoint:
        raise ValidationFailed("idempotency.key_reused",
                               "This Idempotency-Key was used for a different request.",
                               {"Idempotency-Key": ["Already used with another body."]})
    if first.status_code is not None:
        return Claim(replay_status=first.status_code, replay_body=first.response_body)
    if first.lease_expires_at is not None and first.lease_expires_at > now:
        raise InProgress(max(1, math.ceil((first.lease_expires_at - now).total_seconds())))
    return _take_over(first, now, lease_until)


def _take_over(record: IdempotencyRecord, now: datetime, lease_until: datetime) -> Claim:
    """The holder's lease ran out (its process died, or it is very slow): hold the key for
    this request. Conditional, so of two retries racing for it one wins."""
    attempt = record.attempt + 1
    with unit_of_work():
        taken = db.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record.id,
                   IdempotencyRecord.attempt == record.attempt,
                   IdempotencyRecord.status_code.is_(None))
            .values(attempt=attempt, lease_expires_at=lease_until)).rowcount
    if not taken:
        raise InProgress(lease_seconds())
    return Claim(record_id=record.id, attempt=attempt)


def complete(claimed: Claim, *, status_code: int, body) -> None:
    """Store the answer, unless another request has taken the key over meanwhile."""
    end_read()  # whatever the request left uncommitted is not part of the answer
    with unit_of_work():
        db.session.execute(update(IdempotencyRecord).where(
            IdempotencyRecord.id == claimed.record_id,
            IdempotencyRecord.attempt == claimed.attempt,
            IdempotencyRecord.status_code.is_(None))
            .values(status_code=status_code, response_body=body))


def release(claimed: Claim) -> None:
    """This attempt failed on our side: let a retry run it again (unless the key has been
    taken over meanwhile: then it is no longer ours to give up)."""
    end_read()  # what the failed attempt left uncommitted goes
    with unit_of_work():
        db.session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.id == claimed.record_id,
            IdempotencyRecord.attempt == claimed.attempt,
            IdempotencyRecord.status_code.is_(None)))


@unit_of_work()
def purge_expired(now=None) -> int:
    result = db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < (now or utcnow()) - RETENTION))
    return result.rowcount
