"""Provider API keys: a provider's own systems (a CRM, accounting, a door lock) call the
provider API with a key instead of a person's password.

A key reads ``bwk_<8 characters>_<43 characters>``. The first part (``bwk_`` and 8) is
its prefix: shown in the console, unique, and how a presented key finds its row. The key
itself is shown once, when it is made; only the SHA-256 of the whole key is stored. The
secret is 32 random bytes, so a slow hash or a server-side pepper would add nothing
against guessing (2^256 tries), and a pepper would make every key die with a rotated
server secret.

Every call looks the key up again (one query on the unique prefix): a revoked or expired
key is refused at once, with no cache to outlive the revocation. Which scopes a provider
endpoint needs is declared at the endpoint (``api.blueprint``); the scopes a key may hold
are :data:`SCOPES`. Managing keys is never a scope: only people in the console do it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import NotFound, Unauthorized, ValidationFailed
from app.extensions import db
from app.models import ProviderApiKey, ApiKeyCall, Provider
from app.models.types import utcnow
from app.services import audit
from app.services.scopes import Scope, require_scope
from app.services.transactions import breaks_constraint, unit_of_work

KEY_START = "bwk_"
PREFIX_LENGTH = len(KEY_START) + 8
NAME_MAX = 80
# Last-used time and address are written at most this often per key: one UPDATE a
# minute, not one per call.
LAST_USED_EVERY = timedelta(minutes=1)
CALLS_SHOWN = 50

ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"
INVALID_KEY = ("auth.invalid_api_key",
               "The API key is unknown, revoked or expired.")


@dataclass(frozen=True)
class KeyScope:
    name: str     # e.g. ``catalog:write``
    area: str     # the console groups the checkboxes by it
    label: str    # what it allows, in words


# The scopes a key may hold; every provider endpoint declares one of them. Reading
# (GET) needs ``<area>:read``, changing needs ``<area>:write``.
SCOPES: tuple[KeyScope, ...] = (
    KeyScope("bookings:read", "Bookings", "Read bookings"),
    KeyScope("bookings:write", "Bookings", "Mark bookings paid at the venue"),
    KeyScope("catalog:read", "Catalog", "Read categories, locations, offerings, variants"),
    KeyScope("catalog:write", "Catalog", "Change categories, locations, offerings, variants"),
    KeyScope("availability:read", "Availability", "Read opening hours and closed days"),
    KeyScope("availability:write", "Availability",
             "Change opening hours and closed days, generate slots"),
    KeyScope("resources:read", "Resources", "Read staff, rooms, equipment and their time"),
    KeyScope("resources:write", "Resources",
             "Change staff, rooms, equipment, their hours, time off and calendars"),
    KeyScope("payments:read", "Payments", "Read payments and refunds"),
    KeyScope("payments:write", "Payments", "Refund payments"),
    KeyScope("waitlist:read", "Waiting lists", "Read waiting lists"),
    KeyScope("calendar_feeds:read", "Calendar feed", "See whether the calendar feed is on"),
    KeyScope("calendar_feeds:write", "Calendar feed", "Make or stop the calendar feed"),
    KeyScope("webhooks:read", "Webhooks", "Read webhook endpoints and deliveries"),
    KeyScope("webhooks:write", "Webhooks", "Change webhook endpoints"),
)
SCOPE_NAMES = frozenset(s.name for s in SCOPES)


@dataclass(frozen=True)
class KeyCaller:
    """An authenticated key, as a plain value for the rest of the request."""

    id: int
    provider_id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    last_used_at: datetime | None
    created_by_id: int | None = None

    @property
    def label(self) -> str:
        return f"API key '{self.name}' ({self.prefix})"


def status_of(key: ProviderApiKey, *, now: datetime | None = None) -> str:
    if key.revoked_at is not None:
        return REVOKED
    if key.expires_at is not None and key.expires_at <= (now or utcnow()):
        return EXPIRED
    return ACTIVE


def looks_like_key(text: str | None) -> bool:
    """A bearer credential that is a key, not a JWT (a JWT starts with ``eyJ``)."""
    return bool(text) and text.startswith(KEY_START)


def create_key(*, scope: Scope, provider_id: int, name: str, scopes,
               expires_at: datetime | None = None, created_by_id: int | None = None,
               now: datetime | None = None) -> tuple[ProviderApiKey, str]:
    """A new key of provider ``provider_id`` (which ``scope`` must reach): the row and the
    whole key, which is never shown again."""
    require_scope(scope)
    if not scope.allows(provider_id):
        raise NotFound("provider.not_found", "No such provider.")
    now = now or utcnow()
    name = (name or "").strip()
    chosen = _checked_scopes(scopes)
    _check_name(name)
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("api_key.expiry_past", "The expiry must be in the future.",
                               {"expires_at": ["The expiry must be in the future."]})
    for _attempt in range(3):  # a prefix drawn twice (1 in 4 billion) is drawn again
        prefix = KEY_START + secrets.token_hex(4)
        key = f"{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with unit_of_work():
                # The provider's row, locked: two keys made at once cannot take one name.
                if db.session.scalar(select(Provider.id).where(Provider.id == provider_id)
                                     .with_for_update()) is None:
                    raise NotFound("provider.not_found", "No such provider.")
                _refuse_name_in_use(provider_id, name, now)
                row = ProviderApiKey(provider_id=provider_id, name=name, prefix=prefix,
                             key_hash=_hash(key), scopes=chosen, expires_at=expires_at,
                             created_by_id=created_by_id, created_at=now)
                db.session.add(row)
                audit.record("api_key.created", entity="api_key", subject=row,
                             changes={"name": name, "prefix": prefix, "scopes": chosen,
                                      "expires_at": expires_at})
            return row, key
        except IntegrityError as exc:
            if not breaks_constraint(exc, "uq_api_key_prefix", column="api_key.prefix"):
                raise
    raise RuntimeError("could not draw an unused key prefix")


def list_keys(*, scope: Scope) -> list[ProviderApiKey]:
    query = require_scope(scope).filter(select(ProviderApiKey), ProviderApiKey)
    return list(db.session.scalars(query.order_by(ProviderApiKey.created_at.desc(),
                                                  ProviderApiKey.id.desc())))


def get_key(key_id: int, *, scope: Scope) -> ProviderApiKey:
    row = db.session.scalar(require_scope(scope).filter(
        select(ProviderApiKey).where(ProviderApiKey.id == key_id), ProviderApiKey))
    if row is None:
        raise NotFound("api_key.not_found", f"No API key with id {key_id}.")
    return row


def revoke_key(key_id: int, *, scope: Scope, revoked_by_id: int | None = None,
               now: datetime | None = None) -> ProviderApiKey:
    """Stop a key at once: its next call is refused. Revoking twice changes nothing."""
    with unit_of_work():
        row = get_key(key_id, scope=scope)
        if row.revoked_at is None:
            row.revoked_at = now or utcnow()
            row.revoked_by_id = revoked_by_id
            audit.record("api_key.revoked", entity="api_key", subject=row,
                         changes={"name": row.name, "prefix": row.prefix})
    return row


def authenticate(presented: str, *, now: datetime | None = None) -> KeyCaller:
    """The key behind ``presented``; unknown, garbled, revoked or expired: 401."""
    if not looks_like_key(presented) or len(presented) > 200 \
            or presented[PREFIX_LENGTH:PREFIX_LENGTH + 1] != "_":
        raise Unauthorized(*INVALID_KEY)
    key = ProviderApiKey
    row = db.session.execute(
        select(key.id, key.provider_id, key.name, key.prefix, key.key_hash, key.scopes,
               key.expires_at, key.revoked_at, key.last_used_at, key.created_by_id)
        .where(key.prefix == presented[:PREFIX_LENGTH])).first()
    # The digest is compared even for an unknown prefix, so timing tells nothing.
    stored = row.key_hash if row is not None else "0" * 64
    matches = hmac.compare_digest(stored, _hash(presented))
    now = now or utcnow()
    if row is None or not matches or row.revoked_at is not None \
            or (row.expires_at is not None and row.expires_at <= now):
        raise Unauthorized(*INVALID_KEY)
    return KeyCaller(id=row.id, provider_id=row.provider_id, name=row.name,
                     prefix=row.prefix, scopes=frozenset(row.scopes or ()),
                     last_used_at=row.last_used_at, created_by_id=row.created_by_id)


def record_call(caller: KeyCaller, *, method: str, path: str, status_code: int,
                ip: str | None, now: datetime | None = None) -> None:
    """One row for the call; the key's last use at most once a minute."""
    now = now or utcnow()
    with unit_of_work():
        db.session.execute(insert(ApiKeyCall).values(
            api_key_id=caller.id, provider_id=caller.provider_id, at=now,
            method=method[:8], path=path[:300], status_code=status_code,
            ip=(ip or None) and ip[:64]))
        if caller.last_used_at is None or now - caller.last_used_at >= LAST_USED_EVERY:
            db.session.execute(update(ProviderApiKey).where(ProviderApiKey.id == caller.id)
                               .values(last_used_at=now, last_used_ip=(ip or None)
                                       and ip[:64]))


