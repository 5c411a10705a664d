"""Emails to a provider's staff about its bookings: new, waiting for confirmation,
cancelled, moved.

The consumers below react to the booking events of the outbox. Each one writes one
``Notification`` row per recipient in its own transaction (the record that it handled the
event commits with them), with the dedupe key ``<event id>:staff:<address hash>``: an
event delivered twice, or a handler run again, never mails an address twice. The rows
are sent by the ``notifications.send`` job like every customer message, so they show in
the delivery log and are retried the same way.

When which message goes out:

- ``booking.created`` of a pay-at-venue booking that is pending: "waiting for your
  confirmation" (staff confirm it themselves, so its later ``booking.confirmed`` is not
  announced again);
- ``booking.confirmed`` of any other booking (an online payment went through, or a free
  booking): "new booking". A booking whose online payment never arrives is never
  announced: it expires without staff having to do anything;
- ``booking.cancelled``: "cancelled"; ``booking.rescheduled``: "moved", with the old and
  the new start.

Who receives them, per provider (``StaffNotificationSetting``; without a row: every event,
to the staff accounts): the emails of the provider's active staff accounts (unless
switched off) plus the extra addresses, each address once, rendered in the staff
member's language (extra addresses: the default language).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import select

from app import events
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import Account, Booking, Provider, Slot, StaffNotificationSetting
from app.models.bookings import PENDING
from app.models.notifications import EMAIL, FAILED, QUEUED
from app.services import notification_templates as templates
from app.services.notifications import enqueue_sends, insert_once, message_context
from app.services.scopes import Scope, require_scope
from app.services.transactions import after_commit, unit_of_work
from app.services.validation import normalise_email

log = logging.getLogger(__name__)

# event name (a setting's column is ``on_<event>``) → template key
NEW, AWAITING_CONFIRMATION, CANCELLED, RESCHEDULED = (
    "new", "awaiting_confirmation", "cancelled", "rescheduled")
EVENTS = {
    NEW: "staff_booking_new",
    AWAITING_CONFIRMATION: "staff_booking_awaiting_confirmation",
    CANCELLED: "staff_booking_cancelled",
    RESCHEDULED: "staff_booking_rescheduled",
}
EVENT_LABELS = {
    NEW: "New booking",
    AWAITING_CONFIRMATION: "Booking waiting for confirmation (pay at the venue)",
    CANCELLED: "Booking cancelled",
    RESCHEDULED: "Booking moved to another time",
}
MAX_EXTRA_ADDRESSES = 20


# --- settings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffNotificationSettings:
    provider_id: int
    provider_name: str
    events: frozenset[str]
    to_staff_accounts: bool
    extra_addresses: tuple[str, ...]
    staff_addresses: tuple[str, ...]  # what "to the staff accounts" means today


def get_settings(provider_id: int, *, scope: Scope) -> StaffNotificationSettings:
    """The provider's settings (the defaults when it never saved any); another
    provider's answer 404."""
    provider = _provider(provider_id, require_scope(scope))
    row = _row(provider.id)
    staff = tuple(address for address, _locale in _staff_accounts(provider.id))
    if row is None:
        return StaffNotificationSettings(provider.id, provider.name, frozenset(EVENTS), True,
                                         (), staff)
    return StaffNotificationSettings(
        provider.id, provider.name,
        frozenset(event for event in EVENTS if getattr(row, f"on_{event}")),
        row.to_staff_accounts, tuple(_lines(row.extra_addresses)), staff)


def update_settings(provider_id: int, *, scope: Scope, events, to_staff_accounts: bool,
                    extra_addresses: str) -> StaffNotificationSettings:
    """Save the provider's settings. ``extra_addresses``: emails separated by lines,
    commas or spaces; an invalid one refuses the whole change (nothing is saved)."""
    require_scope(scope)
    unknown = set(events) - set(EVENTS)
    if unknown:
        raise ValidationFailed("staff_notifications.invalid",
                               f"Unknown event {', '.join(sorted(unknown))}.",
                               {"events": [f"One of {', '.join(EVENTS)}."]})
    addresses = parse_addresses(extra_addresses)
    with unit_of_work():
        provider = _provider(provider_id, scope)
        row = _row(provider.id)
        if row is None:
            row = StaffNotificationSetting(provider_id=provider.id)
            db.session.add(row)
        for event in EVENTS:
            setattr(row, f"on_{event}", event in events)
        row.to_staff_accounts = bool(to_staff_accounts)
        row.extra_addresses = "\n".join(addresses)
    return get_settings(provider_id, scope=scope)


