"""Which actions need a proven email address. Unverified accounts may browse and book;
the actions listed in ``VERIFIED_EMAIL_REQUIRED_FOR`` wait until the address is verified
(by default: linking guest bookings, linking a social sign-in, changing the email)."""
from __future__ import annotations

from flask import current_app

from app.errors import Forbidden

ACTIONS = {
    "link_guest_bookings": "see the bookings made as a guest with this address",
    "link_social": "link a sign-in from another service",
    "change_email": "change your email address",
}
DEFAULT = ("link_guest_bookings", "link_social", "change_email")


def needs_verified(action: str) -> bool:
    return action in current_app.config.get("VERIFIED_EMAIL_REQUIRED_FOR", DEFAULT)


def waits_for_verification(account, action: str) -> bool:
    """True while the account's address is unproven and ``action`` is configured to need
    it."""
    return needs_verified(action) and account.email_verified_at is None


def require_verified(account, action: str) -> None:
    """Refuse ``action`` (403, code ``account.email_unverified``) while the account's
    address is unproven and the action is configured to need it."""
    if waits_for_verification(account, action):
        raise Forbidden("account.email_unverified",
                        f"Verify your email address first to {ACTIONS[action]}.")
