"""Every background job by a stable name, and the one table of periodic work.

Services hand work over by name (``jobqueue.enqueue("notifications.send", 42)``), never by
import path: a job's body may move without breaking a caller. Each body is thin: it
takes primitive ids, runs inside the app context and calls one service; failures raise
so that RQ records and retries them (the retry policy is the job's, below).

``PERIODIC`` is used by both the RQ scheduler (``jobs/scheduler.py``) and embedded mode's
housekeeping (``app/services/housekeeping.py``), so the two run the same work.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, has_app_context
from rq import get_current_job

from app import events
from app.models.payments import REFUND_RETRYING
from app.services import (
    accounts,
    api_keys,
    attribution_privacy,
    availability,
    bookings,
    conversions,
    daily_figures,
    geocoding,
    idempotency,
    notifications,
    outside_calendars,
    payment_reconciliation,
    payment_webhooks,
    receipts,
    refunds,
    resource_hours,
    social_sign_in,
    sweeps,
    webhook_delivery,
    webhook_fanout,
)
from app.services.scopes import Scope


def with_app_context(func):
    """Run in the worker's app context (built once), the caller's (inline), or a new one
    (a plain ``rq worker``)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        from app import create_app

        with create_app().app_context():
            return func(*args, **kwargs)

    return wrapper


def _final_attempt() -> bool:
    job = get_current_job()  # None inline: one attempt, and it is the last
    return job is None or not job.retries_left


class RetryLater(RuntimeError):
    """A transient failure the service recorded; raised so that RQ retries the job."""


# --- the bodies ----------------------------------------------------------------------------

@with_app_context
def deliver_event(event_id: str) -> str:
    return events.deliver(event_id, final_attempt=_final_attempt())


@with_app_context
def sweep_pending() -> dict:
    return sweeps.sweep_pending()


@with_app_context
def expire_holds() -> int:
    return bookings.expire_holds(scope=Scope.all_providers())


@with_app_context
def generate_all_slots() -> int:
    days = current_app.config["SLOT_DAYS_AHEAD"]
    report = availability.generate_slots(scope=Scope.all_providers(), days=days)
    resource_hours.lay_out_all_shifts(days)  # staff hours move on with the slots
    return report.created


@with_app_context
def process_payment_event(row_id: int) -> str:
    return payment_webhooks.process(row_id, final_attempt=_final_attempt())


@with_app_context
def perform_refund(refund_id: int) -> str:
    refund = refunds.perform_refund(refund_id, final_attempt=_final_attempt())
    if refund is not None and refund.status == REFUND_RETRYING:
        raise RetryLater(f"refund {refund_id}: {refund.last_error}")
    return refund.status if refund is not None else "missing"


@with_app_context
def render_receipt(receipt_id: int) -> bool:
    return receipts.render(receipt_id)


@with_app_context
def reconcile_payments() -> dict:
    return payment_reconciliation.reconcile()


@with_app_context
def send_notification(notification_id: int) -> str:
    job = get_current_job()  # None inline: the sweep retries instead of RQ
    final_attempt = job is not None and not job.retries_left
    outcome = notifications.send_notification(notification_id, final_attempt=final_attempt)
    if outcome == notifications.RETRYING and job is not None:
        raise RetryLater(f"notification {notification_id}: will retry")
    return outcome


@with_app_context
def queue_reminders() -> int:
    return notifications.queue_reminders()


@with_app_context
def send_conversion(row_id: int) -> str:
    return conversions.send(row_id, final_attempt=_final_attempt())


@with_app_context
def clear_request_details() -> int:
    return attribution_privacy.clear_expired_request_details()


@with_app_context
def geocode_location(location_id: int) -> str:
    outcome = geocoding.geocode_location(location_id, final_attempt=_final_attempt())
    if outcome.retry_later:
        raise RetryLater(f"location {location_id}: {outcome.message}")
    return outcome.status


@with_app_context
def purge_revoked_tokens() -> int:
    """Expired token revocations, and expired one-time sign-in handoffs."""
    return accounts.purge_expired_revocations() + social_sign_in.purge_expired_handoffs()


@with_app_context
def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()


@with_app_context
def purge_api_key_calls() -> int:
    """Calls made with API keys older than API_KEY_CALL_RETENTION_DAYS."""
    return api_keys.purge_old_calls()


@with_app_context
def fold_daily_figures() -> int:
    return daily_figures.fold_deltas()


@with_app_context
def fetch_outside_calendar(calendar_id: int) -> str:
    """Failures are stored on the calendar (it is fetched again when due), not retried."""
    return outside_calendars.refresh(calendar_id)


@with_app_context
def fetch_due_outside_calendars() -> int:
    return outside_calendars.refresh_due()


@with_app_context
def deliver_webhook(delivery_id: int) -> str:
    # No RQ retries: a failed attempt sets the delivery's next due time, and
    # ``webhooks.hand_over_due`` queues it again then.
    return webhook_delivery.deliver(delivery_id, lane=webhook_delivery.QUICK)


@with_app_context
def deliver_webhook_slowly(delivery_id: int) -> str:
    return webhook_delivery.deliver(delivery_id, lane=webhook_delivery.SLOW)


@with_app_context
def fan_out_webhooks() -> int:
    return webhook_fanout.fan_out_marked()


@with_app_context
def hand_over_due_webhooks() -> int:
    # The fan-out too: its wake-up after a commit may have been lost (Redis down).
    return (webhook_fanout.fan_out_marked() + webhook_fanout.catch_up()
            + webhook_delivery.hand_over_due())


