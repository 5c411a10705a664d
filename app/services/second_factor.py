"""Two-factor sign-in for the console: an authenticator app (TOTP, RFC 6238) and recovery
codes. The one place for its rules; the console's pages and the API's login call it.

- Setting up: :func:`begin_enrolment` stores a new secret (encrypted) and gives the
  ``otpauth://`` address for the app's QR code; :func:`confirm_enrolment` takes a first code
  from the app, switches the second factor on and returns ten recovery codes, shown once
  and stored hashed.
- Signing in: :func:`verify` accepts a code of the current 30-second step or the one
  either side (clocks drift), each step once (a replayed code is refused), or an unused
  recovery code (then used up).
- Admins must have one when ``CONSOLE_REQUIRE_2FA`` is on (:func:`required_for`); staff may.
- An admin can reset another account's second factor (:func:`reset_by_admin`).

Every change is audited under the account (``account.second_factor_*``).
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from app.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from app.extensions import db
from app.models import Account, AuditLog, RecoveryCode, SecondFactor
from app.models.types import MAX_ID, utcnow
from app.services import audit
from app.services.scopes import Scope, require_scope
from app.services.transactions import unit_of_work

STEP_SECONDS = 30
VALID_WINDOW = 1  # steps either side of now: an app's clock may be half a minute off
RECOVERY_CODE_COUNT = 10
ISSUER = "Bookwell"

SECOND_FACTOR_REQUIRED = ("auth.second_factor_required",
                          "Enter the 6-digit code from your authenticator app, or a "
                          "recovery code.")
# Per account, whatever the address or session: then codes are refused until the window
# has passed (the code page's and the login's per-address limits come first).
WRONG_CODES_PER_ACCOUNT = 10
WRONG_CODES_WINDOW = timedelta(minutes=15)
SECOND_FACTOR_SETUP_REQUIRED = ("auth.second_factor_setup_required",
                                "This account must sign in with two-factor sign-in: set it "
                                "up in the console first.")
SECOND_FACTOR_INVALID = ("auth.second_factor_invalid",
                         "That code is not right, or was used already. Enter the current "
                         "code from your authenticator app, or an unused recovery code.")


@dataclass(frozen=True)
class Enrolment:
    """A secret being set up: the address for the QR code, and the secret written out
    (in groups of four) for typing into an app by hand."""

    secret: str
    uri: str

    @property
    def secret_grouped(self) -> str:
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


@dataclass(frozen=True)
class Status:
    enabled: bool
    enrolling: bool
    confirmed_at: datetime | None
    recovery_codes_left: int


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


# --- the secret at rest ------------------------------------------------------------------

def _fernet() -> Fernet:
    """A Fernet key derived from TOTP_ENCRYPTION_KEY, else SECRET_KEY: any string of a
    setting becomes a valid key, and the two uses of SECRET_KEY never share a key."""
    source = current_app.config.get("TOTP_ENCRYPTION_KEY") or current_app.config["SECRET_KEY"]
    digest = hashlib.sha256(b"bookwell second factor\0" + str(source).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _encrypt(secret: str) -> bytes:
    return _fernet().encrypt(secret.encode())


def _decrypt(token: bytes) -> str | None:
    try:
        return _fernet().decrypt(bytes(token)).decode()
    except InvalidToken:  # the key changed: the authenticator is unreadable (admin resets)
        return None


# --- reading -----------------------------------------------------------------------------

def _factor(account_id: int) -> SecondFactor | None:
    return db.session.get(SecondFactor, account_id)


def is_enabled(account_id: int) -> bool:
    factor = _factor(account_id)
    return factor is not None and factor.confirmed_at is not None


def required_for(account: Account) -> bool:
    """Whether the account must have a second factor to use the console: admins, when
    ``CONSOLE_REQUIRE_2FA`` is on."""
    return bool(current_app.config.get("CONSOLE_REQUIRE_2FA")) and account.is_admin


def status(account_id: int) -> Status:
    factor = _factor(account_id)
    left = db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None))) or 0
    return Status(enabled=factor is not None and factor.confirmed_at is not None,
                  enrolling=factor is not None and factor.confirmed_at is None,
                  confirmed_at=factor.confirmed_at if factor else None,
                  recovery_codes_left=left if factor and factor.confirmed_at else 0)


def pending_enrolment(account_id: int) -> Enrolment | None:
    """The secret being set up (not yet confirmed), to show its QR code again."""
    factor = _factor(account_id)
    if factor is None or factor.confirmed_at is not None:
        return None
    secret = _decrypt(factor.secret_encrypted)
    if secret is None:
        return None
    return _enrolment(db.session.get(Account, account_id), secret)


def _enrolment(account: Account, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.email, issuer_name=_issuer())
    return Enrolment(secret=secret, uri=uri)


def _issuer() -> str:
    return current_app.config.get("APP_NAME") or ISSUER


def account_for_sign_in(account_id: int) -> Account | None:
    """The account a pending console sign-in names, if it may still sign in."""
    account = db.session.get(Account, account_id) if 0 < account_id <= MAX_ID else None
    return account if account is not None and account.active else None


# --- setting up --------------------------------------------------------------------------

@unit_of_work()
def begin_enrolment(account_id: int) -> Enrolment:
    """A new secret for the account's authenticator app, waiting for a first code. An
    unconfirmed one is replaced; a confirmed one must be turned off first."""
    account = db.session.get(Account, account_id)
    if account is None:
        raise NotFound("account.not_found", "No such account.")
    factor = _factor(account_id)
    if factor is not None and factor.confirmed_at is not None:
        raise ValidationFailed("second_factor.already_on",
                               "Two-factor sign-in is on already. Turn it off first to set "
                               "up another app.")
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    if factor is None:
        db.session.add(SecondFactor(account_id=account_id, secret_encrypted=_encrypt(secret)))
    else:
        factor.secret_encrypted, factor.created_at = _encrypt(secret), utcnow()
        factor.last_used_step = None
    audit.record("account.second_factor_setup_started", entity="account",
                 entity_id=account_id, provider_id=account.provider_id)
    return _enrolment(account, secret)


@unit_of_work()
def confirm_enrolment(account_id: int, code: str, *, now: datetime | None = None) -> list[str]:
    """Switch two-factor sign-in on with a first code from the app; returns the recovery
    codes (shown once: only their hashes are kept)."""
    factor = _factor(account_id)
    if factor is None or factor.confirmed_at is not None:
        raise ValidationFailed("second_factor.not_setting_up",
                               "There is no authenticator app being set up. Start again.")
    step = _matching_step(factor, code, _now(now))
    if step is None:
        raise ValidationFailed("second_factor.code_invalid",
                               "That code is not right. Enter the 6-digit code your app "
                               "shows now.", {"code": ["That code is not right."]})
    factor.confirmed_at, factor.last_used_step = _now(now), step
    codes = _new_recovery_codes(account_id, _now(now))
    audit.record("account.second_factor_enabled", entity="account", entity_id=account_id,
                 provider_id=_provider_of(account_id))
    return codes


def _new_recovery_codes(account_id: int, now: datetime) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(account_id=account_id, code_hash=_hash(code),
                                    created_at=now) for code in codes)
    return codes


def _recovery_code() -> str:
    # 10 characters of base32 (50 bits), grouped for reading: xxxxx-xxxxx
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:10]
    return f"{raw[:5]}-{raw[5:]}"


def _hash(code: str) -> str:
    return hashlib.sha256(_normal_recovery_code(code).encode()).hexdigest()


def _normal_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


# --- checking a code ---------------------------------------------------------------------

def _totp_code(code: str) -> str | None:
    digits = "".join(code.split())
    return digits if len(digits) == 6 and digits.isdigit() else None


def _matching_step(factor: SecondFactor, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to (now or one step either side), if it is right
    and newer than the last accepted one."""
    digits = _totp_code(code or "")
    secret = _decrypt(factor.secret_encrypted) if digits else None
    if secret is None:
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if factor.last_used_step is not None and step <= factor.last_used_step:
            continue
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), digits):
            return step
    return None


