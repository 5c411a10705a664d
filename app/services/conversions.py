"""Conversions for TikTok: the Pixel's settings and the Events API's delivery log.

The browser Pixel and the server send the same event under the same ``event_id`` (see
:func:`event_id_for`), so TikTok counts it once. Nothing is sent, by either, without the
customer's tracking consent. Server events are ``ConversionEvent`` rows, written in the
transaction of the consumer that reacts to ``payment.succeeded`` (or ``booking.created``)
and sent by a job on the ``integrations`` queue that acts only on a row still queued, so
each event id is sent successfully at most once. Identifiers are hashed before the row is
written: raw email and phone never reach the log or TikTok.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from decimal import Decimal

import phonenumbers
from flask import current_app
from sqlalchemy import select, update

from app import jobqueue, metrics
from app.errors import Conflict, NotFound
from app.extensions import db
from app.gateways import tiktok
from app.models import Account, Attribution, Booking, Offering, Provider, Variant
from app.models.conversions import FAILED, QUEUED, SENDING, SENT, ConversionEvent
from app.models.types import utcnow
from app.services.money import major_units
from app.services.scopes import Scope, require_scope
from app.services.tenancy import scoped
from app.services.transactions import after_commit, unit_of_work

log = logging.getLogger(__name__)

COMPLETE_PAYMENT, PLACE_AN_ORDER = "CompletePayment", "PlaceAnOrder"
SEND_JOB = "conversions.send"
RETRY_INTERVALS = [30, 120, 600, 1800, 3600]  # seconds
STUCK_AFTER = timedelta(minutes=15)


# --- what the browser and the server share -----------------------------------------------

def event_id_for(booking_reference: str, event_name: str) -> str:
    """The id both the Pixel and the Events API give one conversion (TikTok dedupes on it)."""
    return f"{booking_reference}-{event_name}"


def pixel_code_for(provider: Provider | None) -> str | None:
    """The provider's own pixel code, or the platform's; None: no Pixel at all."""
    own = provider.tiktok_pixel_code if provider is not None else None
    return own or current_app.config.get("TIKTOK_PIXEL_CODE")


# --- hashing, as TikTok asks ---------------------------------------------------------------

def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalised_email(email: str | None) -> str | None:
    value = (email or "").strip().lower()
    return value or None


def normalised_phone(phone: str | None, region: str | None = None) -> str | None:
    """E.164 with the leading ``+`` (TikTok hashes it that way); None if not a number."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def hashed(value: str | None) -> str | None:
    return sha256_hex(value) if value else None


# --- recording (consumers) ---------------------------------------------------------------

def record_complete_payment(*, event_id: str, topic: str, payload: dict) -> None:
    _record(COMPLETE_PAYMENT, payload["booking_reference"], payload.get("payment_id"))


def record_place_an_order(*, event_id: str, topic: str, payload: dict) -> None:
    _record(PLACE_AN_ORDER, payload["booking_reference"], None)


def _record(event_name: str, booking_reference: str, payment_id: int | None) -> None:
    """Write the event to the delivery log (in the consumer's transaction), then hand it
    to the integrations queue. Without consent, a pixel code or an access token: nothing."""
    with unit_of_work(joins=True):  # with the consumer's record of the event
        config = current_app.config
        booking = db.session.scalar(select(Booking).where(Booking.reference == booking_reference))
        if booking is None or not config.get("TIKTOK_ACCESS_TOKEN"):
            return
        attribution = db.session.scalar(select(Attribution).where(
            Attribution.booking_id == booking.id))
        if attribution is None or not attribution.consent:
            return
        provider = db.session.get(Provider, booking.provider_id)
        pixel_code = pixel_code_for(provider)
        if not pixel_code:
            return
        conversion_id = event_id_for(booking.reference, event_name)
        if db.session.scalar(select(ConversionEvent.id).where(
                ConversionEvent.event_id == conversion_id)) is not None:
            return  # recorded by an earlier delivery
        row = ConversionEvent(provider_id=booking.provider_id, event_id=conversion_id,
                              event_name=event_name, booking_id=booking.id, status=QUEUED,
                              payload=build_payload(event_name, conversion_id, booking,
                                                    attribution, provider, pixel_code))
        db.session.add(row)
        db.session.flush()
        after_commit(_hand_over, row.id)  # with the consumer's record of the event


