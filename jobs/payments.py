"""Import paths of jobs queued by an older release; the bodies are in ``app.job_registry``."""
from app.job_registry import (  # noqa: F401
    perform_refund,
    process_payment_event,
    reconcile_payments,
)