def verify(account_id: int, code: str, *, surface: str = "console",
           now: datetime | None = None) -> bool:
    """Whether ``code`` (from the app, or an unused recovery code) proves the account's
    second factor; an accepted code cannot be used again. A wrong one is audited."""
    moment = _now(now)
    if _wrong_codes_lately(account_id) >= WRONG_CODES_PER_ACCOUNT:
        # Whatever the address or session: guessing is bounded per account.
        _record_wrong_code(account_id, surface, reason="too_many_wrong_codes")
        return False
    accepted = _accept(account_id, code or "", moment)
    if not accepted:
        _record_wrong_code(account_id, surface)
    return accepted


@unit_of_work()
def _accept(account_id: int, code: str, now: datetime) -> bool:
    factor = _factor(account_id)
    if factor is None or factor.confirmed_at is None:
        return False
    step = _matching_step(factor, code, now)
    if step is not None:
        # Conditional, so two requests racing with one code cannot both win.
        taken = db.session.execute(
            update(SecondFactor)
            .where(SecondFactor.account_id == account_id,
                   or_(SecondFactor.last_used_step.is_(None),
                       SecondFactor.last_used_step < step))
            .values(last_used_step=step).execution_options(synchronize_session=False))
        return taken.rowcount == 1
    if _totp_code(code) is not None or len(_normal_recovery_code(code)) != 10:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None),
               RecoveryCode.code_hash == _hash(code))
        .values(used_at=now).execution_options(synchronize_session=False))
    if used.rowcount != 1:
        return False
    left = db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None)))
    audit.record("account.second_factor_recovery_code_used", entity="account",
                 entity_id=account_id, provider_id=_provider_of(account_id),
                 changes={"recovery_codes_left": left})
    return True


