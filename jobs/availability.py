"""Import path of jobs queued by an older release; the body is in ``app.job_registry``."""
from app.job_registry import generate_all_slots

__all__ = ["generate_all_slots"]
