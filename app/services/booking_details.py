"""Everything about one booking, for the console's booking page. Read-only.

The customer and their contact, the slot on the provider's wall clock, the history, the
payments with their refunds (and what is left to refund), receipts and credit notes, the
messages sent, the attribution, who does it (the staff, rooms and equipment whose time it
holds), and the staff actions the booking's state allows now
(from :data:`app.services.booking_states.STAFF_ACTIONS`, the table the services obey).
Another provider's booking is a 404, as everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import Booking, BookingHistory, Notification, Payment, Provider, Receipt, Refund
from app.models.types import utcnow
from app.services.agenda import zone_of
from app.services.booking_lifecycle import facts_of
from app.services.booking_resources import Doer, resources_of_booking
from app.services.booking_states import StaffAction, offered_actions
from app.services.refunds import refundable
from app.services.reschedule_options import MOVABLE
from app.services.scopes import Scope, require_scope


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime  # provider's zone
    from_status: str | None
    to_status: str
    actor: str  # a name, or "" for the system
    reason: str


@dataclass(frozen=True)
class RefundLine:
    amount_minor: int
    currency: str
    status: str
    reason: str
    actor: str
    at: datetime
    last_error: str


@dataclass(frozen=True)
class PaymentLine:
    payment_id: int
    gateway: str
    method: str
    status: str
    amount_minor: int
    received_minor: int
    refunded_minor: int
    refundable_minor: int
    currency: str
    paid_at: datetime | None
    attention: str
    refunds: tuple[RefundLine, ...]


@dataclass(frozen=True)
class Document:
    receipt_id: int
    kind: str
    number: str
    total_minor: int
    currency: str
    issued_at: datetime
    stored: bool  # its PDF is rendered (else the download says so)


@dataclass(frozen=True)
class Message:
    channel: str
    template_key: str
    recipient: str
    status: str
    delivery_status: str
    error: str
    at: datetime  # sent, or queued when not sent yet


@dataclass(frozen=True)
class AttributionFacts:
    utm: tuple[tuple[str, str], ...]  # (name, value) of the UTM fields present
    ttclid: str
    landing_url: str
    referrer: str
    consent: bool


@dataclass(frozen=True)
class BookingDetails:
    booking_id: int
    reference: str
    provider: str
    zone: str
    status: str
    customer: Customer
    offering: str
    offering_id: int
    variant: str
    starts_at: datetime | None  # provider's zone
    ends_at: datetime | None
    hold_expires_at: datetime | None
    quantity: int
    unit_price_minor: int
    total_minor: int
    currency: str
    pay_at_venue: bool
    notes: str
    created_at: datetime
    history: tuple[HistoryEntry, ...]
    payments: tuple[PaymentLine, ...]
    documents: tuple[Document, ...]
    messages: tuple[Message, ...]
    attribution: AttributionFacts | None
    actions: tuple[StaffAction, ...]
    movable: bool  # its state allows a move to another slot
    resources: tuple[Doer, ...] = ()  # who does it; none once it gave its time back


def _name(account) -> str:
    if account is None:
        return ""
    return f"{account.first_name or ''} {account.last_name or ''}".strip() or account.email


def booking_details(booking_id: int, *, scope: Scope,
                    now: datetime | None = None) -> BookingDetails:
    """The booking page's content; a booking outside ``scope`` raises NotFound."""
    require_scope(scope)
    booking = db.session.scalar(scope.filter(select(Booking).where(Booking.id == booking_id),
                                             Booking))
    if booking is None:
        raise NotFound("booking.not_found", f"No booking {booking_id}.")
    provider = db.session.get(Provider, booking.provider_id)
    zone = zone_of(provider.timezone if provider else None)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment is not None else None

    customer = booking.customer
    attribution = booking.attribution_row
    return BookingDetails(
        booking_id=booking.id, reference=booking.reference,
        provider=provider.name if provider else "", zone=str(zone.key),
        status=booking.status,
        customer=Customer(_name(customer), customer.email if customer else "",
                          (customer.phone or "") if customer else ""),
        offering=booking.offering.name, offering_id=booking.offering_id,
        variant=booking.variant.name if booking.variant else "",
        starts_at=local(booking.starts_at), ends_at=local(booking.ends_at),
        hold_expires_at=local(booking.hold_expires_at),
        quantity=booking.quantity, unit_price_minor=booking.unit_price_minor,
        total_minor=booking.total_minor, currency=booking.currency,
        pay_at_venue=booking.pay_at_venue, notes=booking.notes or "",
        created_at=local(booking.created_at),
        history=_history(booking.id, local),
        payments=_payments(booking.id, local),
        documents=_documents(booking.id, local),
        messages=_messages(booking.id, local),
        attribution=_attribution(attribution),
        actions=tuple(offered_actions(facts_of(booking), now or utcnow())),
        movable=booking.slot_id is not None and booking.status in MOVABLE,
        resources=tuple(resources_of_booking(booking.id)),
    )


def _history(booking_id: int, local) -> tuple[HistoryEntry, ...]:
    rows = db.session.scalars(select(BookingHistory).where(
        BookingHistory.booking_id == booking_id).order_by(BookingHistory.id))
    return tuple(HistoryEntry(local(row.created_at), row.from_status, row.to_status,
                              _name(row.actor), row.reason or "") for row in rows)


def _payments(booking_id: int, local) -> tuple[PaymentLine, ...]:
    payments = db.session.scalars(select(Payment).where(
        Payment.booking_id == booking_id).order_by(Payment.id)).all()
    lines = []
    for payment in payments:
        refunds = db.session.scalars(select(Refund).where(
            Refund.payment_id == payment.id).order_by(Refund.id))
        lines.append(PaymentLine(
            payment_id=payment.id, gateway=payment.gateway, method=payment.method or "",
            status=payment.status, amount_minor=payment.amount_minor,
            received_minor=payment.received_minor or 0,
            refunded_minor=payment.refunded_minor, refundable_minor=refundable(payment),
            currency=payment.currency, paid_at=local(payment.succeeded_at),
            attention=payment.attention or "",
            refunds=tuple(RefundLine(r.amount_minor, r.currency, r.status, r.reason or "",
                                     _name(r.actor), local(r.created_at), r.last_error or "")
                          for r in refunds)))
    return tuple(lines)


def _documents(booking_id: int, local) -> tuple[Document, ...]:
    rows = db.session.scalars(select(Receipt).where(Receipt.booking_id == booking_id)
                              .order_by(Receipt.issued_at, Receipt.id))
    return tuple(Document(r.id, r.kind, r.display_number, r.total_minor, r.currency,
                          local(r.issued_at), bool(r.storage_key)) for r in rows)


def _messages(booking_id: int, local) -> tuple[Message, ...]:
    rows = db.session.scalars(select(Notification).where(
        Notification.booking_id == booking_id).order_by(Notification.created_at,
                                                        Notification.id))
    return tuple(Message(n.channel, n.template_key, n.recipient, n.status,
                         n.delivery_status or "", n.error or "",
                         local(n.sent_at or n.created_at)) for n in rows)


UTM_FIELDS = (("utm_source", "Source"), ("utm_medium", "Medium"),
              ("utm_campaign", "Campaign"), ("utm_term", "Term"), ("utm_content", "Content"))


def _attribution(row) -> AttributionFacts | None:
    if row is None:
        return None
    utm = tuple((label, getattr(row, name)) for name, label in UTM_FIELDS
                if getattr(row, name))
    return AttributionFacts(utm, row.ttclid or "", row.landing_url or "", row.referrer or "",
                            bool(row.consent))
