"""Signed links: one that manages a booking without signing in, one that lets a guest
choose a password.

Every booking message carries one. The link names the booking and its customer and lasts
until 30 days after the booking ends (180 days from when it was made for a booking
without a time); whoever holds it may see and change that booking only, as its customer
could. Nothing is stored: the signature (the app's ``SECRET_KEY``) is the proof, so a
link keeps working after its guest registers an account with the same address.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from app.errors import NotFound
from app.models import Booking
from app.models.types import utcnow

LINK_SALT = "bookwell-manage-booking"
LINK_LIFETIME_AFTER_END = timedelta(days=30)
LINK_LIFETIME_WITHOUT_TIME = timedelta(days=180)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def manage_token(booking: Booking, *, now: datetime | None = None) -> str:
    """The signed token of the booking's manage link."""
    end = booking.ends_at or booking.starts_at
    until = end + LINK_LIFETIME_AFTER_END if end else \
        (now or utcnow()) + LINK_LIFETIME_WITHOUT_TIME
    return _serializer().dumps({"b": booking.reference, "c": booking.customer_id,
                                "u": int(until.timestamp())})


def manage_path(booking: Booking) -> str:
    return f"/shop/b/{manage_token(booking)}"


@dataclass(frozen=True)
class ManageGrant:
    reference: str
    customer_id: int


def read_manage_token(token: str, *, now: datetime | None = None) -> ManageGrant:
    """Whose booking a token manages; a forged, altered or expired token: 404 (the page
    says the link does not work, and how to get to the booking otherwise)."""
    try:
        claims = _serializer().loads(token)
        grant = ManageGrant(reference=str(claims["b"]), customer_id=int(claims["c"]))
        until = int(claims["u"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("booking.link_invalid", "This link does not work.") from None
    if (now or utcnow()).timestamp() > until:
        raise NotFound("booking.link_expired", "This link has expired.")
    return grant


# --- a guest chooses a password -------------------------------------------------------------

FINISH_SALT = "bookwell-finish-account"
FINISH_LIFETIME = timedelta(hours=24)


def finish_account_token(account) -> str:
    """For a guest (an account without a password): signed with its id and address, valid
    for 24 hours, and only while the account still has no password (so used once)."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FINISH_SALT).dumps(
        {"a": account.id, "e": account.email.lower()})


@dataclass(frozen=True)
class FinishGrant:
    account_id: int
    email: str


def read_finish_account_token(token: str) -> FinishGrant:
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FINISH_SALT)
    try:
        claims = serializer.loads(token, max_age=int(FINISH_LIFETIME.total_seconds()))
        return FinishGrant(account_id=int(claims["a"]), email=str(claims["e"]))
    except SignatureExpired:
        raise NotFound("account.link_expired", "This link has expired.") from None
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("account.link_invalid", "This link does not work.") from None
