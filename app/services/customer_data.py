"""A customer's own data, exported in full (``GET /me/export``).

What the account's holder sees through the account: while its address is unverified, the
bookings placed as a guest with it (and their payments, receipts and messages) wait
(``account_bookings``).

Each part is scoped to the one customer: rows are chosen by their account id (or by the
customer's own bookings), never by anything another customer could share.
"""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Account, Notification, Receipt, SignInSession, WaitlistEntry
from app.services import account_bookings, attribution_privacy, social_sign_in
from app.services.money import major_units_text


def export_customer_data(customer_id: int) -> dict:
    """Everything held about a customer, as JSON-ready data; receipts carry their ids so
    that the edge can add download links."""
    data = attribution_privacy.export_customer_data(customer_id)
    account = db.session.get(Account, customer_id)
    data["profile"]["email_verified_at"] = _iso(account.email_verified_at) if account else None
    data["sessions"] = _sessions(customer_id)
    data["linked_sign_ins"] = [
        {"provider": row.provider, "email": row.email, "linked_at": _iso(row.created_at),
         "last_used_at": _iso(row.last_used_at)}
        for row in social_sign_in.identities(customer_id)]
    data["messages"] = _messages(customer_id)
    data["receipts"] = _receipts(customer_id)
    data["waiting_lists"] = _waiting_lists(customer_id)
    return data


def _waiting_lists(customer_id: int) -> list[dict]:
    rows = db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.customer_id == customer_id).order_by(WaitlistEntry.created_at,
                                                           WaitlistEntry.id))
    return [{"offering": e.offering.name, "starts_at": _iso(e.slot.starts_at),
             "quantity": e.quantity, "status": e.status, "joined_at": _iso(e.created_at),
             "offered_at": _iso(e.offered_at), "ended_at": _iso(e.ended_at),
             "booking_reference": e.booking.reference if e.booking is not None else None}
            for e in rows]


def _sessions(customer_id: int) -> list[dict]:
    rows = db.session.scalars(select(SignInSession).where(
        SignInSession.account_id == customer_id).order_by(SignInSession.created_at))
    return [{"kind": s.kind, "device": s.device, "address": s.address,
             "created_at": _iso(s.created_at), "last_used_at": _iso(s.last_used_at),
             "ended_at": _iso(s.ended_at)} for s in rows]


def _messages(customer_id: int) -> list[dict]:
    rows = db.session.scalars(select(Notification).where(
        Notification.customer_id == customer_id,
        account_bookings.messages_shown_to(customer_id)).order_by(Notification.created_at,
                                                          Notification.id))
    return [{"channel": n.channel, "recipient": n.recipient, "template": n.template_key,
             "status": n.status, "created_at": _iso(n.created_at),
             "sent_at": _iso(n.sent_at), "subject": n.subject, "body": n.body_text}
            for n in rows]


def _receipts(customer_id: int) -> list[dict]:
    rows = db.session.scalars(select(Receipt).where(Receipt.customer_id == customer_id,
                                                    account_bookings.receipts_shown_to(
                                                        customer_id))
                              .order_by(Receipt.issued_at, Receipt.id))
    return [{"id": r.id, "kind": r.kind, "number": r.display_number,
             "booking_reference": r.booking.reference,
             "total": major_units_text(r.total_minor, r.currency),
             "tax": major_units_text(r.tax_minor, r.currency), "currency": r.currency,
             "issued_at": _iso(r.issued_at)} for r in rows]


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None
