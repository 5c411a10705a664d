"""Booking without a password: the guest's account, and the signed links that manage a
booking without signing in.

A guest is a customer account without a password (it cannot sign in with one). Booking
again as a guest with the same address uses the same account, so every booking of that
address is in one place. Registering later with that address does not take the account
over: its holder is emailed instead (``accounts.register_customer``), and the guest makes
it a full account through the mailed "choose a password" link (``finish_guest_account``),
which proves the address. A guest manages the booking through the signed link mailed with
it (``manage_links``).
"""
from __future__ import annotations

from dataclasses import dataclass
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Account
from app.services import audit
from app.services import email_verification, manage_links, password_hashing, password_policy
from app.services.accounts import find_user_by_email
from app.services.roles import CUSTOMER
from app.services.transactions import unit_of_work
from app.services.validation import check_locale, normalise_email, normalise_phone

NAME_MAX_LENGTH = 64


@dataclass(frozen=True)
class GuestDetails:
    email: str
    first_name: str
    last_name: str
    phone: str | None
    locale: str


def checked_guest(*, email: str, first_name: str, last_name: str, phone: str = "",
                  locale: str = "en") -> GuestDetails:
    """The guest's details, normalised, or every problem at once (422)."""
    errors: dict[str, list[str]] = {}
    try:
        email = normalise_email(email)
    except ValueError as exc:
        errors["email"] = [str(exc)]
    names = {"first_name": first_name.strip(), "last_name": last_name.strip()}
    for field, value in names.items():
        if not value:
            errors[field] = ["Cannot be empty."]
        elif len(value) > NAME_MAX_LENGTH:
            errors[field] = [f"At most {NAME_MAX_LENGTH} characters."]
    try:
        phone = normalise_phone(phone) if phone.strip() else None
    except ValueError as exc:
        errors["phone"] = [str(exc)]
    try:
        locale = check_locale(locale)
    except ValueError:
        locale = "en"
    if errors:
        raise ValidationFailed("guest.invalid", "Please check your details.", errors)
    return GuestDetails(email=email, phone=phone, locale=locale, **names)


def guest_customer_id(details: GuestDetails) -> int:
    """The customer account of the guest's address: found, or made without a password.
    An address of a staff or admin account cannot book as a guest."""
    existing = find_user_by_email(details.email)
    if existing is None:
        try:
            return _new_guest(details)
        except IntegrityError:  # the same address, at the same moment
            existing = find_user_by_email(details.email)
            if existing is None:
                raise
    if CUSTOMER not in existing.role_names:
        raise ValidationFailed("guest.not_a_customer_address",
                               "Please use another email address to book.",
                               {"email": ["Please use another email address."]})
    return existing.id


@unit_of_work()
def _new_guest(details: GuestDetails) -> int:
    role = current_app.appbuilder.sm.find_role(CUSTOMER)
    guest = Account(email=details.email, username=details.email,
                    first_name=details.first_name, last_name=details.last_name,
                    phone=details.phone, locale=details.locale, password=None, active=True)
    guest.roles = [role]
    db.session.add(guest)
    db.session.flush()
    audit.record("account.guest_created", entity="account", subject=guest)
    return guest.id


def is_guest(account: Account) -> bool:
    return not account.password


def guest_to_finish(token: str) -> Account:
    """The guest a finish-account link is for, while it may still be used; else 404."""
    grant = manage_links.read_finish_account_token(token)
    account = db.session.get(Account, grant.account_id)
    if account is None or account.password or account.email.lower() != grant.email:
        raise NotFound("account.link_invalid", "This link does not work.")
    return account


def finish_guest_account(token: str, *, password: str) -> Account:
    """A guest chooses a password: the account (and every booking already in it) becomes
    a full one, its address verified. A link for an account that has a password already,
    or whose address changed, does nothing (404); a short password: 422."""
    grant = manage_links.read_finish_account_token(token)
    password_policy.check_password(password, email=grant.email)
    with unit_of_work():
        account = db.session.get(Account, grant.account_id, with_for_update=True)
        if account is None or account.password or account.email.lower() != grant.email:
            raise NotFound("account.link_invalid", "This link does not work.")
        account.password = password_hashing.hash_password(password)
        audit.record("account.guest_finished", entity="account", subject=account)
        # The link came by mail to this very address: it is proven.
        email_verification.mark_verified(account)
    return account
