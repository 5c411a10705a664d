"""What each event says: one builder per entity, used by every publisher of its topics.

A payload carries ids and the facts its handlers need without reading the row again
(references, amounts, status); handlers that need more read it by id.
"""
from __future__ import annotations

from app.models import Booking, Payment, Receipt, Refund


def booking(row: Booking, **extra) -> dict:
    """``booking.<status>``, ``booking.rescheduled`` (``extra``: what the topic adds)."""
    return {
        "booking_reference": row.reference, "provider_id": row.provider_id,
        "customer_id": row.customer_id, "offering_id": row.offering_id,
        "slot_id": row.slot_id, "variant_id": row.variant_id,
        "quantity": row.quantity, "status": row.status,
        "total_minor": row.total_minor, "currency": row.currency,
        "pay_at_venue": row.pay_at_venue,
        "starts_at": row.starts_at.isoformat() if row.starts_at else None,
        **extra,
    }


def payment(row: Payment, booking_row: Booking, **extra) -> dict:
    """``payment.succeeded``, ``.declined``, ``.failed``, ``.flagged``, ``.refunded``."""
    return {
        "payment_id": row.id, "booking_reference": booking_row.reference,
        "booking_id": booking_row.id, "provider_id": row.provider_id,
        "customer_id": booking_row.customer_id, "gateway": row.gateway,
        "status": row.status, "amount_minor": row.amount_minor,
        "received_minor": row.received_minor, "refunded_minor": row.refunded_minor,
        "currency": row.currency, "provider_reference": row.provider_reference,
        "failure_reason": row.failure_reason, "failure_code": row.failure_code,
        **extra,
    }


def refund_failed(refund: Refund, payment_id: int, message: str) -> dict:
    """``payment.refund_failed``."""
    return {"payment_id": payment_id, "refund_id": refund.id,
            "amount_minor": refund.amount_minor, "currency": refund.currency,
            "error": message[:500]}


def dispute(payment_id: int, dispute_object: dict) -> dict:
    """``payment.disputed``: from the gateway's dispute object."""
    return {"payment_id": payment_id, "dispute_id": dispute_object.get("id"),
            "amount_minor": dispute_object.get("amount"),
            "reason": dispute_object.get("reason")}


def receipt_generated(document: Receipt, booking_reference: str, **extra) -> dict:
    """``receipt.generated`` (a receipt or a credit note; ``resend`` when sent again)."""
    return {"receipt_id": document.id, "kind": document.kind,
            "display_number": document.display_number,
            "booking_reference": booking_reference, "booking_id": document.booking_id,
            "provider_id": document.provider_id, "customer_id": document.customer_id,
            **extra}


def offerings_changed(offering_ids: list[int]) -> dict:
    """``offering.changed``: created, edited, deactivated or deleted offerings."""
    return {"offering_ids": list(offering_ids)}