def build_payload(event_name: str, conversion_id: str, booking: Booking,
                  attribution: Attribution, provider: Provider, pixel_code: str) -> dict:
    """The Events API body (v1.3 ``event/track``), identifiers already hashed."""
    customer = db.session.get(Account, booking.customer_id)
    offering = db.session.get(Offering, booking.offering_id)
    variant = db.session.get(Variant, booking.variant_id) if booking.variant_id else None
    unit_price = _decimal(booking.unit_price_minor, booking.currency)
    content_name = offering.name + (f" – {variant.name}" if variant else "")
    user = {
        "email": hashed(normalised_email(customer.email if customer else None)),
        "phone": hashed(normalised_phone(customer.phone if customer else None)),
        "external_id": sha256_hex(f"bookwell-customer-{booking.customer_id}"),
        "ttclid": attribution.ttclid, "ttp": attribution.ttp,
        "ip": attribution.ip, "user_agent": attribution.user_agent,
    }
    return {
        "event_source": "web",
        "event_source_id": pixel_code,
        "data": [{
            "event": event_name,
            "event_time": int((booking.updated_at if event_name == COMPLETE_PAYMENT
                               else booking.created_at).timestamp()),
            "event_id": conversion_id,
            "user": {k: v for k, v in user.items() if v},
            "properties": {
                "currency": booking.currency,
                "value": float(_decimal(booking.total_minor, booking.currency)),
                "content_type": "product",
                "contents": [{
                    "content_id": f"variant-{variant.id}" if variant else f"offering-{offering.id}",
                    "content_name": content_name,
                    "quantity": booking.quantity,
                    "price": float(unit_price),
                }],
                "order_id": booking.reference,
            },
            "page": {k: v for k, v in {"url": attribution.landing_url,
                                       "referrer": attribution.referrer}.items() if v},
        }],
    }


def _decimal(amount_minor: int, currency: str) -> Decimal:
    return major_units(amount_minor, currency)


def _hand_over(row_id: int) -> None:
    try:
        jobqueue.enqueue(SEND_JOB, row_id, job_id=f"conversion-{row_id}")
    except Exception:
        log.exception("handing conversion %s over failed; the sweep will", row_id)


# --- sending (the job) -------------------------------------------------------------------

class SendLater(RuntimeError):
    """A retryable failure; raised so that the job queue retries with backoff."""


def send(row_id: int, *, final_attempt: bool = True) -> str:
    """Send one queued event; does nothing to a row in any other state."""
    with unit_of_work():  # claimed: a second job finds it sending and leaves it
        claim = update(ConversionEvent).where(
            ConversionEvent.id == row_id, ConversionEvent.status == QUEUED).values(
            status=SENDING, attempts=ConversionEvent.attempts + 1, updated_at=utcnow())
        claimed = db.session.execute(claim).rowcount == 1
    with unit_of_work():  # a read: nothing stays open across the call
        row = db.session.get(ConversionEvent, row_id, populate_existing=True)
        if not claimed:
            return row.status if row is not None else "missing"
        payload = dict(row.payload)

    config = current_app.config
    result = tiktok.EventsApi(config["TIKTOK_API_BASE"], config.get("TIKTOK_ACCESS_TOKEN") or "",
                              timeout=config.get("TIKTOK_TIMEOUT", 10.0)).track(payload)
    with unit_of_work():
        row = db.session.get(ConversionEvent, row_id, with_for_update=True,
                             populate_existing=True)
        row.http_status, row.response_code = result.http_status, result.code
        row.response_message = (result.message or "")[:2000] or None
        if result.ok:
            row.status, row.sent_at, row.next_attempt_at = SENT, utcnow(), None
        elif result.retryable and not final_attempt:
            delay = RETRY_INTERVALS[min(row.attempts - 1, len(RETRY_INTERVALS) - 1)]
            row.status, row.next_attempt_at = QUEUED, utcnow() + timedelta(seconds=delay)
        else:
            row.status, row.next_attempt_at = FAILED, None
        status = row.status
    metrics.conversion_attempted("retrying" if status == QUEUED else status)
    if status == QUEUED:
        raise SendLater(f"conversion {row_id}: {result.describe()}")
    return status


def resend(row_id: int, *, scope: Scope) -> ConversionEvent:
    """Admins: queue a failed event again (a sent one is never sent twice)."""
    require_scope(scope)
    with unit_of_work():
        query = scoped(select(ConversionEvent).where(ConversionEvent.id == row_id),
                       ConversionEvent, scope=scope)
        row = db.session.scalar(query.with_for_update())
        if row is None:
            raise NotFound("conversion.not_found", f"No conversion event {row_id}.")
        if row.status != FAILED:
            raise Conflict("conversion.not_failed",
                           f"Only failed events are sent again; this one is {row.status}.",
                           {"status": [row.status]})
        row.status, row.next_attempt_at = QUEUED, None
        after_commit(_hand_over, row_id)
        return row


def sweep(*, now=None, limit: int = 200) -> int:
    """Queued events whose retry is due or whose job was lost, and events a crash left
    ``sending`` (marked failed for an admin to re-send: whether TikTok got them is
    unknown, and sending twice would count the conversion twice)."""
    now = now or utcnow()
    with unit_of_work():
        db.session.execute(update(ConversionEvent).where(
            ConversionEvent.status == SENDING, ConversionEvent.updated_at < now - STUCK_AFTER)
            .values(status=FAILED, response_message="interrupted while sending; outcome unknown",
                    updated_at=now))
        ids = db.session.scalars(select(ConversionEvent.id).where(
            ConversionEvent.status == QUEUED,
            (ConversionEvent.next_attempt_at.is_(None) & (ConversionEvent.created_at
                                                          < now - timedelta(minutes=1)))
            | (ConversionEvent.next_attempt_at <= now)).order_by(ConversionEvent.id)
            .limit(limit)).all()
        for row_id in ids:
            after_commit(_hand_over, row_id)
    return len(ids)
