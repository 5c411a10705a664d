"""A customer's own booking as the storefront shows it: what happened, what was paid and
refunded, the documents, and what the customer may still do (pay, cancel and what that
would give back, move, add to a calendar).

What may be done is read from the rules that enforce it (``booking_lifecycle``'s customer
rule, ``payments.gateway_name_for``, ``refunds.refundable``), never decided here again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.errors import Conflict
from app.extensions import db
from app.models import Booking
from app.models.bookings import CONFIRMED, PENDING
from app.models.payments import MANUAL, SUCCEEDED, Payment
from app.models.receipts import Receipt
from app.models.types import utcnow
from app.services import refunds
from app.services.booking_lifecycle import customer_change_refusal, free_cancellation_until
from app.services.booking_queries import UPCOMING_STATUSES, get_customer_booking
from app.services.payments import gateway_name_for



@dataclass(frozen=True)
class Document:
    receipt_id: int
    kind: str  # receipt | credit_note
    number: str
    total_minor: int
    currency: str
    issued_at: datetime


@dataclass(frozen=True)
class CustomerBooking:
    booking: Booking
    payment: Payment | None
    paid_minor: int
    refunded_minor: int            # refunds the gateway has made
    refund_pending_minor: int      # refunds asked for, not made yet
    documents: list[Document]
    can_pay: bool
    can_cancel: bool
    can_move: bool
    change_refusal: Conflict | None  # why cancelling or moving is not offered
    free_cancellation_until: datetime | None  # UTC
    refund_on_cancel_minor: int    # what cancelling now gives back
    in_calendar: bool              # a time worth adding to a calendar


def customer_booking(reference: str, *, customer_id: int,
                     now: datetime | None = None) -> CustomerBooking:
    """The customer's own booking with its money, documents and choices (404 otherwise)."""
    now = now or utcnow()
    booking = get_customer_booking(reference, customer_id=customer_id)
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking.id))
    paid = payment.received_minor or 0 if payment is not None and \
        payment.status == SUCCEEDED else 0
    refundable = refunds.refundable(payment) if paid else 0
    refunded = refunds.refunded_so_far(payment) if paid else 0
    cancel_refusal = customer_change_refusal(booking, now, moving=False)
    move_refusal = customer_change_refusal(booking, now, moving=True)
    return CustomerBooking(
        booking=booking, payment=payment, paid_minor=paid,
        refunded_minor=refunded,
        refund_pending_minor=max(0, paid - refundable - refunded) if paid else 0,
        documents=_documents(booking.id),
        can_pay=booking.status == PENDING and booking.total_minor > 0
        and gateway_name_for(booking) != MANUAL
        and (payment is None or payment.status != SUCCEEDED),
        can_cancel=cancel_refusal is None,
        can_move=move_refusal is None and booking.slot_id is not None,
        change_refusal=cancel_refusal if booking.status == CONFIRMED else None,
        free_cancellation_until=free_cancellation_until(booking)
        if booking.status == CONFIRMED else None,
        # Cancelling in the free window refunds what is left (refunds.refund_on_free_
        # cancellation); a pending booking has nothing paid to give back.
        refund_on_cancel_minor=refundable if cancel_refusal is None else 0,
        in_calendar=booking.starts_at is not None and booking.status in UPCOMING_STATUSES
        and (booking.ends_at or booking.starts_at) > now)


def _documents(booking_id: int) -> list[Document]:
    return [Document(receipt_id=row.id, kind=row.kind, number=row.display_number,
                     total_minor=row.total_minor, currency=row.currency,
                     issued_at=row.issued_at)
            for row in db.session.scalars(select(Receipt).where(
                Receipt.booking_id == booking_id, Receipt.storage_key.is_not(None))
                .order_by(Receipt.id))]
