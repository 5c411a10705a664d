"""Notification jobs (the ``notifications`` queue): send one message, reminders, the sweep."""
from __future__ import annotations

from rq import get_current_job

from app.services import notifications
from jobs.context import with_app_context


class NotificationRetry(RuntimeError):
    """A transient failure (SMTP 4xx, a timeout, Twilio 5xx/429); raised so RQ retries."""


@with_app_context
def send_notification(notification_id: int) -> str:
    job = get_current_job()  # None inline: the sweep retries instead of RQ
    final_attempt = job is not None and not job.retries_left
    outcome = notifications.send_notification(notification_id, final_attempt=final_attempt)
    if outcome == notifications.RETRYING and job is not None:
        raise NotificationRetry(f"notification {notification_id}: will retry")
    return outcome


@with_app_context
def queue_reminders() -> int:
    return notifications.queue_reminders()


@with_app_context
def sweep_notifications() -> dict:
    return notifications.sweep()
