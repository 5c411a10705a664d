"""Customer accounts: sign-up, sign-in with JWTs, token refresh and revocation, profile."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app.errors import Unauthorized, ValidationFailed
from app.extensions import db
from app.models import RevokedToken, Account
from app.models.types import utcnow
from app.services import (
    audit,
    email_verification,
    notifications,
    password_hashing,
    password_policy,
    sign_in_sessions,
    verified_actions,
)
from app.services.roles import CUSTOMER
from app.services.transactions import after_commit, unit_of_work
from app.services.validation import (
    check_locale,
    check_timezone,
    normalise_email,
    normalise_phone,
)

MIN_PASSWORD_LENGTH = password_policy.MIN_LENGTH
PROFILE_FIELDS = ("email", "first_name", "last_name", "phone", "locale", "timezone", "marketing_consent")
# What every registration is answered with, whether it created an account or not.
REGISTRATION_RECEIVED = ("Registration received: sign in with this email address and "
                         "password. If the address already had an account, nothing was "
                         "changed and we have emailed its holder instead.")


def find_user_by_email(email: str) -> Account | None:
    return db.session.scalar(select(Account).where(func.lower(Account.email) == email.lower()))


def register_customer(
    *, email: str, password: str, first_name: str, last_name: str, **profile
) -> None:
    """Create a customer account, or, when the address has an account already, email its
    holder instead. The caller cannot tell the two apart (same answer, the same work
    done: every field checked, one password hash, one commit), so registration does not
    reveal who has an account. Invalid fields are refused either way."""
    email = _checked(normalise_email, email, "email")
    password_policy.check_password(password, email=email, names=(first_name, last_name))
    role = current_app.appbuilder.sm.find_role(CUSTOMER)
    if role is None:
        raise RuntimeError("Role Customer is missing: run `flask bookwell sync-roles`.")
    user = Account(
        email=email,
        username=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        password=password_hashing.hash_password(password),
        active=True,
    )
    _apply_profile(user, profile)  # validated before the address is looked up
    existing = find_user_by_email(email)
    if existing is not None:
        _tell_holder_of_attempt(existing)
        return
    user.roles = [role]  # only once valid: the role's backref would pull a half-made user in
    try:
        _add_account(user)
    except IntegrityError:
        # Two sign-ups with one address raced; the unique index on lower(email) decided.
        existing = find_user_by_email(email)
        if existing is None:
            raise
        _tell_holder_of_attempt(existing)


@unit_of_work()
def _add_account(user: Account) -> None:
    db.session.add(user)
    audit.record("account.registered", entity="account", subject=user)
    db.session.flush()  # the event names the account by its id
    email_verification.publish_request(user)


@unit_of_work()
def _tell_holder_of_attempt(existing: Account) -> None:
    """Email the holder of an address someone tried to register again (sign-in and
    password reset are what they may have been looking for); nothing else changes."""
    ids = notifications.queue_registration_attempt(existing)
    audit.record("account.registration_attempted", entity="account", subject=existing)
    after_commit(notifications.enqueue_sends, ids)


def authenticate(*, email: str, password: str) -> Account:
    user = find_user_by_email(email.strip())
    if user is None or not user.active or not user.password:
        password_hashing.spend_a_check(password)
        raise Unauthorized("auth.invalid_credentials", "Email or password is wrong.")
    if not password_hashing.password_matches(user.password, password):
        _count_failed_login(user)
        raise Unauthorized("auth.invalid_credentials", "Email or password is wrong.")
    _count_login(user)
    return user


@unit_of_work()
def _count_failed_login(user: Account) -> None:
    user.fail_login_count = (user.fail_login_count or 0) + 1
    # Only a wrong password for an existing account is an account event; an unknown
    # address has no account to file it under.
    audit.record("account.sign_in_failed", entity="account", subject=user)


@unit_of_work()
def record_failed_console_sign_in(email: str, *, password_accepted: bool) -> None:
    """A console sign-in refused after Flask-AppBuilder's own password check (which counts
    the failure itself): filed under the account when there is one, as on the API."""
    user = find_user_by_email((email or "").strip())
    if user is not None:
        reason = ("no_console_role" if password_accepted
                  else "wrong_password" if user.active else "inactive")
        audit.record("account.sign_in_failed", entity="account", entity_id=user.id,
                     changes={"surface": "console", "reason": reason})


@unit_of_work()
def _count_login(user: Account) -> None:
    user.login_count = (user.login_count or 0) + 1
    user.fail_login_count = 0
    user.last_login = datetime.now()  # FAB's column is naive local time


def sign_in_api(user: Account, *, user_agent: str = "", address: str | None = None) -> dict:
    """A new API session for ``user`` (authenticated already) and its token pair."""
    session_id = sign_in_sessions.start(user.id, sign_in_sessions.API, user_agent=user_agent,
                                        address=address)
    return issue_tokens(user, session_id=session_id)


def issue_tokens(user: Account, *, session_id: str | None = None) -> dict:
    """A token pair; both carry the session (``sid``) they belong to, if any."""
    identity = str(user.id)
    session = {"sid": session_id} if session_id else {}
    claims = {"roles": sorted(user.role_names), **session}
    return {
        "access_token": create_access_token(identity=identity, additional_claims=claims),
        "refresh_token": create_refresh_token(identity=identity, additional_claims=session),
        "token_type": "Bearer",
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    }


def refresh_tokens(*, user: Account, refresh_claims: dict) -> dict:
    """Rotate: the presented refresh token is revoked and a new pair of the same session
    is issued."""
    _revoke(refresh_claims, user.id)
    session_id = refresh_claims.get("sid")
    if session_id:
        sign_in_sessions.touch(session_id)
    return issue_tokens(user, session_id=session_id)


def logout(*, user: Account, refresh_claims: dict) -> None:
    _revoke(refresh_claims, user.id)
    if refresh_claims.get("sid"):
        sign_in_sessions.end(user.id, refresh_claims["sid"], missing_ok=True)


@dataclass(frozen=True)
class Identity:
    """The account a verified token names, without the ORM account and without a query:
    whoever accepts one checks the account itself (see ``bookings.place_booking``)."""

    id: int
    role_names: frozenset[str] = frozenset()
    is_authenticated = True
    is_active = True
    is_anonymous = False


def token_identity(subject) -> Identity | None:
    """The ``Identity`` of a verified token's subject; None when it names no account id."""
    try:
        return Identity(id=int(subject))
    except (TypeError, ValueError):
        return None