def parse_addresses(text: str | None) -> list[str]:
    """Emails separated by lines, commas, semicolons or spaces, normalised, each once;
    refused with every invalid one named."""
    found, invalid = [], []
    for raw in (text or "").replace(",", " ").replace(";", " ").split():
        try:
            address = normalise_email(raw)
        except ValueError:
            invalid.append(raw)
            continue
        if address not in found:
            found.append(address)
    if invalid:
        raise ValidationFailed(
            "staff_notifications.invalid_address",
            f"Not an email address: {', '.join(invalid)}.",
            {"extra_addresses": [f"Not an email address: {', '.join(invalid)}."]})
    if len(found) > MAX_EXTRA_ADDRESSES:
        raise ValidationFailed(
            "staff_notifications.too_many_addresses",
            f"At most {MAX_EXTRA_ADDRESSES} extra addresses.",
            {"extra_addresses": [f"At most {MAX_EXTRA_ADDRESSES} extra addresses."]})
    return found


def _provider(provider_id, scope: Scope) -> Provider:
    provider = db.session.get(Provider, provider_id) if isinstance(provider_id, int) else None
    if provider is None or not scope.allows(provider.id):
        raise NotFound("provider.not_found", f"No provider {provider_id}.")
    return provider


def _row(provider_id: int) -> StaffNotificationSetting | None:
    return db.session.scalar(select(StaffNotificationSetting).where(
        StaffNotificationSetting.provider_id == provider_id))


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _staff_accounts(provider_id: int) -> list[tuple[str, str]]:
    """(email, locale) of the provider's active staff accounts."""
    rows = db.session.execute(
        select(Account.email, Account.locale).where(Account.provider_id == provider_id,
                                                    Account.active.is_(True))
        .order_by(Account.id)).all()
    return [(email.lower(), locale or templates.DEFAULT_LOCALE) for email, locale in rows
            if email]


def recipients(provider_id: int, event: str) -> list[tuple[str, str]]:
    """(address, locale) of everyone told about ``event`` at this provider, each once."""
    row = _row(provider_id)
    if row is not None and not getattr(row, f"on_{event}"):
        return []
    found: dict[str, str] = {}
    if row is None or row.to_staff_accounts:
        for address, locale in _staff_accounts(provider_id):
            found.setdefault(address, locale)
    for address in _lines(row.extra_addresses if row is not None else ""):
        found.setdefault(address.lower(), templates.DEFAULT_LOCALE)
    return list(found.items())


def staff_addresses(provider_id: int) -> list[tuple[str, str]]:
    """(address, locale) of everyone told about the provider's own affairs (a disabled
    webhook endpoint): its staff accounts, unless switched off, and the extra addresses,
    whichever booking events they chose."""
    row = _row(provider_id)
    found: dict[str, str] = {}
    if row is None or row.to_staff_accounts:
        for address, locale in _staff_accounts(provider_id):
            found.setdefault(address, locale)
    for address in _lines(row.extra_addresses if row is not None else ""):
        found.setdefault(address.lower(), templates.DEFAULT_LOCALE)
    return list(found.items())


# --- consumers --------------------------------------------------------------------------------

def awaits_staff(pay_at_venue: bool, total_minor: int) -> bool:
    """A booking staff confirm themselves: paid at the venue, with something to pay."""
    return bool(pay_at_venue) and total_minor > 0


def _acts_on_new_booking(topic: str, payload: dict) -> bool:
    # Most bookings are paid online: their ``booking.created`` needs no job at all.
    if topic != "booking.created":
        return True
    return payload.get("status") == PENDING and awaits_staff(
        payload.get("pay_at_venue", True), payload.get("total_minor") or 0)


