"""Import paths of jobs queued by an older release; the bodies are in ``app.job_registry``."""
from app.job_registry import perform_refund, process_payment_event, reconcile_payments

__all__ = ["perform_refund", "process_payment_event", "reconcile_payments"]
