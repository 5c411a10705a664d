"""Import paths of jobs queued by an older release; the bodies are in ``app.job_registry``."""
from app.job_registry import render_receipt, sweep_pending

sweep_receipts = sweep_pending  # the one sweep covers receipts without a PDF
__all__ = ["render_receipt", "sweep_receipts"]