@events.acts_only_when(_acts_on_new_booking)
def notify_staff_of_new_booking(*, event_id: str, topic: str, payload: dict) -> None:
    """``booking.created`` (pay at the venue: waiting for confirmation) and
    ``booking.confirmed`` (anything else: a new booking)."""
    status = payload.get("status")
    with unit_of_work(joins=True):  # with the consumer's record of this event
        booking = _booking(payload, event_id)
        if booking is None:
            return
        staff_confirm = awaits_staff(booking.pay_at_venue, booking.total_minor)
        if topic == "booking.created":
            if staff_confirm and status == PENDING:
                _queue(event_id, booking, AWAITING_CONFIRMATION)
        elif not staff_confirm:  # staff confirmed a pay-at-venue booking themselves
            _queue(event_id, booking, NEW)


def notify_staff_of_cancellation(*, event_id: str, topic: str, payload: dict) -> None:
    with unit_of_work(joins=True):
        booking = _booking(payload, event_id)
        if booking is not None:
            _queue(event_id, booking, CANCELLED,
                   free_cancellation=bool(payload.get("free_cancellation")),
                   cancelled_by_customer=bool(payload.get("by_customer")))


def notify_staff_of_reschedule(*, event_id: str, topic: str, payload: dict) -> None:
    with unit_of_work(joins=True):
        booking = _booking(payload, event_id)
        if booking is None:
            return
        previous = payload.get("previous_slot_id")
        previous_start = db.session.scalar(select(Slot.starts_at).where(
            Slot.id == previous)) if previous else None
        _queue(event_id, booking, RESCHEDULED, previous_starts_at=previous_start)


def _booking(payload: dict, event_id: str) -> Booking | None:
    booking = db.session.scalar(select(Booking).where(
        Booking.reference == payload["booking_reference"]))
    if booking is None:
        log.warning("booking %s of event %s is gone", payload["booking_reference"], event_id)
    return booking


def _queue(event_id: str, booking: Booking, event: str, **facts) -> None:
    """One email row per recipient (in the open transaction); sent after the commit."""
    key = EVENTS[event]
    customer = db.session.get(Account, booking.customer_id)
    ids = []
    for address, locale in recipients(booking.provider_id, event):
        notification_id = queue_staff_email(
            key, address, locale, provider_id=booking.provider_id,
            dedupe=dedupe_key(event_id, address), booking_id=booking.id,
            context=lambda shown_in: message_context(booking, customer, locale=shown_in,
                                                     **facts))
        if notification_id is not None:
            ids.append(notification_id)
    after_commit(enqueue_sends, ids)


def queue_staff_email(template_key: str, address: str, locale: str, *,
                      provider_id: int | None, dedupe: str, context,
                      booking_id: int | None = None) -> int | None:
    """One email to a staff member (or admin), rendered from ``template_key`` in their
    language (``context(locale)`` gives its variables) and stored once per ``dedupe`` key,
    in the caller's transaction. A template that does not render is stored as failed,
    never silently dropped. Returns the id of a new queued message (to enqueue after the
    commit), else None."""
    values = dict(provider_id=provider_id, booking_id=booking_id, customer_id=None,
                  receipt_id=None, dedupe_key=dedupe, template_key=template_key,
                  channel=EMAIL, recipient=address, locale=locale, status=QUEUED,
                  attempts=0, body_text="")
    try:
        parts = templates.resolve(template_key, EMAIL, locale, provider_id)
        rendered = templates.render(parts, context(parts.locale))
        values.update(locale=parts.locale, subject=rendered.subject,
                      body_text=rendered.body_text, body_html=rendered.body_html)
    except Exception as exc:  # a broken template: failed in the log, never silent
        values.update(status=FAILED, error=f"Template did not render: "
                      f"{type(exc).__name__}: {exc}"[:2000])
    notification_id = insert_once(values)
    return notification_id if notification_id is not None and values["status"] == QUEUED \
        else None


def dedupe_key(event_id: str, address: str) -> str:
    """Once per event and address; the address hashed so that any length fits."""
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:24]
    return f"{event_id}:staff:{digest}"
