"""Cache for public catalog reads, in Redis when configured (none in embedded mode).

Invalidation is by generation: every catalog write bumps one counter and every key
carries the counter's value, so an edit is visible on the very next read without
hunting down keys. Entries also expire after ``CATALOG_CACHE_SECONDS``.
"""
from __future__ import annotations

import hashlib
import json
import logging

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.redis import redis_client

log = logging.getLogger(__name__)
GENERATION_KEY = "bookwell:catalog:generation"
# Tables whose rows the public catalog shows; a committed ORM change to any bumps the cache.
CATALOG_TABLES = frozenset({"provider", "category", "location", "offering", "variant",
                            "availability_rule", "closed_day", "slot"})
_CHANGED_KEY = "catalog_changed"


def _enabled() -> bool:
    return bool(current_app.config.get("REDIS_URL")) and current_app.config.get(
        "CATALOG_CACHE_SECONDS", 0) > 0


def bump_catalog_generation() -> None:
    """Call after a committed change to anything the public catalog shows."""
    if not current_app.config.get("REDIS_URL"):
        return
    try:
        redis_client().incr(GENERATION_KEY)
    except Exception:  # a cache outage must not fail the write; entries expire anyway
        log.warning("could not bump the catalog cache generation", exc_info=True)


def cached(namespace: str, params: dict, compute):
    """``compute()`` once per generation and parameters; JSON-serialisable results only."""
    if not _enabled():
        return compute()
    client = redis_client()
    try:
        generation = int(client.get(GENERATION_KEY) or 0)
        digest = hashlib.sha256(
            json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:32]
        key = f"bookwell:catalog:{generation}:{namespace}:{digest}"
        hit = client.get(key)
    except Exception:
        log.warning("catalog cache unavailable; computing", exc_info=True)
        return compute()
    if hit is not None:
        return json.loads(hit)
    value = compute()
    try:
        client.set(key, json.dumps(value, default=str),
                   ex=current_app.config["CATALOG_CACHE_SECONDS"])
    except Exception:
        log.warning("could not store a catalog cache entry", exc_info=True)
    return value


@event.listens_for(Session, "after_flush")
def _note_catalog_changes(session: Session, flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(obj, "__tablename__", None) in CATALOG_TABLES:
            session.info[_CHANGED_KEY] = True
            return


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    # Console edits and services alike: the next public read sees the change.
    if session.info.pop(_CHANGED_KEY, False) and has_app_context():
        bump_catalog_generation()


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED_KEY, None)
