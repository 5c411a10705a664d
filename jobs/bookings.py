"""Import path of jobs queued by an older release; the body is in ``app.job_registry``."""
from app.job_registry import expire_holds

__all__ = ["expire_holds"]
