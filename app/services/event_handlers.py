"""Who reacts to which event: the one table of topic → handlers.

Every topic the code publishes is listed, those nobody handles with an empty tuple: their
events are stored (the record of what happened, replayable once something listens) but
never dispatched. A handler is ``handler(*, event_id, topic, payload)`` and runs in its
own transaction with the record that it handled the event (see ``app.events.deliver``).

Handlers that only listen with a setting on are added by ``register(config)``; start-up
(web, worker and CLI processes alike) installs the table through it, and with it the
webhook fan-out, which reads the outbox itself (``app.services.webhook_fanout``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from app import events
from app.services import (
    conversions,
    email_verification,
    notifications,
    password_reset,
    receipts,
    refunds,
    search_indexing,
    staff_notifications,
    waitlist,
    webhook_fanout,
)

Handler = Callable[..., None]

HANDLERS: Mapping[str, tuple[Handler, ...]] = {
    # Staff hear of a booking when it needs them (pay at the venue) or is real (paid).
    "booking.created": (staff_notifications.notify_staff_of_new_booking,),
    "booking.confirmed": (notifications.notify_booking_confirmed,
                          staff_notifications.notify_staff_of_new_booking,
                          waitlist.on_booking_confirmed),
    # Places that come back go to the waiting list of their time first.
    "booking.cancelled": (notifications.notify_booking_cancelled,
                          # a customer's free cancellation refunds the payment itself
                          refunds.refund_on_free_cancellation,
                          staff_notifications.notify_staff_of_cancellation,
                          waitlist.on_places_freed),
    "booking.rescheduled": (notifications.notify_booking_rescheduled,
                            staff_notifications.notify_staff_of_reschedule,
                            waitlist.on_places_freed),
    "booking.expired": (waitlist.on_places_freed,),
    "booking.completed": (),
    "booking.no_show": (),
    "booking.refunded": (),
    "payment.succeeded": (conversions.record_complete_payment,
                          receipts.receipt_on_payment),
    "payment.declined": (notifications.notify_payment_declined,),
    "payment.failed": (notifications.notify_payment_failed,),
    "payment.flagged": (),
    "payment.disputed": (),
    "payment.refunded": (notifications.notify_payment_refunded,
                         receipts.credit_note_on_refund),
    "payment.refund_failed": (),
    "receipt.generated": (notifications.notify_receipt,),
    "slot.capacity_raised": (waitlist.on_places_freed,),
    "waitlist.joined": (),
    "waitlist.offered": (notifications.notify_waitlist_offer,),
    "waitlist.expired": (),
    "offering.changed": (),  # search indexing, with OpenSearch: see ``conditional``
    "account.password_reset_requested": (password_reset.send_reset_link,),
    "account.email_verification_requested": (email_verification.send_link,),
}


def conditional(config: Mapping) -> dict[str, tuple[Handler, ...]]:
    """Handlers that only listen with a setting on, so that no event pays for a handler
    that would do nothing."""
    extra: dict[str, tuple[Handler, ...]] = {}
    if config.get("TIKTOK_SEND_PLACE_AN_ORDER"):
        extra["booking.created"] = (conversions.record_place_an_order,)
    if config.get("OPENSEARCH_URL"):
        # The database backend reads the tables themselves: it has no index to keep.
        extra["offering.changed"] = (search_indexing.index_changed_offerings,)
    return extra


def table(config: Mapping) -> dict[str, tuple[Handler, ...]]:
    """The handlers of every topic with these settings."""
    merged = dict(HANDLERS)
    for topic, handlers in conditional(config).items():
        merged[topic] = merged.get(topic, ()) + handlers
    return merged


def register(config: Mapping) -> None:
    """Install the table for these settings as the outbox's delivery table."""
    events.install(table(config))
    # Every public topic also goes out as webhooks: marked for the fan-out only when some
    # endpoint may want it, so without endpoints an event costs nothing more.
    events.install_webhooks(webhook_fanout.wants, webhook_fanout.wake)
