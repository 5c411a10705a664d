"""What the console shows of webhook endpoints, beyond managing them
(``app.services.webhook_endpoints``): the public topics in groups with readable names, an
endpoint's state in words, and the latest delivery of each endpoint and the latest attempt
of each delivery, read in one query per page rather than one per row.

Reads only; every change goes through ``webhook_endpoints``. Callers pass ids they got
from that module's scoped reads, so nothing here widens what a scope sees.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Provider
from app.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.services.webhook_endpoints import ALL_TOPICS
from app.services.webhook_topics import (
    BOOKING_TOPICS,
    PAYMENT_TOPICS,
    RECEIPT_TOPICS,
    TEST_TOPIC,
    WAITLIST_TOPICS,
)

REFUND_TOPICS = ("payment.refunded", "payment.refund_failed")


@dataclass(frozen=True)
class TopicGroup:
    key: str
    label: str
    topics: tuple[str, ...]
    every: str  # the whole group in words: "All booking events"


# Refunds are payment events, but people look for them on their own.
TOPIC_GROUPS = (
    TopicGroup("bookings", "Bookings", BOOKING_TOPICS, "All booking events"),
    TopicGroup("payments", "Payments",
               tuple(t for t in PAYMENT_TOPICS if t not in REFUND_TOPICS),
               "All payment events"),
    TopicGroup("refunds", "Refunds", REFUND_TOPICS, "All refund events"),
    TopicGroup("receipts", "Receipts", RECEIPT_TOPICS, "Receipts"),
    TopicGroup("waitlist", "Waiting list", WAITLIST_TOPICS, "All waiting-list events"),
)

TOPIC_LABELS = {
    "booking.created": "Booking placed",
    "booking.confirmed": "Booking confirmed",
    "booking.cancelled": "Booking cancelled",
    "booking.rescheduled": "Booking moved to another time",
    "booking.expired": "Booking expired (not paid in time)",
    "booking.completed": "Booking completed",
    "booking.no_show": "Customer did not come",
    "booking.refunded": "Booking refunded",
    "payment.succeeded": "Payment succeeded",
    "payment.declined": "Payment declined",
    "payment.failed": "Payment failed",
    "payment.disputed": "Payment disputed",
    "payment.refunded": "Refund made",
    "payment.refund_failed": "Refund failed",
    "receipt.generated": "Receipt or credit note issued",
    "waitlist.joined": "Joined a waiting list",
    "waitlist.offered": "Place offered from the waiting list",
    "waitlist.expired": "Waiting-list offer expired",
    TEST_TOPIC: "Test event",
}

SUMMARY_NAMES = 2  # groups or topics named in a summary before "(n more)"


def topic_label(topic: str) -> str:
    """``booking.no_show`` → "Customer did not come"; an unknown topic as it is."""
    return TOPIC_LABELS.get(topic, topic)


def grouped_topics() -> list[TopicGroup]:
    """Every subscribable topic, in groups, in the documentation's order."""
    return list(TOPIC_GROUPS)


def topics_summary(topics) -> str:
    """The topics in a few words: "All events", "All booking events, payments (3 more)".

    A whole group reads "All booking events"; single topics read by their label."""
    topics = list(topics or [])
    if ALL_TOPICS in topics:
        return "All events, those added later too"
    if not topics:
        return "No events"
    parts = []
    chosen = set(topics)
    for group in TOPIC_GROUPS:
        if set(group.topics) <= chosen:
            parts.append(group.every)
            chosen -= set(group.topics)
    parts += [topic_label(t) for t in topics if t in chosen]
    shown = parts[:SUMMARY_NAMES]
    text = ", ".join(shown[:1] + [p[:1].lower() + p[1:] for p in shown[1:]])
    if len(parts) > SUMMARY_NAMES:
        text += f" ({len(parts) - SUMMARY_NAMES} more)"
    return text


# --- state -------------------------------------------------------------------------------------

ACTIVE, DISABLED, FAILING = "active", "disabled", "failing"


@dataclass(frozen=True)
class EndpointState:
    """``status`` (active, failing, disabled) and, when it matters, why and since when."""

    status: str
    since: datetime | None = None
    reason: str = ""
    failures: int = 0


def state_of(endpoint: WebhookEndpoint) -> EndpointState:
    if not endpoint.active:
        return EndpointState(DISABLED, endpoint.disabled_at,
                             endpoint.disabled_reason or "Disabled.")
    if endpoint.failing_since is not None or endpoint.consecutive_failures:
        return EndpointState(FAILING, endpoint.failing_since,
                             failures=endpoint.consecutive_failures)
    return EndpointState(ACTIVE)


# --- the latest of each --------------------------------------------------------------------------

def latest_deliveries(endpoint_ids) -> dict[int, WebhookDelivery]:
    """The newest delivery of each endpoint that has one (test events included)."""
    ids = list(endpoint_ids)
    if not ids:
        return {}
    newest = (select(func.max(WebhookDelivery.id))
              .where(WebhookDelivery.endpoint_id.in_(ids))
              .group_by(WebhookDelivery.endpoint_id))
    rows = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(newest)))
    return {row.endpoint_id: row for row in rows}


def latest_attempts(delivery_ids) -> dict[int, WebhookAttempt]:
    """The newest attempt of each delivery that was attempted."""
    ids = list(delivery_ids)
    if not ids:
        return {}
    newest = (select(func.max(WebhookAttempt.id))
              .where(WebhookAttempt.delivery_id.in_(ids))
              .group_by(WebhookAttempt.delivery_id))
    rows = db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.id.in_(newest)))
    return {row.delivery_id: row for row in rows}


__all__ = ["ACTIVE", "DISABLED", "FAILING", "EndpointState", "REFUND_TOPICS", "TOPIC_GROUPS",
           "TOPIC_LABELS", "TopicGroup", "grouped_topics", "latest_attempts",
           "latest_deliveries", "state_of", "topic_label", "topics_summary"]


def provider_names() -> list[tuple[int, str]]:
    """Every provider's id and name, by name: whose events an admin's new endpoint hears
    (admins only; the console asks for it with an all-providers scope)."""
    return list(db.session.execute(select(Provider.id, Provider.name).order_by(Provider.name)))