def is_token_revoked(jwt_payload: dict) -> bool:
    # An access token ends with its session (one primary-key read); beyond that only
    # refresh tokens are revocable, access tokens being short-lived.
    session_id = jwt_payload.get("sid")
    if session_id and sign_in_sessions.is_ended(session_id):
        return True
    if jwt_payload.get("type") != "refresh":
        return False
    if db.session.get(RevokedToken, jwt_payload["jti"]) is not None:
        return True
    account = db.session.get(Account, int(jwt_payload["sub"]))
    return account is not None and signed_in_before_password_change(
        account, jwt_payload.get("iat", 0))


def signed_in_before_password_change(account: Account, signed_in_at: float | None) -> bool:
    """A new password ends every sign-in from before it: True when a sign-in made at
    ``signed_in_at`` (Unix seconds; None: not known, from before sign-in times were kept)
    is older than the account's last new password."""
    changed = account.password_changed_at
    if changed is None:
        return False
    # Whole seconds, as tokens carry them: a sign-in in the same second still counts.
    return signed_in_at is None or int(signed_in_at) < int(changed.timestamp())


@unit_of_work()
def purge_expired_revocations(now: datetime | None = None) -> int:
    """Revocations of tokens past their expiry are dead weight."""
    result = db.session.execute(
        delete(RevokedToken).where(RevokedToken.expires_at < (now or utcnow()))
    )
    return result.rowcount


@unit_of_work()
def update_profile(*, user: Account, changes: dict) -> Account:
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(
            "account.unknown_fields",
            "These fields cannot be changed here.",
            {name: ["Unknown field."] for name in sorted(unknown)},
        )
    _apply_profile(user, changes)
    if getattr(user, "notify_sms", False) and not user.phone:  # nothing of it is kept
        raise ValidationFailed("account.sms_needs_phone",
                               "Text messages need a phone number.",
                               {"notify_sms": ["Add a phone number first."]})
    return user


def _apply_profile(user: Account, values: dict) -> None:
    for name, value in values.items():
        if name == "phone" and value:
            value = _checked(normalise_phone, value, "phone")
        elif name == "phone":
            value = None
        elif name == "timezone":
            value = _checked(check_timezone, value, "timezone")
        elif name == "locale":
            value = _checked(check_locale, value, "locale")
        elif name == "email":
            _change_email(user, value)
            continue
        elif name in ("first_name", "last_name"):
            value = value.strip()
            if not value:
                raise ValidationFailed(
                    "account.invalid", "A name cannot be empty.", {name: ["Cannot be empty."]}
                )
        setattr(user, name, value)


def _change_email(user: Account, value) -> None:
    """A new address needs a proven old one (when configured), starts unverified and is
    mailed a link; the old address's links stop working (their fingerprint changes)."""
    email = _checked(normalise_email, value or "", "email")
    if email.lower() == (user.email or "").lower():
        return
    verified_actions.require_verified(user, "change_email")
    other = find_user_by_email(email)
    if other is not None and other.id != user.id:
        raise ValidationFailed("account.email_taken", "Use another email address.",
                               {"email": ["Use another email address."]})
    if (user.username or "").lower() == (user.email or "").lower():
        user.username = email
    user.email = email
    user.email_verified_at = None
    audit.record("account.email_changed", entity="account", subject=user)
    email_verification.publish_request(user)


def _checked(check, value, field: str):
    try:
        return check(value)
    except ValueError as exc:
        raise ValidationFailed(f"account.invalid_{field}", str(exc), {field: [str(exc)]}) from exc


def _revoke(claims: dict, user_id: int) -> None:
    """Revoke and commit; a token presented twice at once is revoked by exactly one."""
    revoked = Unauthorized("auth.token_revoked", "This token has been revoked.")
    try:
        with unit_of_work():
            if db.session.get(RevokedToken, claims["jti"]) is not None:
                raise revoked
            db.session.add(
                RevokedToken(
                    jti=claims["jti"],
                    user_id=user_id,
                    expires_at=datetime.fromtimestamp(claims["exp"], tz=timezone.utc),
                )
            )
    except IntegrityError as exc:
        raise revoked from exc
