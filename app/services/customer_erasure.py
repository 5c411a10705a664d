"""Erasing a customer: every trace of the person goes, the provider's records stay.

One unit of work does the database part, all or nothing: the account is anonymised and
can no longer sign in; its sign-in sessions, second factor (authenticator secret and
recovery codes), linked sign-ins (Google, Apple, Facebook) and one-off request records
are deleted; the message log keeps that messages were sent (channel, time, status) but
not to whom or what they said; attribution and conversion rows lose their identifiers; the audit trail
keeps who-did-what but not the person's values or addresses. Bookings, payments,
receipts and credit notes stay (accounting and tax law) with their numbers and totals;
the documents' PDFs are printed again without the customer after the commit
(:func:`app.services.receipts.remove_personal_data`), which a crash leaves for the
receipts sweep, or a download, to finish.
"""
from __future__ import annotations

from sqlalchemy import delete, or_, select, update

from app.extensions import db
from app.models import (
    Account,
    AuditLog,
    Booking,
    IdempotencyRecord,
    Notification,
    Payment,
    PaymentEvent,
    RevokedToken,
    SignInSession,
)
from app.models.notifications import FAILED, QUEUED, SENDING
from app.models.types import utcnow
from app.services import (
    attribution_privacy,
    audit,
    calendar_feeds,
    receipts,
    second_factor,
    social_sign_in,
    waitlist,
)
from app.services.scopes import SYSTEM
from app.services.transactions import unit_of_work

ERASED = "[erased]"
PERSONAL_FIELDS = ("email", "username", "first_name", "last_name", "phone")


def anonymous_email(customer_id: int) -> str:
    return f"erased-{customer_id}@erased.invalid"


@unit_of_work()
def erase_customer(customer_id: int) -> None:
    account = db.session.get(Account, customer_id, with_for_update=True)
    traces = _traces_of(account)
    booking_ids = select(Booking.id).where(Booking.customer_id == customer_id)
    attribution_privacy.erase_attribution(customer_id)
    _erase_messages(customer_id, booking_ids)
    receipts.remove_personal_data(customer_id)
    db.session.execute(update(Booking).where(Booking.customer_id == customer_id)
                       .values(notes=""))  # free text the customer wrote
    _scrub_payment_events(booking_ids, traces)
    db.session.execute(delete(SignInSession).where(SignInSession.account_id == customer_id))
    second_factor.delete_for_account(customer_id)  # authenticator secret, recovery codes
    social_sign_in.delete_for_account(customer_id)  # Google, Apple, Facebook links
    calendar_feeds.delete_for_account(customer_id)  # the secret feed address
    # Out of every waiting list; a place held for them goes to the next in line.
    waitlist.end_for_account(customer_id, SYSTEM.because("account erased"))
    db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.user_id == customer_id))
    db.session.execute(update(RevokedToken).where(RevokedToken.user_id == customer_id)
                       .values(expires_at=utcnow()))
    _anonymise_account(account)
    audit.record("account.erased", entity="account", entity_id=customer_id,
                 subject=account)
    _scrub_audit_trail(customer_id, traces)


def _traces_of(account: Account) -> list[str]:
    """The person's own values, as they could appear inside stored texts."""
    name = " ".join(p for p in (account.first_name, account.last_name) if p)
    values = {account.email, account.username, account.phone, name,
              account.first_name, account.last_name}
    return sorted((v for v in values if v and len(v) >= 3), key=len, reverse=True)


def _anonymise_account(account: Account) -> None:
    account.email = account.username = anonymous_email(account.id)
    account.first_name, account.last_name = "Erased", "Customer"
    account.phone = None
    account.active = False
    account.marketing_consent = account.notify_email = account.notify_sms = False
    account.password = "!"  # no password hash matches: nobody signs in as it again


def _erase_messages(customer_id: int, booking_ids) -> None:
    """Messages to the customer lose recipient and text; staff messages about the
    customer's bookings lose their text (their recipient is the staff's address)."""
    to_customer = Notification.customer_id == customer_id
    db.session.execute(update(Notification).where(
        to_customer, Notification.status.in_((QUEUED, SENDING)))
        .values(status=FAILED, error="recipient erased"))
    db.session.execute(update(Notification).where(to_customer).values(
        recipient="", error=None))
    db.session.execute(update(Notification).where(
        or_(to_customer, Notification.booking_id.in_(booking_ids))).values(
        subject=None, body_text="", body_html=None))


def _scrub_payment_events(booking_ids, traces) -> None:
    payment_ids = select(Payment.id).where(Payment.booking_id.in_(booking_ids))
    for row in db.session.scalars(select(PaymentEvent).where(
            PaymentEvent.payment_id.in_(payment_ids))):
        payload = scrubbed(row.payload, traces)
        if payload != row.payload:
            row.payload = payload


def _scrub_audit_trail(customer_id: int, traces) -> None:
    """Entries about the account, or made by it, or about its bookings: the person's
    addresses go and any of the person's values inside them become ``[erased]``."""
    bookings = [str(i) for i in db.session.scalars(
        select(Booking.id).where(Booking.customer_id == customer_id))]
    about = or_(
        (AuditLog.entity == "account") & (AuditLog.entity_id == str(customer_id)),
        (AuditLog.entity == "booking") & AuditLog.entity_id.in_(bookings),
        AuditLog.actor_id == customer_id)
    for entry in db.session.scalars(select(AuditLog).where(about)):
        changes = scrubbed(entry.changes, traces, keys=PERSONAL_FIELDS + ("notes",))
        if changes != entry.changes:
            entry.changes = changes
        # Their own requests, and anonymous ones about their account (failed sign-ins,
        # reset requests), came from the person's address; an admin's entries keep theirs.
        if entry.actor_id in (customer_id, None):
            entry.ip = None


def scrubbed(value, traces, *, keys=()):
    """``value`` (stored JSON) with every string holding one of ``traces`` replaced, and
    the values under ``keys`` too."""
    if isinstance(value, dict):
        return {k: (ERASED if k in keys and v not in (None, "") else
                    scrubbed(v, traces, keys=keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrubbed(v, traces, keys=keys) for v in value]
    if isinstance(value, str):
        lowered = value.lower()
        if any(trace.lower() in lowered for trace in traces):
            return ERASED
    return value
