"""Which service reacts to which event: every subscription, in one place."""
from __future__ import annotations

from app import events

SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    # A customer's free cancellation refunds the payment automatically.
    "booking.cancelled": ("app.services.refunds.refund_on_free_cancellation",),
}


def register() -> None:
    for topic, paths in SUBSCRIPTIONS.items():
        for path in paths:
            events.subscribe(topic, path)
