"""Import paths of jobs queued by an older release; the bodies are in ``app.job_registry``."""
from app.job_registry import clear_request_details, send_conversion, sweep_pending

sweep_conversions = sweep_pending  # the one sweep covers conversions
__all__ = ["clear_request_details", "send_conversion", "sweep_conversions"]
