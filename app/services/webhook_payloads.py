"""What a webhook says: the public ``data`` of each topic, built from the database at fan-out.

The outbox payloads (:mod:`app.services.event_payloads`) are internal: ids that mean
nothing outside. A webhook's ``data`` speaks the provider API's language instead:
booking references, names, times as ISO 8601 UTC with the provider's time zone named,
money as ``{"amount_minor": 4200, "currency": "EUR", "amount": "42.00"}``; ids only where
the provider API uses them too (offerings, payments, refunds, receipts, waiting-list
entries). The schemas that document each shape are ``api/webhooks/payloads.py``; a
booking's shape (:mod:`app.services.public_facts`) is the provider API's too.

Version 1. A breaking change (a field removed or its meaning changed) becomes version 2:
an endpoint keeps the version it was created with until its owner moves it; adding a
field is not breaking.

``BUILDERS``: topic → builder(payload of the outbox event) → data, or None when what it
is about is gone (nothing is sent then).
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Booking,
    Offering,
    Payment,
    Provider,
    Receipt,
    Refund,
    Slot,
    WaitlistEntry,
)
from app.services.public_facts import (
    booking_facts,
    customer_facts,
    iso,
    money,
    payment_summary,
    provider_facts,
)
from app.services.webhook_topics import (
    BOOKING_TOPICS,
    PAYMENT_TOPICS,
    RECEIPT_TOPICS,
    WAITLIST_TOPICS,
)


def _row(model, payload: dict, key: str):
    """The row whose id the event names under ``key``; None when it names none or the row
    is gone."""
    row_id = payload.get(key)
    return db.session.get(model, row_id) if row_id else None


def _booking_by_reference(reference: str | None) -> Booking | None:
    if not reference:
        return None
    return db.session.scalar(select(Booking).where(Booking.reference == reference))


def booking_data(topic: str, payload: dict) -> dict | None:
    booking = _booking_by_reference(payload.get("booking_reference"))
    if booking is None:
        return None
    data = booking_facts(booking)
    # The status the event announced (the row may have moved on since).
    data["status"] = payload.get("status") or booking.status
    if topic == "booking.rescheduled":
        previous = _row(Slot, payload, "previous_slot_id")
        data["previous_starts_at"] = iso(previous.starts_at) if previous else None
    return data


def payment_data(topic: str, payload: dict) -> dict | None:
    payment = _row(Payment, payload, "payment_id")
    if payment is None:
        return None
    booking = db.session.get(Booking, payment.booking_id)
    data = {
        **payment_summary(payment),
        "booking_reference": booking.reference,
        # The status the event announced (the row may have moved on since).
        "status": payload.get("status") or payment.status,
        "failure_reason": payload.get("failure_reason") if topic in (
            "payment.declined", "payment.failed") else None,
        "customer": customer_facts(booking.customer_id),
        "provider": provider_facts(payment.provider_id),
    }
    if topic in ("payment.refunded", "payment.refund_failed"):
        refund = _row(Refund, payload, "refund_id")
        data["refund"] = None if refund is None else {
            "id": refund.id,
            "amount": money(refund.amount_minor, refund.currency),
            "status": refund.status,
            "reason": refund.reason or None,
            "fully_refunded": bool(payload.get("fully_refunded", False)),
            "error": (payload.get("error") or None) if topic == "payment.refund_failed"
            else None,
        }
    if topic == "payment.disputed":
        data["dispute"] = {"reason": payload.get("reason"),
                           "amount": money(payload.get("amount_minor"), payment.currency)}
    return data


def receipt_data(topic: str, payload: dict) -> dict | None:
    document = _row(Receipt, payload, "receipt_id")
    if document is None:
        return None
    booking = db.session.get(Booking, document.booking_id)
    return {
        "id": document.id,
        "kind": document.kind,
        "number": document.display_number,
        "booking_reference": booking.reference if booking else None,
        "total": money(document.total_minor, document.currency),
        "tax": money(document.tax_minor, document.currency),
        "issued_at": iso(document.issued_at),
        "provider": provider_facts(document.provider_id),
    }


def waitlist_data(topic: str, payload: dict) -> dict | None:
    entry = _row(WaitlistEntry, payload, "waitlist_entry_id")
    if entry is None:
        return None
    slot = db.session.get(Slot, entry.slot_id)
    offering = db.session.get(Offering, entry.offering_id)
    return {
        "id": entry.id,
        "status": payload.get("status") or entry.status,
        "offering": {"id": offering.id, "name": offering.name, "variant": None},
        "starts_at": iso(slot.starts_at) if slot else None,
        "ends_at": iso(slot.ends_at) if slot else None,
        "time_zone": db.session.get(Provider, entry.provider_id).timezone,
        "quantity": entry.quantity,
        "booking_reference": payload.get("booking_reference"),
        "offer_expires_at": iso(entry.offer_expires_at),
        "customer": customer_facts(entry.customer_id),
        "provider": provider_facts(entry.provider_id),
    }


Builder = Callable[[str, dict], "dict | None"]
BUILDERS: dict[str, Builder] = {
    **{topic: booking_data for topic in BOOKING_TOPICS},
    **{topic: payment_data for topic in PAYMENT_TOPICS},
    **{topic: receipt_data for topic in RECEIPT_TOPICS},
    **{topic: waitlist_data for topic in WAITLIST_TOPICS},
}


def data_for(topic: str, payload: dict) -> dict | None:
    """The public ``data`` of an outbox event, or None when there is nothing to say."""
    return BUILDERS[topic](topic, payload)