def recent_calls(key_id: int, *, scope: Scope, limit: int = CALLS_SHOWN) -> list[ApiKeyCall]:
    key = get_key(key_id, scope=scope)
    return list(db.session.scalars(
        select(ApiKeyCall).where(ApiKeyCall.api_key_id == key.id)
        .order_by(ApiKeyCall.at.desc(), ApiKeyCall.id.desc()).limit(limit)))


def purge_old_calls(*, now: datetime | None = None) -> int:
    """Calls older than ``API_KEY_CALL_RETENTION_DAYS`` (periodic housekeeping)."""
    cutoff = (now or utcnow()) - timedelta(
        days=current_app.config.get("API_KEY_CALL_RETENTION_DAYS", 30))
    with unit_of_work():
        return db.session.execute(delete(ApiKeyCall).where(ApiKeyCall.at < cutoff)).rowcount


def _checked_scopes(scopes) -> list[str]:
    chosen = sorted(set(scopes or ()))
    unknown = [s for s in chosen if s not in SCOPE_NAMES]
    if unknown:
        raise ValidationFailed("api_key.unknown_scope",
                               f"Unknown scope: {', '.join(unknown)}.",
                               {"scopes": [f"Unknown scope: {', '.join(unknown)}."]})
    if not chosen:
        raise ValidationFailed("api_key.no_scope", "Choose at least one scope.",
                               {"scopes": ["Choose at least one scope."]})
    return chosen


def _check_name(name: str) -> None:
    if not 1 <= len(name) <= NAME_MAX:
        message = f"A name of 1 to {NAME_MAX} characters."
        raise ValidationFailed("api_key.bad_name", message, {"name": [message]})


def _refuse_name_in_use(provider_id: int, name: str, now: datetime) -> None:
    """Names are unique among a provider's active keys (a revoked or expired key's name
    may be used again)."""
    taken = db.session.scalar(select(ProviderApiKey.id).where(
        ProviderApiKey.provider_id == provider_id, ProviderApiKey.name == name,
        ProviderApiKey.revoked_at.is_(None),
        (ProviderApiKey.expires_at.is_(None)) | (ProviderApiKey.expires_at > now)).limit(1))
    if taken is not None:
        message = "An active key of this provider has this name already."
        raise ValidationFailed("api_key.name_taken", message, {"name": [message]})


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
