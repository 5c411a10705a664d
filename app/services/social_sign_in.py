"""Signing in with Google, Facebook or Apple: which account an identity provider's answer
opens, linking and unlinking, and the one-time codes apps exchange for tokens.

The rules that keep an account from being taken over:

- A (provider, subject) pair that is linked opens its account; nothing else is compared.
- Otherwise an account with the same address is linked only when the provider asserts
  the address as verified *and* the account's address is verified here. Anything less
  (an unverified account, a guest's address, Facebook's unasserted address) is refused
  with ``social.sign_in_with_password``: sign in with the password, then link.
- A new customer account is made only on the storefront and the API, never for the
  console; its address counts as verified when the provider asserted it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from app.extensions import db
from app.gateways.identity_providers import ORDER, PROVIDERS, ProviderIdentity
from app.models import Account, LinkedIdentity, SignInHandoff
from app.models.types import utcnow
from app.services import audit, email_verification, verified_actions
from app.services.accounts import find_user_by_email
from app.services.roles import CONSOLE_ROLES, CUSTOMER
from app.services.transactions import unit_of_work

SHOP, CONSOLE, API = "shop", "console", "api"
APP_CODE, APPLE_NAME = "app_code", "apple_name"
APP_CODE_SECONDS = 60
APPLE_NAME_SECONDS = 10 * 60
PROVIDER_KEYS = ORDER  # as the account page lists them


def label(provider: str) -> str:
    return PROVIDERS[provider].label


def account_for(identity: ProviderIdentity, *, surface: str) -> Account:
    """The account ``identity`` signs in to on ``surface`` (shop, console or api), linking
    or creating one where the rules allow; refused with a ``DomainError`` otherwise."""
    linked = _linked(identity.provider, identity.subject)
    if linked is not None:
        account = db.session.get(Account, linked.account_id)
        _check_may_sign_in(account, identity, surface)
        _touch(linked)
        return account
    if not identity.email:
        raise ValidationFailed(
            "social.email_missing",
            f"{label(identity.provider)} did not share an email address. Register with "
            "your email address instead.")
    existing = find_user_by_email(identity.email)
    if existing is not None:
        if not (identity.email_verified and existing.email_verified_at is not None):
            _audit_refusal(existing, identity, surface, "unverified_email")
            raise Conflict(
                "social.sign_in_with_password",
                f"An account with this email address exists already. Sign in with your "
                f"password (\"Forgot your password?\" sends a link to choose one), then "
                f"link {label(identity.provider)} on your account page.")
        _check_may_sign_in(existing, identity, surface)
        _link_verified_match(existing, identity)
        return existing
    if surface == CONSOLE:
        raise Forbidden("social.no_console_account",
                        "No staff account has this address. Ask an admin to add you.")
    return _new_customer(identity)


def _check_may_sign_in(account: Account, identity: ProviderIdentity, surface: str) -> None:
    if not account.active:
        _audit_refusal(account, identity, surface, "inactive")
        raise Unauthorized("auth.account_inactive", "This account is switched off.")
    if surface == CONSOLE and not CONSOLE_ROLES & set(account.role_names):
        _audit_refusal(account, identity, surface, "no_console_role")
        raise Forbidden("social.no_console_account",
                        "This account has no access to the console.")


@unit_of_work()
def _audit_refusal(account: Account, identity: ProviderIdentity, surface: str,
                   reason: str) -> None:
    audit.record("account.sign_in_failed", entity="account", entity_id=account.id,
                 changes={"surface": surface, "reason": reason,
                          "provider": identity.provider})


@unit_of_work()
def _touch(linked: LinkedIdentity) -> None:
    linked.last_used_at = utcnow()


def _link_verified_match(account: Account, identity: ProviderIdentity) -> None:
    try:
        with unit_of_work():
            _add_link(account, identity, reason="verified_email_match")
    except IntegrityError:
        db.session.rollback()  # the same sign-in, finished twice at once: one link stands
        if _linked(identity.provider, identity.subject) is None:
            raise


def _new_customer(identity: ProviderIdentity) -> Account:
    role = current_app.appbuilder.sm.find_role(CUSTOMER)
    account = Account(email=identity.email.strip(), username=identity.email.strip(),
                      first_name=identity.first_name.strip(),
                      last_name=identity.last_name.strip(), password=None, active=True,
                      email_verified_at=utcnow() if identity.email_verified else None)
    account.roles = [role]
    try:
        with unit_of_work():
            db.session.add(account)
            audit.record("account.registered", entity="account", subject=account,
                         changes={"provider": identity.provider})
            db.session.flush()
            _add_link(account, identity, reason="registered")
            if account.email_verified_at is None:
                email_verification.publish_request(account)
    except IntegrityError:
        # The same first sign-in twice at once (or the address registered meanwhile):
        # whichever committed decides; the rules run again on what is there now.
        db.session.rollback()
        return account_for(identity, surface=SHOP)
    return account


def _add_link(account: Account, identity: ProviderIdentity, *, reason: str) -> None:
    db.session.add(LinkedIdentity(account_id=account.id, provider=identity.provider,
                                  subject=identity.subject, email=identity.email,
                                  last_used_at=utcnow()))
    db.session.flush()
    audit.record("account.identity_linked", entity="account", entity_id=account.id,
                 changes={"provider": identity.provider, "reason": reason})


def link(account: Account, identity: ProviderIdentity) -> None:
    """Link ``identity`` to the signed-in ``account`` (from its account page). Needs a
    verified address (``link_social``); one sign-in per provider per account."""
    verified_actions.require_verified(account, "link_social")
    linked = _linked(identity.provider, identity.subject)
    if linked is not None and linked.account_id == account.id:
        return
    if linked is not None:
        raise Conflict("social.identity_taken",
                       f"This {label(identity.provider)} sign-in belongs to another account.")
    if _linked_to(account.id, identity.provider) is not None:
        raise Conflict("social.provider_linked",
                       f"Another {label(identity.provider)} sign-in is linked already: "
                       "unlink it first.")
    try:
        with unit_of_work():
            _add_link(account, identity, reason="linked_by_holder")
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("social.identity_taken", f"This {label(identity.provider)} sign-in "
                       "belongs to another account.") from exc


def unlink(account: Account, provider: str) -> None:
    """Remove a linked sign-in while another way in remains (a password or another
    link)."""
    with unit_of_work():
        linked = _linked_to(account.id, provider, for_update=True)
        if linked is None:
            raise NotFound("social.not_linked", "No such sign-in is linked to your account.")
        others = db.session.scalar(select(func.count()).select_from(LinkedIdentity).where(
            LinkedIdentity.account_id == account.id, LinkedIdentity.id != linked.id))
        if not account.password and not others:
            raise Conflict("account.last_sign_in_method",
                           f"{label(provider)} is your only way to sign in. Choose a "
                           "password first (\"Forgot your password?\" sends a link).")
        db.session.delete(linked)
        audit.record("account.identity_unlinked", entity="account", entity_id=account.id,
                     changes={"provider": provider})


def identities(account_id: int) -> list[LinkedIdentity]:
    return list(db.session.scalars(select(LinkedIdentity).where(
        LinkedIdentity.account_id == account_id).order_by(LinkedIdentity.created_at)))


def delete_for_account(account_id: int) -> None:
    """Erasure: the links and any pending handoffs go (inside the caller's unit of work)."""
    db.session.execute(delete(LinkedIdentity).where(LinkedIdentity.account_id == account_id))
    db.session.execute(delete(SignInHandoff).where(SignInHandoff.account_id == account_id))


def _linked(provider: str, subject: str) -> LinkedIdentity | None:
    return db.session.scalar(select(LinkedIdentity).where(
        LinkedIdentity.provider == provider, LinkedIdentity.subject == subject))


def _linked_to(account_id: int, provider: str, *, for_update: bool = False
               ) -> LinkedIdentity | None:
    query = select(LinkedIdentity).where(LinkedIdentity.account_id == account_id,
                                         LinkedIdentity.provider == provider)
    return db.session.scalar(query.with_for_update() if for_update else query)


def check_app_redirect_uri(uri: str) -> None:
    """Apps get their code only at an address configured for them, compared exactly."""
    if uri not in current_app.config.get("SOCIAL_APP_REDIRECT_URIS", ()):
        raise ValidationFailed("social.redirect_uri_not_allowed",
                               "This redirect_uri is not registered for apps.",
                               {"redirect_uri": ["Not one of the registered app addresses."]})


# One-time values between requests --------------------------------------------------------

def issue_app_code(account_id: int, code_challenge: str | None = None) -> str:
    """A single-use code (``APP_CODE_SECONDS``) the app exchanges for tokens; with PKCE,
    only together with the verifier of ``code_challenge`` (S256)."""
    code = secrets.token_urlsafe(32)
    _keep(code, APP_CODE, APP_CODE_SECONDS, account_id=account_id,
          payload={"code_challenge": code_challenge} if code_challenge else None)
    return code


def exchange_app_code(code: str, code_verifier: str | None = None) -> Account:
    """The account a code was issued for; the code is spent whatever the outcome."""
    invalid = Unauthorized("auth.social_code_invalid",
                           "This sign-in code is wrong, expired or used already.")
    row = _take(code or "", APP_CODE)
    if row is None:
        raise invalid
    account_id, payload = row
    challenge = (payload or {}).get("code_challenge")
    if challenge and not secrets.compare_digest(challenge, _s256(code_verifier or "")):
        raise invalid
    account = db.session.get(Account, account_id)
    if account is None or not account.active:
        raise invalid
    return account


def keep_apple_name(state: str, user: dict) -> None:
    """Apple posts the person's name once, to a request without our session cookie: kept
    under the sign-in's state until the callback that follows reads it."""
    _keep(state, APPLE_NAME, APPLE_NAME_SECONDS, payload=user)


def take_apple_name(state: str | None) -> dict | None:
    row = _take(state or "", APPLE_NAME)
    return row[1] if row else None


def purge_expired_handoffs(now: datetime | None = None) -> int:
    with unit_of_work():
        result = db.session.execute(delete(SignInHandoff).where(
            SignInHandoff.expires_at < (now or utcnow())))
    return result.rowcount or 0


def _keep(key: str, kind: str, seconds: int, *, account_id: int | None = None,
          payload: dict | None = None) -> None:
    with unit_of_work():
        db.session.merge(SignInHandoff(
            key_hash=_hash(kind, key), kind=kind, account_id=account_id,
            payload=json.dumps(payload) if payload is not None else None,
            expires_at=utcnow() + timedelta(seconds=seconds)))


def _take(key: str, kind: str) -> tuple[int | None, dict | None] | None:
    """Delete and return a live handoff in one statement, so only one request gets it."""
    if not key:
        return None
    with unit_of_work():
        row = db.session.execute(
            delete(SignInHandoff).where(SignInHandoff.key_hash == _hash(kind, key),
                                        SignInHandoff.kind == kind)
            .returning(SignInHandoff.account_id, SignInHandoff.payload,
                       SignInHandoff.expires_at)).first()
    if row is None or row.expires_at <= utcnow():
        return None
    return row.account_id, json.loads(row.payload) if row.payload else None


def _hash(kind: str, key: str) -> str:
    return hashlib.sha256(f"{kind}:{key}".encode()).hexdigest()


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
