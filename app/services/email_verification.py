"""Proving an email address: a mailed, signed, expiring, single-use link.

A link is mailed when an account is registered, when its address changes (to the new
address) and when its holder asks again. It is signed with the account's id and a
fingerprint of its current address and verification time, so it works once (verifying
changes the fingerprint), never for an address the account no longer has, and only for
``EMAIL_VERIFICATION_MAX_AGE_HOURS``; nothing of it is stored.

What an unverified account may not do yet is ``verified_actions``' business.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app import events
from app.errors import ValidationFailed
from app.extensions import db
from app.models import Account
from app.models.types import utcnow
from app.services import audit, notifications
from app.services.transactions import after_commit, unit_of_work

TEMPLATE = "email_verification"
SALT = "bookwell.email-verification"


def is_verified(account: Account) -> bool:
    return account.email_verified_at is not None


def publish_request(account: Account) -> None:
    """In the caller's transaction (the account flushed): mail ``account`` a link for its
    current address once committed."""
    events.publish("account.email_verification_requested",
                   {"account_id": account.id, "email": account.email.lower()})


def request_link(account_id: int) -> bool:
    """The holder asks for the link again; False when the address is verified already."""
    with unit_of_work():
        account = db.session.get(Account, account_id)
        if account is None or is_verified(account):
            return False
        publish_request(account)
    return True


def send_link(*, event_id: str, topic: str, payload: dict) -> None:
    """``account.email_verification_requested``: mail the link, unless the address changed
    or was verified since it was asked for."""
    with unit_of_work(joins=True):
        account = db.session.get(Account, payload["account_id"])
        if (account is None or not account.active or is_verified(account)
                or (account.email or "").lower() != payload["email"]):
            return
        ids = notifications.queue_account_message(
            account, TEMPLATE, dedupe_key=f"{TEMPLATE}:{account.id}:{event_id}",
            verify_url=verify_url(account), verify_hours=max_age_hours())
        if ids:
            audit.record("account.email_verification_requested", entity="account",
                         subject=account)
        after_commit(notifications.enqueue_sends, ids)


def verify(token: str) -> Account:
    """The mailed link's holder proves the address: the account is verified from now."""
    account_id, fingerprint = _read(token)
    with unit_of_work():
        account = db.session.get(Account, account_id, with_for_update=True)
        if account is None or not account.active or _fingerprint(account) != fingerprint:
            raise _invalid()
        mark_verified(account)
    return account


def mark_verified(account: Account) -> None:
    """In the caller's transaction: the address is proven (by a link mailed to it)."""
    if account.email_verified_at is None:
        account.email_verified_at = utcnow()
        audit.record("account.email_verified", entity="account", subject=account)


def verify_token(account: Account) -> str:
    return _serializer().dumps({"a": account.id, "f": _fingerprint(account)})


def verify_url(account: Account) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return f"{base}/shop/account/verify/{verify_token(account)}"


def max_age_hours() -> int:
    return int(current_app.config["EMAIL_VERIFICATION_MAX_AGE_HOURS"])


def _read(token: str) -> tuple[int, str]:
    try:
        claims = _serializer().loads(token, max_age=max_age_hours() * 3600)
        return int(claims["a"]), str(claims["f"])
    except SignatureExpired:
        raise ValidationFailed("account.verification_link_expired", "This link has expired.",
                               {"token": ["Ask for a new link."]}) from None
    except (BadSignature, KeyError, TypeError, ValueError):
        raise _invalid() from None


def _invalid() -> ValidationFailed:
    return ValidationFailed("account.verification_link_invalid",
                            "This link does not work: it was used already, is for an "
                            "address the account no longer has, or is not ours.",
                            {"token": ["Ask for a new link."]})


def _fingerprint(account: Account) -> str:
    verified = account.email_verified_at
    stamp = verified.isoformat() if isinstance(verified, datetime) else ""
    return hashlib.sha256(f"{(account.email or '').lower()}|{stamp}".encode()).hexdigest()[:24]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)