@with_app_context
def purge_webhook_log() -> int:
    return webhook_delivery.purge_log()


# --- the registry --------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    name: str
    func: Callable
    queue: str = "default"
    retry_intervals: tuple[int, ...] = ()  # seconds before each retry; none: one attempt


JOBS: dict[str, Job] = {job.name: job for job in (
    Job("events.deliver", deliver_event, "events", tuple(events.DELIVERY_INTERVALS)),
    Job("sweeps.sweep_pending", sweep_pending, "default"),
    Job("bookings.expire_holds", expire_holds, "default"),
    Job("availability.generate_slots", generate_all_slots, "default"),
    Job("payments.process_event", process_payment_event, "payments",
        tuple(payment_webhooks.PROCESS_RETRY_INTERVALS)),
    Job("payments.perform_refund", perform_refund, "payments",
        tuple(refunds.RETRY_INTERVALS)),
    Job("payments.reconcile", reconcile_payments, "payments"),
    Job("receipts.render", render_receipt, "payments"),
    Job("notifications.send", send_notification, "notifications",
        tuple(notifications.BACKOFF[:notifications.MAX_ATTEMPTS - 1])),
    Job("notifications.queue_reminders", queue_reminders, "notifications"),
    Job("conversions.send", send_conversion, "integrations",
        tuple(conversions.RETRY_INTERVALS)),
    Job("attribution.clear_request_details", clear_request_details, "default"),
    Job("geocoding.geocode_location", geocode_location, "default",
        tuple(geocoding.RETRY_INTERVALS)),
    Job("maintenance.purge_revoked_tokens", purge_revoked_tokens, "default"),
    Job("maintenance.purge_idempotency_keys", purge_idempotency_keys, "default"),
    Job("maintenance.fold_daily_figures", fold_daily_figures, "default"),
    Job("maintenance.purge_api_key_calls", purge_api_key_calls, "default"),
    Job(outside_calendars.JOB, fetch_outside_calendar, "integrations"),
    Job("outside_calendars.fetch_due", fetch_due_outside_calendars, "default"),
    Job(webhook_fanout.FAN_OUT_JOB, fan_out_webhooks, "events"),
    Job(webhook_delivery.DELIVER_JOB, deliver_webhook, "webhooks"),
    Job(webhook_delivery.DELIVER_SLOW_JOB, deliver_webhook_slowly, "webhooks_slow"),
    Job("webhooks.hand_over_due", hand_over_due_webhooks, "default"),
    Job("webhooks.purge_log", purge_webhook_log, "default"),
)}


# RQ's name of a job's function (module.qualname) → the job's stable name.
_NAMES_BY_FUNCTION = {f"{entry.func.__module__}.{entry.func.__qualname__}": entry.name
                      for entry in JOBS.values()}


def name_of(func_name: str) -> str:
    """The stable name of the job whose function RQ calls ``func_name``; itself if none."""
    return _NAMES_BY_FUNCTION.get(func_name, func_name)


def job(name: str) -> Job:
    try:
        return JOBS[name]
    except KeyError:
        raise LookupError(f"no job named {name!r}; known: {', '.join(sorted(JOBS))}") from None


# --- periodic work -------------------------------------------------------------------------

@dataclass(frozen=True)
class Periodic:
    key: str                     # the schedule entry's name (RQ cron job name)
    job: str                     # a name in JOBS
    interval: int | None = None  # seconds
    cron: str | None = None      # in the scheduler host's local time (RQ's rule); daily

    @property
    def every_seconds(self) -> int:
        """How often it runs; embedded mode runs a cron entry once a day."""
        return self.interval or 24 * 3600


PERIODIC: tuple[Periodic, ...] = (
    Periodic("expire-holds", "bookings.expire_holds", interval=60),
    # Every kind of pending work a crash or an outage left: outbox, messages, conversions,
    # payment inbox, refunds, receipts, search indexing (see app/services/sweeps.py).
    Periodic("sweep-pending", "sweeps.sweep_pending", interval=60),
    Periodic("reconcile-payments", "payments.reconcile", interval=120),
    Periodic("notification-reminders", "notifications.queue_reminders", interval=600),
    Periodic("clear-attribution-request-details", "attribution.clear_request_details",
             cron="45 4 * * *"),
    Periodic("generate-slots", "availability.generate_slots", cron="15 3 * * *"),
    Periodic("purge-revoked-tokens", "maintenance.purge_revoked_tokens", cron="0 4 * * *"),
    Periodic("purge-idempotency-keys", "maintenance.purge_idempotency_keys",
             cron="30 4 * * *"),
    Periodic("purge-api-key-calls", "maintenance.purge_api_key_calls", cron="40 4 * * *"),
    # Keeps the platform-wide figures' reads short; they are exact without it.
    Periodic("fold-daily-figures", "maintenance.fold_daily_figures", interval=60),
    # Hands each outside calendar whose time has come (OUTSIDE_CALENDAR_REFRESH_MINUTES)
    # to outside_calendars.fetch.
    Periodic("fetch-outside-calendars", "outside_calendars.fetch_due", interval=60),
    # Webhook deliveries whose (next) attempt is due: retries are driven by due times.
    Periodic("deliver-due-webhooks", "webhooks.hand_over_due", interval=15),
    # Finished webhook deliveries and their attempts older than WEBHOOK_LOG_DAYS.
    Periodic("purge-webhook-log", "webhooks.purge_log", cron="50 4 * * *"),
)
