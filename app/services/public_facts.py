"""The public shape of a booking (and the facts it is made of), one for every surface
that shows bookings to a provider's own systems: the ``data`` of the ``booking.*``
webhooks (:mod:`app.services.webhook_payloads`) and the provider API's bookings
(:mod:`app.services.provider_booking_queries`). Integrators get the same payload either way.

Times are ISO 8601 UTC strings with the provider's zone named; money is
``{"amount_minor": 4200, "currency": "EUR", "amount": "42.00"}``.

A booking's related rows are read through its relationships: a list loads them for its
whole page beforehand (no query per row).
"""
from __future__ import annotations

from datetime import datetime, timezone

from app.extensions import db
from app.models import Account, Booking, Payment, Provider
from app.services.money import major_units_text


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def money(amount_minor: int | None, currency: str | None) -> dict | None:
    if amount_minor is None or not currency:
        return None
    return {"amount_minor": int(amount_minor), "currency": currency,
            "amount": major_units_text(amount_minor, currency)}


def provider_facts(provider_id: int) -> dict:
    return provider_shape(db.session.get(Provider, provider_id))


def provider_shape(provider: Provider) -> dict:
    return {"name": provider.name, "slug": provider.slug, "time_zone": provider.timezone}


def account_facts(account: Account | None) -> dict | None:
    if account is None:
        return None
    name = f"{(account.first_name or '').strip()} {(account.last_name or '').strip()}".strip()
    return {"name": name or None, "email": account.email, "phone": account.phone}


def customer_facts(customer_id: int | None) -> dict | None:
    return account_facts(db.session.get(Account, customer_id) if customer_id else None)


def booking_facts(booking: Booking) -> dict:
    offering, variant, provider = booking.offering, booking.variant, booking.provider
    return {
        "reference": booking.reference,
        "status": booking.status,
        "offering": {"id": offering.id, "name": offering.name,
                     "variant": variant.name if variant else None},
        "starts_at": iso(booking.starts_at),
        "ends_at": iso(booking.ends_at),
        "time_zone": provider.timezone,
        "quantity": booking.quantity,
        "total": money(booking.total_minor, booking.currency),
        "pay_at_venue": booking.pay_at_venue,
        "customer": account_facts(booking.customer),
        "provider": provider_shape(provider),
        "created_at": iso(booking.created_at),
    }


def payment_summary(payment: Payment | None) -> dict | None:
    """Where a booking's (one) payment stands; None before one was started."""
    if payment is None:
        return None
    return {
        "id": payment.id,
        "status": payment.status,
        "method": payment.gateway,
        "amount": money(payment.amount_minor, payment.currency),
        "received": money(payment.received_minor, payment.currency),
        "refunded": money(payment.refunded_minor, payment.currency),
    }
