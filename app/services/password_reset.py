"""Forgotten passwords: a mailed, signed, expiring, single-use link to choose a new one.

Asking tells nobody whether the address has an account: the request itself only stores
an event (the same work for any address), and the event's handler looks the address up
and mails the link if there is an account. The link is signed with the account's id and a
fingerprint of its current password, so it works once (the new password changes the
fingerprint) and only until ``PASSWORD_RESET_MAX_AGE_MINUTES``; nothing of it is stored.

A new password ends every sign-in from before it: refresh tokens issued earlier are
refused, and console and shop sessions started earlier are signed out
(``accounts.signed_in_before_password_change``). Access tokens are short-lived and end on their own.
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
from app.services import (audit, email_verification, notifications, password_hashing,
                          password_policy, sign_in_sessions)
from app.services.accounts import find_user_by_email
from app.services.roles import CONSOLE_ROLES
from app.services.transactions import after_commit, unit_of_work
from app.services.validation import normalise_email

TEMPLATE = "password_reset"
SALT = "bookwell.password-reset"
# At most one link mailed per account in this many minutes, however often it is asked for.
MAIL_INTERVAL_MINUTES = 5
REQUESTED = ("If an account has this email address, we have emailed it a link to choose a "
             "new password.")


def request_reset(email: str) -> None:
    """Ask for a reset link for ``email``: stores the request, whatever the address."""
    try:
        address = normalise_email(email)
    except ValueError as exc:
        raise ValidationFailed("account.invalid_email", str(exc), {"email": [str(exc)]}) from exc
    with unit_of_work():
        events.publish("account.password_reset_requested", {"email": address})


def send_reset_link(*, event_id: str, topic: str, payload: dict) -> None:
    """``account.password_reset_requested``: mail the link if the address has an account."""
    with unit_of_work(joins=True):
        account = find_user_by_email(payload["email"])
        if account is None or not account.active:
            return
        bucket = int(utcnow().timestamp()) // (MAIL_INTERVAL_MINUTES * 60)
        ids = notifications.queue_account_message(
            account, TEMPLATE, dedupe_key=f"{TEMPLATE}:{account.id}:{bucket}",
            reset_url=reset_url(account), reset_minutes=max_age_minutes())
        if ids:
            audit.record("account.password_reset_requested", entity="account",
                         subject=account)
        after_commit(notifications.enqueue_sends, ids)


def reset_password(token: str, *, password: str) -> Account:
    """Set the password the link's holder chose; the link then no longer works."""
    account_id, fingerprint = _read(token)
    with unit_of_work():
        account = db.session.get(Account, account_id, with_for_update=True)
        if account is None or not account.active or _fingerprint(account) != fingerprint:
            raise _invalid()
        _set_password(account, password)
        audit.record("account.password_reset", entity="account", subject=account)
        # The link went to the address, so opening it proves the address too.
        email_verification.mark_verified(account)
        sign_in_sessions.end_all(account.id, reason="sessions_ended_by_password_reset")
    return account


def change_password(account_id: int, password: str, *, keep_session: str | None = None,
                    ) -> Account:
    """A new password chosen while signed in (the console's "Reset my password", or an
    admin's for someone): every sign-in but ``keep_session`` ends, as after a reset."""
    with unit_of_work():
        account = db.session.get(Account, account_id, with_for_update=True)
        if account is None:
            raise ValidationFailed("account.not_found", "There is no such account.",
                                   {"password": ["There is no such account."]})
        _set_password(account, password)
        audit.record("account.password_changed", entity="account", subject=account)
        sign_in_sessions.end_all(account.id, keep=keep_session,
                                 reason="sessions_ended_by_password_change")
    return account


def check_password_for(account_id: int | None, password: str) -> None:
    """The password rule for the account ``account_id`` names, as a form checks it before
    saving; no such account is a validation failure, not a crash."""
    account = db.session.get(Account, account_id) if account_id is not None else None
    if account is None:
        raise ValidationFailed("account.not_found", "There is no such account.",
                               {"password": ["There is no such account."]})
    check_new_password(account, password)


def check_new_password(account: Account, password: str) -> None:
    """The password rule for this account (its email and names count as guessable)."""
    password_policy.check_password(
        password, email=account.email or "",
        names=tuple(n for n in (account.first_name, account.last_name) if n))


def _set_password(account: Account, password: str) -> None:
    check_new_password(account, password)
    account.password = password_hashing.hash_password(password)
    account.password_changed_at = utcnow()
    account.fail_login_count = 0


def reset_token(account: Account) -> str:
    return _serializer().dumps({"a": account.id, "f": _fingerprint(account)})


def reset_url(account: Account) -> str:
    """Console accounts choose their password on the console's page, customers in the shop."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    path = "/password/reset" if account.role_names & CONSOLE_ROLES else "/shop/password/reset"
    return f"{base}{path}/{reset_token(account)}"


def max_age_minutes() -> int:
    return int(current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"])


def check_token(token: str) -> None:
    """Raise unless the link is one a new password may still be chosen with."""
    account_id, fingerprint = _read(token)
    account = db.session.get(Account, account_id)
    if account is None or not account.active or _fingerprint(account) != fingerprint:
        raise _invalid()


def _read(token: str) -> tuple[int, str]:
    try:
        claims = _serializer().loads(token, max_age=max_age_minutes() * 60)
        return int(claims["a"]), str(claims["f"])
    except SignatureExpired:
        raise ValidationFailed("account.reset_link_expired", "This link has expired.",
                               {"token": ["Ask for a new link."]}) from None
    except (BadSignature, KeyError, TypeError, ValueError):
        raise _invalid() from None


def _invalid() -> ValidationFailed:
    return ValidationFailed("account.reset_link_invalid",
                            "This link does not work: it was used already or is not ours.",
                            {"token": ["Ask for a new link."]})


def _fingerprint(account: Account) -> str:
    changed = account.password_changed_at
    stamp = changed.isoformat() if isinstance(changed, datetime) else ""
    return hashlib.sha256(f"{account.password or ''}|{stamp}".encode()).hexdigest()[:24]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)
