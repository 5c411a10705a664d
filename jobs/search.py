"""Search index jobs."""
from __future__ import annotations

from app.services import search_indexing
from jobs.context import with_app_context


@with_app_context
def index_offerings(offering_ids: list[int]) -> None:
    """Upsert these offerings in the search index, or remove those no longer indexable
    (inactive, of an inactive provider, deleted). Errors raise so RQ records them."""
    search_indexing.sync_offerings(offering_ids)
