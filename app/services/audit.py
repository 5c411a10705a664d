"""The audit trail: one ``AuditLog`` row per change, in the same transaction as the change.

Models opt in with ``__audited__ = True``. A flush listener records every insert, update
and delete of those models, so console edits and services are covered by one mechanism.
Services that want a domain action name (``booking.cancelled``) call :func:`record`.

Who acted is an :class:`~app.services.scopes.Actor` value held in a context variable:
the edge that knows it (a request hook, a job, a command) enters :func:`acting_as`, and
every entry written inside names that actor and address. Nothing here reads the request.
"""
from __future__ import annotations

import enum
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapper, Session

from app.extensions import db
from app.models.audit import AuditLog
from app.models.types import utcnow
from app.services.scopes import SYSTEM, Actor

MASKED_FIELDS = {"password", "secret", "previous_secret"}
# Bookkeeping that changes on every login; auditing it would bury the real changes.
IGNORED_FIELDS = {"last_login", "login_count", "fail_login_count", "changed_on", "updated_at"}
EXPLICIT_KEY = "audit_explicit"

_actor: ContextVar[Actor] = ContextVar("audit_actor", default=SYSTEM)


@contextmanager
def acting_as(actor: Actor):
    """Attribute changes made inside the block to ``actor`` (requests, jobs, the CLI)."""
    token = _actor.set(_require_actor(actor))
    try:
        yield actor
    finally:
        _actor.reset(token)


def current_actor() -> Actor:
    """Who acts now: the actor of the innermost :func:`acting_as`, else the system."""
    return _actor.get()


def _require_actor(actor) -> Actor:
    if not isinstance(actor, Actor):
        raise TypeError(f"expected an Actor, got {type(actor).__name__}")
    return actor


def record(
    action: str,
    *,
    entity: str,
    entity_id=None,
    provider_id: int | None = None,
    changes: dict | None = None,
    subject=None,
) -> int:
    """Add an explicit audit entry to the open transaction; returns its id.

    ``subject``, when given, is the model instance the entry describes: the generic
    flush entry for it is left out so a change is not logged twice, and a new subject
    is flushed here so that the entry can name its id.
    """
    session = db.session()
    if subject is not None:
        session.info.setdefault(EXPLICIT_KEY, set()).add(id(subject))
        session.flush()
        if entity_id is None:
            entity_id = _primary_key_of(subject)
        if provider_id is None:
            provider_id = _provider_id_of(subject)
    # A Core insert: it runs at once, in the open transaction, without an ORM flush.
    values = entry_values(action, entity=entity, provider_id=provider_id, changes=changes)
    values["entity_id"] = None if entity_id is None else str(entity_id)
    return session.execute(AuditLog.__table__.insert().values(**values)
                           .returning(AuditLog.__table__.c.id)).scalar_one()


def entry_values(action: str, *, entity: str, provider_id: int | None = None,
                 changes: dict | None = None) -> dict:
    """The columns of an explicit entry (all but ``entity_id``), actor and address those
    of the current actor: for a caller that writes the row within its own statement."""
    actor = current_actor()
    return dict(created_at=utcnow(), action=action, entity=entity, provider_id=provider_id,
                changes=_json_safe(changes) if changes else None,
                actor_id=actor.user_id, ip=actor.ip, api_key_id=actor.api_key_id)


def entity_name(obj) -> str:
    return getattr(obj, "__audit_entity__", None) or obj.__class__.__tablename__


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _column_changes(obj, kind: str) -> dict:
    state = inspect(obj)
    changes = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in IGNORED_FIELDS:
            continue
        history = state.attrs[key].history
        if kind == "created":
            value = getattr(obj, key)
            if value is not None:
                changes[key] = value
        elif kind == "deleted":
            value = history.unchanged[0] if history.unchanged else (
                history.deleted[0] if history.deleted else None
            )
            if value is not None:
                changes[key] = value
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                changes[key] = [old, new]
    for key in MASKED_FIELDS & changes.keys():
        changes[key] = "***"
    return _json_safe(changes)


def _primary_key_of(obj) -> str:
    # The identity key is assigned only after the flush; the column values already are.
    return "/".join(str(v) for v in inspect(obj).mapper.primary_key_from_instance(obj))


def _provider_id_of(obj) -> int | None:
    if obj.__class__.__tablename__ == "provider":
        return obj.id
    return getattr(obj, "provider_id", None)


def _rows_for(session: Session, objects, kind: str) -> list[dict]:
    explicit = session.info.get(EXPLICIT_KEY, set())
    actor = current_actor()
    rows = []
    for obj in objects:
        if not getattr(obj, "__audited__", False) or id(obj) in explicit:
            continue
        changes = _column_changes(obj, kind)
        if kind == "updated" and not changes:
            continue
        rows.append(
            {
                "created_at": utcnow(),
                "actor_id": actor.user_id,
                # A deleted provider's own entry cannot point at it any more.
                "provider_id": None if kind == "deleted" and obj.__class__.__tablename__
                == "provider" else _provider_id_of(obj),
                "action": f"{entity_name(obj)}.{kind}",
                "entity": entity_name(obj),
                "entity_id": _primary_key_of(obj),
                "changes": changes or None,
                "ip": actor.ip,
                "api_key_id": actor.api_key_id,
            }
        )
    return rows


def _keep_old_value(target, value, oldvalue, initiator):
    return value


@event.listens_for(Mapper, "mapper_configured")
def _track_old_values(mapper, cls) -> None:
    """Load the old value before an audited column is overwritten, so the diff is honest
    even when the object was expired by an earlier commit."""
    if getattr(cls, "__audited__", False) and mapper.local_table is not None:
        for prop in mapper.column_attrs:
            event.listen(getattr(cls, prop.key), "set", _keep_old_value,
                         active_history=True, retval=True)


@event.listens_for(Session, "after_flush")
def _audit_flushed_changes(session: Session, flush_context) -> None:
    rows = (
        _rows_for(session, session.new, "created")
        + _rows_for(session, session.dirty, "updated")
        + _rows_for(session, session.deleted, "deleted")
    )
    if rows:
        # Adding ORM objects is not allowed while flushing; a Core insert is.
        session.connection().execute(AuditLog.__table__.insert(), rows)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_explicit(session: Session) -> None:
    session.info.pop(EXPLICIT_KEY, None)
