"""How the storefront writes dates and statuses: in the page's language (Babel), on the
provider's clock with the zone named, and in the customer's words."""
from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_date, format_timedelta, get_day_names
from flask_babel import gettext, lazy_gettext

from app.models.bookings import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    EXPIRED,
    NO_SHOW,
    PENDING,
    REFUNDED,
)
from app.models.waitlist import BOOKED, LEFT, OFFER_EXPIRED, OFFERED, WAITING
from app.services import agenda, decline_reasons, display_formats, waitlist
from app.services.booking_states import status_label
from views.storefront.blueprint import bp, current_language
from views.storefront.shop_messages import shop_message

PART_LABELS = {"morning": lazy_gettext("Morning"), "afternoon": lazy_gettext("Afternoon"),
               "evening": lazy_gettext("Evening")}


# The booking statuses' names (booking_states.STATUS_LABELS) as the catalogues hold them.
STATUS_WORDS = {PENDING: lazy_gettext("Pending"), CONFIRMED: lazy_gettext("Confirmed"),
                COMPLETED: lazy_gettext("Completed"), NO_SHOW: lazy_gettext("No-show"),
                EXPIRED: lazy_gettext("Expired"), CANCELLED: lazy_gettext("Cancelled"),
                REFUNDED: lazy_gettext("Refunded")}


# A waiting list entry's status (waitlist.STATUS_LABELS) as its customer reads it.
WAITLIST_STATUS_WORDS = {WAITING: lazy_gettext("On the waiting list"),
                         OFFERED: lazy_gettext("A place is held for you"),
                         BOOKED: lazy_gettext("Booked"),
                         OFFER_EXPIRED: lazy_gettext("Offer expired"),
                         LEFT: lazy_gettext("Left the waiting list")}


def waitlist_status(status: str) -> str:
    return str(WAITLIST_STATUS_WORDS.get(status) or waitlist.status_label(status))


def status_words(status: str) -> str:
    return str(STATUS_WORDS.get(status) or status_label(status))


def customer_status(booking) -> str:
    """A booking's status for its customer: a pending one says what it waits for."""
    return history_words(booking.status, booking)


def history_words(status: str, booking) -> str:
    """A status ``booking`` was in, in the words its Status shows (never "Pending")."""
    if status == PENDING:
        return gettext("Waiting for the provider's confirmation") if booking.pay_at_venue \
            else gettext("Waiting for payment")
    return status_words(status)


@bp.context_processor
def storefront_formatting() -> dict:
    """Dates in the page's language (Babel), and statuses as customers read them."""
    def locale():
        return current_language()

    def time_span(start: datetime, end: datetime | None, zone: str) -> str:
        return display_formats.format_local_span(start, end, zone, current_language())

    return {
        "current_locale": lambda: str(locale()),
        "time_span": time_span,
        "notice_text": notice_text,
        "local_moment": lambda moment, zone: display_formats.format_local_time(
            moment, zone, current_language()),
        "local_day": lambda moment, zone: moment.astimezone(agenda.zone_of(zone)).date()
        .isoformat(),
        "part_labels": PART_LABELS,
        "status_label": customer_status,
        "history_label": history_words,
        "waitlist_status": waitlist_status,
        "shop_message": shop_message,
        # Why a payment did not go through, in the page's language (staff see the
        # gateway's own words in the console).
        "decline_reason": lambda payment: decline_reasons.customer_reason(
            payment.failure_code),
        "format_month": lambda day: format_date(day, "LLLL y", locale=locale()),
        "format_day": lambda day: format_date(day, "full", locale=locale()),
        "weekday_names": lambda: [get_day_names("abbreviated", locale=locale())[index]
                                  for index in range(7)],
    }


def notice_text(minutes: int) -> str:
    """A minimum notice in words, in the page's language: "2 hours", "90 minutes"."""
    unit = "hour" if minutes % 60 == 0 and minutes < 48 * 60 else \
        "day" if minutes % (24 * 60) == 0 else "minute"
    return format_timedelta(timedelta(minutes=minutes), granularity=unit, threshold=10 ** 6,
                            locale=current_language())

