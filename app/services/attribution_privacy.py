"""Personal data in attribution: kept only as long as needed, exported and erased on request.

The raw IP address and user agent of a booking request are needed for a few weeks at
most (ad platforms match conversions soon after the click); they are cleared after
``ATTRIBUTION_RETENTION_DAYS``, in the attribution rows and in the conversion log alike.
A customer's export includes their attribution rows; erasure anonymises the account and
strips every identifier from attribution and conversion rows, keeping the bookings and
payments that accounting needs.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import Text, cast, or_, select, update

from app.extensions import db
from app.models import Account, Attribution, Booking, ConversionEvent
from app.models.payments import Payment, Refund
from app.models.types import utcnow
from app.services import account_bookings
from app.services.transactions import unit_of_work

REQUEST_DETAILS = ("ip", "user_agent")
IDENTIFIERS = ("ttclid", "ttp", "ip", "user_agent", "landing_url", "referrer")
CONVERSION_USER_KEYS_KEPT = ()  # nothing about the person survives erasure


@unit_of_work()
def clear_expired_request_details(*, now=None) -> int:
    """Clear IP and user agent older than the retention period; returns rows changed."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config.get("ATTRIBUTION_RETENTION_DAYS", 30))
    changed = db.session.execute(
        update(Attribution).where(
            Attribution.created_at < cutoff,
            Attribution.ip.is_not(None) | Attribution.user_agent.is_not(None))
        .values(ip=None, user_agent=None)).rowcount
    # Only logged payloads that still carry a request detail are loaded and rewritten.
    still_there = or_(*(cast(ConversionEvent.payload, Text).like(f'%"{key}"%')
                        for key in REQUEST_DETAILS))
    for row in db.session.scalars(select(ConversionEvent).where(
            ConversionEvent.created_at < cutoff, still_there)):
        _strip_user(row, REQUEST_DETAILS)
    return changed


def _strip_user(row: ConversionEvent, keys) -> None:
    payload = dict(row.payload)
    data = [dict(item) for item in payload.get("data", [])]
    touched = False
    for item in data:
        user = dict(item.get("user") or {})
        for key in (keys if keys is not None else list(user)):
            if key in user:
                user.pop(key)
                touched = True
        item["user"] = user
    if touched:
        payload["data"] = data
        row.payload = payload  # a new dict: JSON columns do not track changes inside


def export_customer_data(customer_id: int) -> dict:
    """Everything held about a customer, as JSON-ready data."""
    account = db.session.get(Account, customer_id)
    bookings = db.session.scalars(select(Booking).where(
        Booking.customer_id == customer_id, account_bookings.shown_to(customer_id))
        .order_by(Booking.id)).all()
    booking_ids = [b.id for b in bookings]
    attributions = {a.booking_id: a for a in db.session.scalars(
        select(Attribution).where(Attribution.booking_id.in_(booking_ids)))}
    payments = db.session.scalars(select(Payment).where(
        Payment.booking_id.in_(booking_ids)).order_by(Payment.id)).all()
    refunds = db.session.scalars(select(Refund).where(
        Refund.payment_id.in_([p.id for p in payments])).order_by(Refund.id)).all()
    conversions = db.session.scalars(select(ConversionEvent).where(
        ConversionEvent.booking_id.in_(booking_ids)).order_by(ConversionEvent.id)).all()
    return {
        "profile": {k: getattr(account, k) for k in (
            "email", "first_name", "last_name", "phone", "locale", "timezone",
            "marketing_consent", "notify_email", "notify_sms", "sms_opted_out")},
        "bookings": [{
            "reference": b.reference, "status": b.status, "offering_id": b.offering_id,
            "quantity": b.quantity, "total_minor": b.total_minor, "currency": b.currency,
            "starts_at": _iso(b.starts_at), "created_at": _iso(b.created_at),
            "notes": b.notes,
            "attribution": _attribution(attributions.get(b.id)),
        } for b in bookings],
        "payments": [{
            "id": p.id, "booking_id": p.booking_id, "status": p.status,
            "amount_minor": p.amount_minor, "refunded_minor": p.refunded_minor,
            "currency": p.currency, "gateway": p.gateway, "created_at": _iso(p.created_at),
        } for p in payments],
        "refunds": [{"id": r.id, "payment_id": r.payment_id, "amount_minor": r.amount_minor,
                     "status": r.status, "created_at": _iso(r.created_at)} for r in refunds],
        "conversion_events": [{
            "event_id": c.event_id, "event_name": c.event_name, "status": c.status,
            "payload": c.payload, "created_at": _iso(c.created_at),
        } for c in conversions],
    }


def erase_attribution(customer_id: int) -> None:
    """Inside an erasure's unit of work: strip every identifier from the attribution and
    conversion rows of the customer's bookings (campaign figures stay)."""
    booking_ids = select(Booking.id).where(Booking.customer_id == customer_id)
    db.session.execute(update(Attribution).where(Attribution.booking_id.in_(booking_ids))
                       .values(**{key: None for key in IDENTIFIERS}))
    for row in db.session.scalars(select(ConversionEvent).where(
            ConversionEvent.booking_id.in_(booking_ids))):
        _strip_user(row, None)


def _attribution(row: Attribution | None) -> dict | None:
    if row is None:
        return None
    return {k: getattr(row, k) for k in (
        "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "ttclid",
        "ttp", "landing_url", "referrer", "consent", "ip", "user_agent")} | {
        "created_at": _iso(row.created_at)}


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None