def _wrong_codes_lately(account_id: int) -> int:
    """Wrong codes for the account in the last ``WRONG_CODES_WINDOW``, counted from the
    audit trail that records each one (so the count holds across sessions and addresses).
    Audit rows carry the wall-clock time, so the window is read on that clock."""
    since = datetime.now(timezone.utc) - WRONG_CODES_WINDOW
    return db.session.scalar(
        select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "account.sign_in_failed", AuditLog.entity == "account",
            AuditLog.entity_id == str(account_id),
            AuditLog.created_at >= since,
            AuditLog.changes["reason"].as_string() == "wrong_second_factor"))


@unit_of_work()
def _record_wrong_code(account_id: int, surface: str,
                       reason: str = "wrong_second_factor") -> None:
    audit.record("account.sign_in_failed", entity="account", entity_id=account_id,
                 provider_id=_provider_of(account_id),
                 changes={"surface": surface, "reason": reason})


def check_api_sign_in(account: Account, code: str | None, *,
                      now: datetime | None = None) -> None:
    """The API's login for an account with a second factor: the code must come along. An
    account that must have one (an admin, with ``CONSOLE_REQUIRE_2FA``) but has none gets
    no tokens: a password alone would otherwise reach everything the console guards."""
    if not is_enabled(account.id):
        if required_for(account):
            raise Forbidden(*SECOND_FACTOR_SETUP_REQUIRED)
        return
    if not (code or "").strip():
        raise Unauthorized(*SECOND_FACTOR_REQUIRED)
    if not verify(account.id, code, surface="api", now=now):
        raise Unauthorized(*SECOND_FACTOR_INVALID)


# --- changing it -------------------------------------------------------------------------

def regenerate_recovery_codes(account_id: int, code: str, *,
                              now: datetime | None = None) -> list[str]:
    """New recovery codes (the old ones stop working), after a code proves the holder."""
    _require_code(account_id, code, now)
    return _store_new_codes(account_id, _now(now))


@unit_of_work()
def _store_new_codes(account_id: int, now: datetime) -> list[str]:
    codes = _new_recovery_codes(account_id, now)
    audit.record("account.second_factor_recovery_codes_renewed", entity="account",
                 entity_id=account_id, provider_id=_provider_of(account_id))
    return codes


def disable(account_id: int, code: str, *, now: datetime | None = None) -> None:
    """Turn two-factor sign-in off, after a code proves the holder. (An admin who must
    have it is asked to set up an app again at once.)"""
    _require_code(account_id, code, now)
    _remove(account_id, "account.second_factor_disabled", changes=None)


def _require_code(account_id: int, code: str, now: datetime | None) -> None:
    if not is_enabled(account_id):
        raise ValidationFailed("second_factor.off", "Two-factor sign-in is not on.")
    if not verify(account_id, code, now=now):
        raise ValidationFailed("second_factor.code_invalid", SECOND_FACTOR_INVALID[1],
                               {"code": ["That code is not right, or was used already."]})


def account_in_scope(account_id: int, *, scope: Scope) -> Account:
    """The account, if ``scope`` reaches it (a provider's staff: their provider's only)."""
    require_scope(scope)
    account = db.session.get(Account, account_id) if 0 < account_id <= MAX_ID else None
    if account is None or not scope.allows(account.provider_id):
        raise NotFound("account.not_found", "No such account.")
    return account


def reset_by_admin(account_id: int, *, scope: Scope) -> None:
    """An admin removes another account's second factor (a lost phone): the account signs
    in with its password alone until it sets up a new app (admins are asked at once).

    Only an every-provider scope (admins) may; a provider's staff are refused, and for
    another provider's account (or none) it is as if it did not exist."""
    account_in_scope(account_id, scope=scope)
    if not scope.every_provider:
        raise Forbidden("second_factor.admins_only",
                        "Only an admin can reset someone's two-factor sign-in.")
    had_one = _factor(account_id) is not None
    _remove(account_id, "account.second_factor_reset", changes={"had_second_factor": had_one})


@unit_of_work()
def _remove(account_id: int, action: str, *, changes: dict | None) -> None:
    delete_for_account(account_id)
    audit.record(action, entity="account", entity_id=account_id,
                 provider_id=_provider_of(account_id), changes=changes)


def delete_for_account(account_id: int) -> None:
    """Remove the account's authenticator and recovery codes, inside the caller's unit of
    work (turning off, a reset, an erasure)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
    db.session.execute(delete(SecondFactor).where(SecondFactor.account_id == account_id))


def _provider_of(account_id: int) -> int | None:
    return db.session.scalar(select(Account.provider_id).where(Account.id == account_id))
