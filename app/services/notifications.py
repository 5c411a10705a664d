"""Messages to customers: one ``Notification`` row per message, sent by a job.

The consumers below turn events into rows, rendered and stored in the consumer's own
transaction (so a message exists exactly when the event was handled), then enqueue
the ``notifications.send`` job per row after the commit. Each row is its own
job: one bad recipient never holds up another.

Sending is a small state machine (``queued → sending → sent | failed``):

1. claim: lock the row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and move it from
   ``queued`` (and due) to ``sending``, ``attempts + 1``; commit. Any other state: do
   nothing — a duplicate or retried job never sends twice;
2. send outside any transaction (SMTP or Twilio, or outbox files without them);
3. record: ``sent`` with the provider's message id; a transient failure goes back to
   ``queued`` with ``next_attempt_at`` (the job raises so that RQ retries); a permanent one
   (or the last attempt) is ``failed`` with the reason.

A row left in ``sending`` (the worker died mid-send) is not sent again blindly: the
message may have left. The sweep marks it ``failed`` with "outcome unknown" after
``STUCK_AFTER``; staff decide and use "Send again" (a new row).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, select, update

from app import jobqueue, metrics
from app.errors import Conflict, NotFound
from app.extensions import db
from app.gateways import sms as sms_gateway
from app.gateways.mail import MailError, OutgoingEmail, send_email
from app.gateways.sms import SmsError
from app.models import Account, Booking, Notification, Provider, Receipt, Slot
from app.models.bookings import CONFIRMED
from app.models.notifications import CHANNELS, EMAIL, FAILED, QUEUED, SENDING, SENT, SMS
from app.models.receipts import CREDIT_NOTE
from app.models.types import utcnow
from app.services import audit, calendar_file, decline_reasons, display_formats, manage_links
from app.services import notification_templates as templates
from app.services.scopes import Scope, require_scope
from app.services.tenancy import scoped
from app.services.transactions import after_commit, end_read, unit_of_work
from app.services.validation import normalise_phone

log = logging.getLogger(__name__)

SEND_JOB = "notifications.send"
MAX_ATTEMPTS = 6
BACKOFF = [60, 300, 900, 3600, 3 * 3600]  # seconds before attempts 2, 3, ...
DUE_GRACE = timedelta(seconds=5)          # an RQ retry may fire a moment early
STUCK_AFTER = timedelta(minutes=15)       # in "sending" this long: the worker died
LOST_AFTER = timedelta(minutes=2)         # queued, never tried: the enqueue was lost
RETRY_LOST_AFTER = timedelta(minutes=5)   # due this long and still queued: the retry was lost
OUTCOME_UNKNOWN = ("Outcome unknown: sending was interrupted (the worker stopped) after the "
                   "message may have left. Not retried automatically, to avoid sending it "
                   "twice; check with the customer, then use Send again.")
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP"}
RETRYING = "retrying"  # send_notification's answer for a row back in the queue


# --- consumers ------------------------------------------------------------------------------

def notify_booking_confirmed(*, event_id: str, topic: str, payload: dict) -> None:
    _notify(event_id, payload, "booking_confirmed")


def notify_booking_cancelled(*, event_id: str, topic: str, payload: dict) -> None:
    _notify(event_id, payload, "booking_cancelled",
            free_cancellation=bool(payload.get("free_cancellation")))


def notify_booking_rescheduled(*, event_id: str, topic: str, payload: dict) -> None:
    """``booking.rescheduled``: the customer hears of the new time (and gets the updated
    calendar invitation)."""
    previous = payload.get("previous_slot_id")
    previous_start = db.session.scalar(select(Slot.starts_at).where(
        Slot.id == previous)) if previous else None
    _notify(event_id, payload, "booking_rescheduled", previous_starts_at=previous_start)


def notify_waitlist_offer(*, event_id: str, topic: str, payload: dict) -> None:
    """``waitlist.offered``: the customer hears that a place is held for them, and until
    when."""
    _notify(event_id, payload, "waitlist_offered")


def notify_payment_failed(*, event_id: str, topic: str, payload: dict) -> None:
    _notify(event_id, payload, "payment_failed", total_minor=payload.get("amount_minor"),
            failure=_failure_of(payload))


def notify_payment_declined(*, event_id: str, topic: str, payload: dict) -> None:
    """An attempt was declined; the place stays held: tell the customer how to retry."""
    _notify(event_id, payload, "payment_declined", total_minor=payload.get("amount_minor"),
            failure=_failure_of(payload))


def _failure_of(payload: dict) -> tuple[str | None, str | None] | None:
    """(code, the gateway's words) of a failed attempt, or None when it gave no reason."""
    if not (payload.get("failure_code") or payload.get("failure_reason")):
        return None
    return payload.get("failure_code"), payload.get("failure_reason")


def notify_payment_refunded(*, event_id: str, topic: str, payload: dict) -> None:
    _notify(event_id, payload, "payment_refunded",
            refund_minor=payload.get("refund_amount_minor"),
            fully_refunded=bool(payload.get("fully_refunded")))


def notify_receipt(*, event_id: str, topic: str, payload: dict) -> None:
    """``receipt.generated``: the receipt (or credit note) by email, its PDF attached."""
    receipt = db.session.get(Receipt, payload["receipt_id"])
    if receipt is None:
        log.warning("receipt %s of event %s is gone", payload["receipt_id"], event_id)
        return
    _notify(event_id, payload, "receipt", channels=(EMAIL,), receipt=receipt,
            total_minor=receipt.total_minor)


def _notify(event_id: str, payload: dict, key: str, *, channels=CHANNELS, **facts) -> None:
    with unit_of_work(joins=True):  # with the consumer's record of this event
        booking = db.session.scalar(select(Booking).where(
            Booking.reference == payload["booking_reference"]))
        if booking is None:
            log.warning("booking %s of event %s is gone", payload["booking_reference"],
                        event_id)
            return
        ids = queue_messages(key=key, booking=booking, dedupe_prefix=event_id,
                             channels=channels, **facts)
        after_commit(enqueue_sends, ids)


# --- creating messages ------------------------------------------------------------------------

def customer_channels(customer: Account | None, channels=CHANNELS) -> list[tuple[str, str]]:
    """(channel, recipient) for each channel the customer receives messages on."""
    found = []
    if customer is None:
        return found
    if EMAIL in channels and customer.notify_email and customer.email:
        found.append((EMAIL, customer.email))
    if SMS in channels and customer.notify_sms and customer.phone and not customer.sms_opted_out:
        try:
            found.append((SMS, normalise_phone(customer.phone)))
        except ValueError:
            log.info("account %s: phone %r is not E.164; no SMS", customer.id, customer.phone)
    return found


def queue_messages(*, key: str, booking: Booking, dedupe_prefix: str, channels=CHANNELS,
                   receipt: Receipt | None = None, **facts) -> list[int]:
    """Add one row per channel of the booking's customer (in the caller's transaction);
    a row whose dedupe key exists already is not added again. Returns the new ids."""
    customer = db.session.get(Account, booking.customer_id)
    ids = []
    for channel, recipient in customer_channels(customer, channels):
        values = dict(
            provider_id=booking.provider_id, booking_id=booking.id, customer_id=customer.id,
            receipt_id=receipt.id if receipt is not None else None,
            dedupe_key=f"{dedupe_prefix}:{channel}", template_key=key, channel=channel,
            recipient=recipient, locale=customer.locale or templates.DEFAULT_LOCALE,
            status=QUEUED, attempts=0, body_text="")
        try:
            parts = templates.resolve(key, channel, customer.locale, booking.provider_id)
            context = message_context(booking, customer, locale=parts.locale,
                                      receipt=receipt, **facts)
            rendered = templates.render(parts, context)
            values.update(locale=parts.locale, subject=rendered.subject,
                          body_text=rendered.body_text,
                          body_html=rendered.body_html if channel == EMAIL else None)
        except Exception as exc:  # a broken default: visible to staff, never silent
            values.update(status=FAILED, error=f"Template did not render: "
                          f"{type(exc).__name__}: {exc}"[:2000])
        notification_id = insert_once(values)
        if notification_id is not None and values["status"] == QUEUED:
            ids.append(notification_id)
    return ids


def insert_once(values: dict) -> int | None:
    """Insert a ``Notification`` row unless the dedupe key exists (then None), without failing the transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    values = {"created_at": now, "updated_at": now, **values}
    statement = (insert(Notification).values(**values)
                 .on_conflict_do_nothing(index_elements=["dedupe_key"])
                 .returning(Notification.id))
    return db.session.scalar(statement)


def message_context(booking: Booking, customer: Account, *, locale: str,
                    receipt: Receipt | None = None, total_minor: int | None = None,
                    refund_minor: int | None = None, fully_refunded: bool = False,
                    free_cancellation: bool = False, cancelled_by_customer: bool = False,
                    previous_starts_at=None,
                    failure: tuple[str | None, str | None] | None = None) -> dict:
    """Every variable of ``templates.VARIABLES``, for one booking and customer.
    ``failure``: (code, gateway's words) of a payment attempt that did not go through;
    the customer reads why in the message's language, never the gateway's English."""
    provider = db.session.get(Provider, booking.provider_id)
    first, last = (customer.first_name or "").strip(), (customer.last_name or "").strip()
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return {
        "customer_name": f"{first} {last}".strip() or customer.email,
        "customer_first_name": first or customer.email,
        "provider_name": provider.name,
        "provider_email": provider.contact_email or "",
        "provider_phone": getattr(provider, "contact_phone", None) or "",
        "offering_name": booking.offering.name if booking.offering is not None else "",
        "booking_reference": booking.reference,
        "starts_at_local": display_formats.format_local_time(booking.starts_at,
                                                             provider.timezone, locale),
        "quantity": booking.quantity,
        "total": display_formats.format_amount(
            booking.total_minor if total_minor is None else total_minor, booking.currency,
            locale),
        "currency": booking.currency,
        "receipt_number": receipt.display_number if receipt is not None else "",
        "credit_note": receipt is not None and receipt.kind == CREDIT_NOTE,
        "refund_amount": display_formats.format_amount(refund_minor, booking.currency, locale),
        "fully_refunded": fully_refunded,
        "free_cancellation": free_cancellation,
        "manage_url": f"{base}{manage_links.manage_path(booking)}",
        "sign_in_url": _sign_in_url(),
        "customer_email": customer.email or "",
        "customer_phone": customer.phone or "",
        "booking_url": console_booking_url(booking),
        "previous_starts_at_local": display_formats.format_local_time(
            previous_starts_at, provider.timezone, locale),
        "cancelled_by_customer": cancelled_by_customer,
        "hold_expires_local": display_formats.format_local_time(
            booking.hold_expires_at, provider.timezone, locale),
        "failure_reason": decline_reasons.customer_reason_in(failure[0], locale)
        if failure is not None else "",
    }


def console_booking_url(booking: Booking) -> str:
    """The booking's page in the console, for the provider's staff."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return f"{base}/bookingview/show/{booking.id}"


def _sign_in_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") + "/shop/login"


# --- account messages -----------------------------------------------------------------------

REGISTRATION_ATTEMPT = "registration_attempt"


def queue_registration_attempt(account: Account) -> list[int]:
    """Someone tried to register with the address of ``account``: tell its holder by
    email (in the caller's transaction; ``enqueue_sends`` the ids after the commit).

    Sent whatever the holder's booking-message choices: it is about the account itself.
    At most one such message per account and hour, so repeated attempts cannot flood
    the holder's inbox."""
    extra = {}
    if not account.password:  # a guest: the message lets them choose a password
        base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
        extra["finish_account_url"] = (
            f"{base}/shop/account/finish/{manage_links.finish_account_token(account)}")
    hour = utcnow().strftime("%Y%m%d%H")
    return queue_account_message(account, REGISTRATION_ATTEMPT,
                                 dedupe_key=f"{REGISTRATION_ATTEMPT}:{account.id}:{hour}",
                                 **extra)


def queue_account_message(account: Account, key: str, *, dedupe_key: str,
                          **extra_context) -> list[int]:
    """An email about the account itself (not a booking) to its holder, in the caller's
    transaction; the ids to ``enqueue_sends`` after the commit (none when ``dedupe_key``
    was used already). Sent whatever the holder's booking-message choices."""
    first, last = (account.first_name or "").strip(), (account.last_name or "").strip()
    context = {name: "" for name in templates.VARIABLES}
    context.update(customer_name=f"{first} {last}".strip() or account.email,
                   customer_first_name=first or account.email, quantity=0,
                   credit_note=False, fully_refunded=False, free_cancellation=False,
                   cancelled_by_customer=False, customer_email=account.email,
                   sign_in_url=_sign_in_url())
    context.update(extra_context)
    values = dict(
        provider_id=None, booking_id=None, customer_id=account.id, receipt_id=None,
        dedupe_key=dedupe_key, template_key=key, channel=EMAIL, recipient=account.email,
        locale=account.locale or templates.DEFAULT_LOCALE, status=QUEUED, attempts=0,
        body_text="")
    try:
        parts = templates.resolve(key, EMAIL, account.locale)
        rendered = templates.render(parts, context)
        values.update(locale=parts.locale, subject=rendered.subject,
                      body_text=rendered.body_text, body_html=rendered.body_html)
    except Exception as exc:  # a broken default: visible to admins, never a failed request
        values.update(status=FAILED, error=f"Template did not render: "
                      f"{type(exc).__name__}: {exc}"[:2000])
    notification_id = insert_once(values)
    if notification_id is None or values["status"] != QUEUED:
        return []
    return [notification_id]


def enqueue_sends(ids: list[int]) -> None:
    """After the commit: one send job per row. A failure here loses nothing (the sweep
    re-enqueues queued rows) and never fails the caller."""
    for notification_id in ids:
        try:
            jobqueue.enqueue(SEND_JOB, notification_id)
        except Exception:
            log.exception("enqueueing notification %s failed; the sweep will retry",
                          notification_id)


# --- reminders ------------------------------------------------------------------------------

def queue_reminders(now=None, *, limit: int = 500) -> int:
    """Confirmed bookings starting within REMINDER_HOURS_BEFORE hours get a reminder per
    channel, once (dedupe key ``reminder:<booking>:<channel>``)."""
    now = now or utcnow()
    horizon = now + timedelta(hours=current_app.config.get("REMINDER_HOURS_BEFORE", 24))
    reminded = exists().where(Notification.booking_id == Booking.id,
                              Notification.template_key == "booking_reminder")
    with unit_of_work():
        bookings = db.session.scalars(
            select(Booking).where(Booking.status == CONFIRMED, Booking.starts_at > now,
                                  Booking.starts_at <= horizon, ~reminded)
            .order_by(Booking.starts_at).limit(limit)).all()
        ids = []
        for booking in bookings:
            ids += queue_messages(key="booking_reminder", booking=booking,
                                  dedupe_prefix=f"reminder:{booking.id}")
        after_commit(enqueue_sends, ids)
    return len(ids)


# --- sending --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str
    recipient: str
    subject: str | None
    body_text: str
    body_html: str | None
    receipt_id: int | None
    attempts: int
    template_key: str = ""
    booking_id: int | None = None


# The customer's messages about a booking's time carry the calendar invitation (REQUEST,
# or CANCEL once the booking no longer holds its place).
INVITE_TEMPLATES = frozenset({"booking_confirmed", "booking_rescheduled", "booking_cancelled"})


class AttachmentUnavailable(Exception):
    permanent = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def send_notification(notification_id: int, *, final_attempt: bool = True,
                      now=None) -> str:
    """Send one message if it is queued and due. Returns the row's status afterwards
    (``retrying`` when a transient failure put it back in the queue), or why nothing was
    done (``missing``, ``busy``, ``not_due``, or the state it was found in)."""
    claimed = _claim(notification_id, now or utcnow())
    if isinstance(claimed, str):
        return claimed
    try:
        if claimed.channel == EMAIL:
            email = OutgoingEmail(to=claimed.recipient, subject=claimed.subject or "",
                                  text=claimed.body_text, html=claimed.body_html,
                                  attachments=_attachments(claimed))
            end_read()  # no transaction open during the SMTP conversation
            reference = send_email(email)
        else:
            reference = sms_gateway.send_sms(to=claimed.recipient, body=claimed.body_text,
                                             status_callback=status_callback_url())
    except (MailError, SmsError, AttachmentUnavailable) as exc:
        outcome = _record_failure(claimed, exc, final_attempt)
        if outcome in (RETRYING, FAILED):
            metrics.message_attempted(claimed.channel, outcome)
        return outcome
    outcome = _record_sent(claimed.id, reference)
    metrics.message_attempted(claimed.channel, outcome)
    return outcome


def _claim(notification_id: int, now) -> _Claimed | str:
    with unit_of_work():
        return _claim_row(notification_id, now)


def _claim_row(notification_id: int, now) -> _Claimed | str:
    postgres = db.session.get_bind().dialect.name == "postgresql"
    row = db.session.scalar(select(Notification).where(Notification.id == notification_id)
                            .with_for_update(skip_locked=postgres)
                            .execution_options(populate_existing=True))
    if row is None:
        exists_at_all = db.session.scalar(select(Notification.id).where(
            Notification.id == notification_id))
        return "busy" if exists_at_all else "missing"
    if row.status != QUEUED:
        return row.status
    if row.next_attempt_at is not None and row.next_attempt_at > now + DUE_GRACE:
        return "not_due"
    if row.channel == SMS and _opted_out(row.customer_id):
        row.status, row.error, row.next_attempt_at = FAILED, "The recipient opted out (STOP).", None
        return FAILED
    # Conditional as well as locked: SQLite has no row locks.
    moved = db.session.execute(
        update(Notification).where(Notification.id == row.id, Notification.status == QUEUED)
        .values(status=SENDING, attempts=Notification.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return "busy"
    return _Claimed(row.id, row.channel, row.recipient, row.subject, row.body_text,
                    row.body_html, row.receipt_id, row.attempts + 1, row.template_key,
                    row.booking_id)


def _opted_out(customer_id: int | None) -> bool:
    if customer_id is None:
        return False
    return bool(db.session.scalar(select(Account.sms_opted_out).where(
        Account.id == customer_id)))


def _attachments(claimed: _Claimed) -> list[tuple[str, str, bytes]]:
    if claimed.template_key in INVITE_TEMPLATES and claimed.booking_id is not None:
        return _invite(claimed.booking_id)
    if claimed.receipt_id is None:
        return []
    receipt = db.session.get(Receipt, claimed.receipt_id)
    if receipt is None:
        raise AttachmentUnavailable(f"Receipt {claimed.receipt_id} no longer exists.")
    try:
        from app.services.receipts import pdf_of

        data = pdf_of(receipt)
    except Exception as exc:  # storage down, or not there yet: try again later
        raise AttachmentUnavailable(
            f"The PDF of {receipt.display_number} could not be read: "
            f"{type(exc).__name__}: {exc}") from exc
    return [(f"{receipt.display_number}.pdf", "application/pdf", data)]


def _invite(booking_id: int) -> list[tuple[str, str, bytes]]:
    """The booking's calendar invitation as it stands when the message leaves: a later
    message carries a higher SEQUENCE, so calendars keep the newest."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.starts_at is None:
        return []
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return [calendar_file.booking_invite(
        booking, manage_url=f"{base}{manage_links.manage_path(booking)}")]


def status_callback_url() -> str | None:
    base = current_app.config.get("PUBLIC_BASE_URL")
    return f"{base.rstrip('/')}/api/v1/webhooks/twilio/status" if base else None


def _record_sent(notification_id: int, reference: str) -> str:
    with unit_of_work():
        db.session.execute(update(Notification).where(Notification.id == notification_id)
                           .values(status=SENT, provider_message_id=reference,
                                   sent_at=utcnow(), error=None, next_attempt_at=None,
                                   updated_at=utcnow()))
    return SENT


def _record_failure(claimed: _Claimed, exc, final_attempt: bool) -> str:
    with unit_of_work():
        row = db.session.scalar(select(Notification).where(Notification.id == claimed.id)
                                .with_for_update().execution_options(populate_existing=True))
        if row is None or row.status != SENDING:  # the sweep gave up on it meanwhile
            return row.status if row is not None else "missing"
        row.error = exc.message[:2000]
        if exc.permanent or final_attempt or row.attempts >= MAX_ATTEMPTS:
            row.status, row.next_attempt_at = FAILED, None
            log.warning("notification %s failed for good: %s", row.id, exc.message)
        else:
            row.status = QUEUED
            delay = BACKOFF[min(row.attempts - 1, len(BACKOFF) - 1)]
            row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            log.info("notification %s: %s; retry in %ss", row.id, exc.message, delay)
        return RETRYING if row.status == QUEUED else row.status


def sweep(now=None, *, limit: int = 500) -> dict:
    """Crash safety: rows stuck in ``sending`` fail as "outcome unknown"; queued rows
    whose job was lost (or, without Redis, whose retry is due) are enqueued again."""
    now = now or utcnow()
    with unit_of_work():
        stuck = db.session.execute(
            update(Notification).where(Notification.status == SENDING,
                                       Notification.updated_at < now - STUCK_AFTER)
            .values(status=FAILED, error=OUTCOME_UNKNOWN, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        with_redis = bool(current_app.config.get("REDIS_URL"))
        retry_before = now - RETRY_LOST_AFTER if with_redis else now
        ids = db.session.scalars(
            select(Notification.id).where(
                Notification.status == QUEUED,
                ((Notification.next_attempt_at.is_(None))
                 & (Notification.created_at < now - LOST_AFTER))
                | (Notification.next_attempt_at <= retry_before))
            .order_by(Notification.id).limit(limit)).all()
        after_commit(enqueue_sends, ids)
    return {"stuck_failed": stuck, "requeued": len(ids)}


# --- console --------------------------------------------------------------------------------

def resend_notification(notification_id: int, *, scope: Scope) -> int:
    """"Send again" for a failed message: a new row (the failed one stays as it was), to
    the customer's current address when they still have one."""
    require_scope(scope)
    with unit_of_work():
        row = db.session.scalar(scoped(
            select(Notification).where(Notification.id == notification_id), Notification,
            scope=scope))
        if row is None:
            raise NotFound("notification.not_found", f"No message {notification_id}.")
        if row.status != FAILED:
            raise Conflict("notification.not_failed",
                           f"Only failed messages are sent again; this one is {row.status}.")
        recipient = row.recipient
        customer = db.session.get(Account, row.customer_id) if row.customer_id else None
        if customer is not None:
            current = dict(customer_channels(customer, (row.channel,)))
            recipient = current.get(row.channel, recipient)
        copy = Notification(
            provider_id=row.provider_id, booking_id=row.booking_id, customer_id=row.customer_id,
            receipt_id=row.receipt_id, dedupe_key=f"resend:{row.id}:{uuid.uuid4().hex[:16]}",
            template_key=row.template_key, channel=row.channel, recipient=recipient,
            locale=row.locale, subject=row.subject, body_text=row.body_text,
            body_html=row.body_html, status=QUEUED, attempts=0)
        db.session.add(copy)
        db.session.flush()
        after_commit(enqueue_sends, [copy.id])
        return copy.id


# --- customers' choices and Twilio's callbacks -----------------------------------------------

def apply_channel_choices(user: Account, choices: dict) -> None:
    """``notify_email`` / ``notify_sms`` from /me; the caller's commit saves them."""
    for name in ("notify_email", "notify_sms"):
        if name in choices and choices[name] is not None:
            setattr(user, name, bool(choices[name]))


def record_sms_status(params: dict) -> bool:
    """Twilio's status callback: the carrier's word on a message we sent."""
    sid = params.get("MessageSid") or params.get("SmsSid")
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if not sid or not status:
        return False
    with unit_of_work():
        row = db.session.scalar(select(Notification).where(
            Notification.provider_message_id == sid, Notification.channel == SMS)
            .with_for_update().execution_options(populate_existing=True))
        if row is None:
            return False
        row.delivery_status = status[:40]
        if status in ("failed", "undelivered"):
            code = params.get("ErrorCode")
            row.status = FAILED
            row.error = f"Carrier reports {status}" + (f" (Twilio error {code})" if code else "")
        return True


def record_sms_reply(params: dict) -> str | None:
    """An inbound SMS: STOP words opt the sender's accounts out of SMS, START back in."""
    word = (params.get("Body") or "").strip().upper()
    sender = params.get("From") or ""
    if word in STOP_WORDS:
        opted_out = True
    elif word in START_WORDS:
        opted_out = False
    else:
        return None
    try:
        phone = normalise_phone(sender)
    except ValueError:
        return None
    with unit_of_work():
        changed = db.session.execute(
            update(Account).where(Account.phone == phone, Account.sms_opted_out.is_not(opted_out))
            .values(sms_opted_out=opted_out).returning(Account.id)
            .execution_options(synchronize_session=False)).scalars().all()
        for account_id in changed:  # the account's history says who stopped SMS, and how
            audit.record("account.sms_opted_out" if opted_out else "account.sms_opted_in",
                         entity="account", entity_id=account_id, changes={"reply": word})
        return "opted_out" if opted_out else "opted_in"
