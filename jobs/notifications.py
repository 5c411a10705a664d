"""Import paths of jobs queued by an older release; the bodies are in ``app.job_registry``."""
from app.job_registry import queue_reminders, send_notification, sweep_pending

sweep_notifications = sweep_pending  # the one sweep covers messages
__all__ = ["queue_reminders", "send_notification", "sweep_notifications"]
