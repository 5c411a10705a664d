"""Import paths of jobs queued by an older release; the bodies are in ``app.job_registry``."""
from app.job_registry import purge_idempotency_keys, purge_revoked_tokens

__all__ = ["purge_idempotency_keys", "purge_revoked_tokens"]
