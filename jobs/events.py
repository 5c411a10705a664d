"""Import paths of jobs queued by an older release; the bodies are in ``app.job_registry``."""
from app.job_registry import deliver_event, sweep_pending

sweep_outbox = sweep_pending  # the one sweep covers the outbox
__all__ = ["deliver_event", "sweep_outbox"]
