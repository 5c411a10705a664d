"""Import path of jobs queued by an older release; the body is in ``app.job_registry``."""
from app.job_registry import geocode_location

__all__ = ["geocode_location"]
