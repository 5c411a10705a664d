"""Which bookings of an account its holder sees and manages through the account.

A booking placed as a guest lands in whichever account has the guest's address
(``guest_checkout.guest_customer_id``), and an account whose address is not proven may
belong to someone else than the address's holder. So while the account's address is
unverified and ``link_guest_bookings`` is among ``VERIFIED_EMAIL_REQUIRED_FOR``, the
bookings placed as a guest (``Booking.placed_as_guest``) stay out of the account: not
listed, not opened, paid or changed through it. Verifying the address shows them.
Bookings placed while signed in always show. The signed manage links mailed with a guest
booking do not go through the account and keep working.
"""
from __future__ import annotations

from sqlalchemy import select, true

from app.errors import NotFound
from app.extensions import db
from app.models import Account, Booking, Notification, Receipt
from app.services import verified_actions


def guest_bookings_hidden(account: Account | None) -> bool:
    """True while ``account`` may not see the bookings placed as a guest with its address."""
    return account is None or verified_actions.waits_for_verification(
        account, "link_guest_bookings")


def shown_to(account_id: int):
    """The condition on ``Booking`` for the bookings account ``account_id`` sees (its own
    customer_id condition comes from the caller's query)."""
    if guest_bookings_hidden(db.session.get(Account, account_id)):
        return Booking.placed_as_guest.is_(False)
    return true()


def require_shown(reference: str, *, account_id: int) -> None:
    """404 (as for another's booking) unless the account's holder may open this booking."""
    found = db.session.scalar(select(Booking.id).where(
        Booking.reference == reference, Booking.customer_id == account_id,
        shown_to(account_id)))
    if found is None:
        raise NotFound("booking.not_found", f"No booking {reference}.")


def _hidden_booking_ids(account_id: int):
    return select(Booking.id).where(Booking.customer_id == account_id,
                                    Booking.placed_as_guest.is_(True))


def receipts_shown_to(account_id: int):
    """The condition on ``Receipt`` for the receipts and credit notes the account sees:
    not those of bookings it does not see."""
    if guest_bookings_hidden(db.session.get(Account, account_id)):
        return Receipt.booking_id.not_in(_hidden_booking_ids(account_id))
    return true()


def messages_shown_to(account_id: int):
    """The condition on ``Notification``: not the messages about bookings the account
    does not see (they carry those bookings' manage links)."""
    if guest_bookings_hidden(db.session.get(Account, account_id)):
        return Notification.booking_id.is_(None) | Notification.booking_id.not_in(
            _hidden_booking_ids(account_id))
    return true()


def require_receipt_shown(receipt_id: int, *, account_id: int) -> None:
    """404 (as for another's) unless the account's holder may open this receipt."""
    found = db.session.scalar(select(Receipt.id).where(
        Receipt.id == receipt_id, Receipt.customer_id == account_id,
        receipts_shown_to(account_id)))
    if found is None:
        raise NotFound("receipt.not_found", f"No receipt {receipt_id}.")
