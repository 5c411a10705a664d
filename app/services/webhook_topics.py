"""The topics integrators may subscribe to: the public face of the outbox.

Only events a provider's own systems care about are public (bookings, payments, refunds,
receipts, the waiting list); account and internal topics (``account.*``, ``offering.changed``,
``slot.capacity_raised``, ``payment.flagged``) never leave the platform. ``webhook.test``
is sent only by "send a test event".
"""
from __future__ import annotations

TEST_TOPIC = "webhook.test"

BOOKING_TOPICS = (
    "booking.created", "booking.confirmed", "booking.cancelled", "booking.rescheduled",
    "booking.expired", "booking.completed", "booking.no_show", "booking.refunded",
)
PAYMENT_TOPICS = (
    "payment.succeeded", "payment.declined", "payment.failed", "payment.refunded",
    "payment.refund_failed", "payment.disputed",
)
RECEIPT_TOPICS = ("receipt.generated",)
WAITLIST_TOPICS = ("waitlist.joined", "waitlist.offered", "waitlist.expired")

# Outbox topics fanned out to endpoints, in the order the documentation lists them.
EVENT_TOPICS = BOOKING_TOPICS + PAYMENT_TOPICS + RECEIPT_TOPICS + WAITLIST_TOPICS
# What an endpoint may subscribe to.
PUBLIC_TOPICS = EVENT_TOPICS + (TEST_TOPIC,)


def unknown_topics(topics) -> list[str]:
    """The names among ``topics`` that are not public topics (in the order given)."""
    return [topic for topic in topics if topic not in PUBLIC_TOPICS]
