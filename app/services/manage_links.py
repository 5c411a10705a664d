"""Signed links that manage one booking without signing in.

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
from itsdangerous import BadSignature, URLSafeSerializer

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
