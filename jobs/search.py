"""Import path of index jobs queued by an older release (the index now learns of changes
through the outbox's ``offering.changed``)."""
from app.job_registry import with_app_context
from app.services import search_indexing


@with_app_context
def index_offerings(offering_ids: list[int]) -> None:
    search_indexing.sync_offerings(offering_ids)
