"""Calendar feeds: a secret address per provider (all its bookings) and per customer
(their own), which calendar apps subscribe to.

The address carries a random token; only its hash is stored, so the address is shown
once, when it is made. Making it again replaces it (the old address stops working at
once); stopping deletes it. A feed lists the bookings still holding their place from a
week ago to a year ahead, in the provider's zone, with one UID per booking (the same as
the emailed invitations). Tenancy fails closed: a provider feed is chosen by the
provider's id, a customer feed by the account's, never by anything in the request.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from app.errors import NotFound
from app.extensions import db
from app.models import Booking, CalendarFeed, Offering, Provider
from app.models.bookings import CONFIRMED, PENDING
from app.models.types import utcnow
from app.services import audit, calendar_file
from app.services.scopes import Scope, require_scope
from app.services.transactions import unit_of_work

PAST, AHEAD = timedelta(days=7), timedelta(days=365)
MAX_EVENTS = 5000


@dataclass(frozen=True)
class FeedStatus:
    created_at: datetime
    last_read_at: datetime | None
    zone: str = "UTC"  # a provider feed's: its provider's zone, to show the times in


@dataclass(frozen=True)
class FeedBody:
    data: bytes
    etag: str
    last_modified: datetime


def make_provider_feed(provider_id: int, *, scope: Scope) -> str:
    """A new secret token for the provider's feed (any earlier one stops working)."""
    return _make(provider_id=_provider(provider_id, scope).id)


def make_customer_feed(account_id: int) -> str:
    return _make(account_id=account_id)


def stop_provider_feed(provider_id: int, *, scope: Scope) -> bool:
    _provider(provider_id, scope)
    return _stop(CalendarFeed.provider_id == provider_id, provider_id=provider_id)


def stop_customer_feed(account_id: int) -> bool:
    return _stop(CalendarFeed.account_id == account_id, account_id=account_id)


def provider_feed_status(provider_id: int, *, scope: Scope) -> FeedStatus | None:
    provider = _provider(provider_id, scope)
    status = _status(CalendarFeed.provider_id == provider_id)
    return FeedStatus(status.created_at, status.last_read_at, provider.timezone or "UTC") \
        if status else None


def customer_feed_status(account_id: int) -> FeedStatus | None:
    return _status(CalendarFeed.account_id == account_id)


def read_feed(token: str, *, now: datetime | None = None) -> FeedBody:
    """The feed of a token; ``feed.not_found`` for an unknown, replaced or stopped one."""
    feed = db.session.scalar(select(CalendarFeed).where(
        CalendarFeed.token_hash == _hash(token or "")))
    if feed is None:
        raise NotFound("feed.not_found", "No such calendar feed.")
    now = now or utcnow()
    query = (select(Booking).where(Booking.status.in_((PENDING, CONFIRMED)),
                                   Booking.starts_at >= now - PAST,
                                   Booking.starts_at <= now + AHEAD)
             .options(joinedload(Booking.offering).joinedload(Offering.provider),
                      joinedload(Booking.customer))
             .order_by(Booking.starts_at, Booking.id).limit(MAX_EVENTS))
    if feed.provider_id is not None:
        query = query.where(Booking.provider_id == feed.provider_id)
        audience = calendar_file.PROVIDER_AUDIENCE
    else:
        query = query.where(Booking.customer_id == feed.account_id)
        audience = calendar_file.CUSTOMER_AUDIENCE
    bookings = list(db.session.scalars(query).unique())
    data = calendar_file.feed_calendar(bookings, audience=audience)
    last_modified = max([feed.created_at, *(b.updated_at for b in bookings)])
    with unit_of_work():
        db.session.execute(update(CalendarFeed).where(CalendarFeed.id == feed.id)
                           .values(last_read_at=now))
    return FeedBody(data=data, etag=hashlib.sha256(data).hexdigest()[:32],
                    last_modified=last_modified)


def delete_for_account(account_id: int) -> None:
    """Erasure (inside the caller's unit of work)."""
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.account_id == account_id))


def _make(**owner) -> str:
    token = secrets.token_urlsafe(32)
    with unit_of_work():
        column = CalendarFeed.provider_id if "provider_id" in owner else CalendarFeed.account_id
        db.session.execute(delete(CalendarFeed).where(column == next(iter(owner.values()))))
        db.session.add(CalendarFeed(token_hash=_hash(token), **owner))
        audit.record("calendar_feed.made", entity="calendar_feed",
                     entity_id=next(iter(owner.values())), changes=dict(owner),
                     provider_id=owner.get("provider_id"))
    return token


def _stop(condition, **owner) -> bool:
    with unit_of_work():
        gone = db.session.execute(delete(CalendarFeed).where(condition)).rowcount
        if gone:
            audit.record("calendar_feed.stopped", entity="calendar_feed",
                         entity_id=next(iter(owner.values())), changes=dict(owner),
                         provider_id=owner.get("provider_id"))
    return bool(gone)


def _status(condition) -> FeedStatus | None:
    row = db.session.execute(select(CalendarFeed.created_at, CalendarFeed.last_read_at)
                             .where(condition)).first()
    return FeedStatus(row.created_at, row.last_read_at) if row else None


def _provider(provider_id, scope: Scope) -> Provider:
    """The provider, if ``scope`` reaches it; another provider's is a 404."""
    require_scope(scope)
    provider = db.session.get(Provider, provider_id) if isinstance(provider_id, int) else None
    if provider is None or not scope.allows(provider.id):
        raise NotFound("provider.not_found", f"No provider {provider_id}.")
    return provider


def _hash(token: str) -> str:
    return hashlib.sha256(f"calendar-feed:{token}".encode()).hexdigest()


__all__ = ["FeedBody", "FeedStatus", "make_customer_feed", "make_provider_feed",
           "read_feed", "stop_customer_feed", "stop_provider_feed"]
