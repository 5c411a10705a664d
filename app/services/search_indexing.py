"""Keeping the search index in step with the catalog, through the outbox.

- ``announce_changed(ids)``: inside the transaction of a change to offerings (or to what
  they show: variants, locations, categories, the provider), publishes
  ``offering.changed``; it commits with the change or not at all.
- ``index_changed_offerings``: the ``offering.changed`` handler, listening only with
  OpenSearch configured (the database backend reads the tables themselves). A failure
  raises, so the outbox retries the event; ``sweep`` hands failed ones over again.
- ``reindex_all(progress=...)``: the full rebuild behind ``flask bookwell reindex``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from flask import current_app
from sqlalchemy import select

from app import events
from app.errors import DomainError
from app.extensions import db
from app.models import Offering
from app.services import event_payloads
from app.services.search import get_backend
from app.services.transactions import unit_of_work

log = logging.getLogger(__name__)

TOPIC = "offering.changed"
EVENT_BATCH = 500  # offering ids per event


def opensearch_configured() -> bool:
    return bool(current_app.config.get("OPENSEARCH_URL"))


def announce_changed(offering_ids: Iterable[int], *, provider_id: int) -> int:
    """In the open transaction: these offerings changed (created, edited, deactivated,
    deleted). Returns how many events were published."""
    ids = sorted({int(i) for i in offering_ids})
    for start in range(0, len(ids), EVENT_BATCH):
        batch = ids[start:start + EVENT_BATCH]
        events.publish(TOPIC, event_payloads.offerings_changed(batch),
                       provider_id=provider_id)
    return -(-len(ids) // EVENT_BATCH)


def provider_changed(provider_id: int) -> int:
    """A provider was (de)activated or renamed (its save already committed): all its
    offerings change in the index."""
    with unit_of_work():
        ids = list(db.session.scalars(
            select(Offering.id).where(Offering.provider_id == provider_id)))
        return announce_changed(ids, provider_id=provider_id)


def index_changed_offerings(*, event_id: str, topic: str, payload: dict) -> None:
    """``offering.changed`` handler: upsert the offerings in the index, or remove those no
    longer indexable (inactive, of an inactive provider, deleted)."""
    sync_offerings(payload["offering_ids"])


def sweep() -> int:
    """Index changes whose event failed on every attempt (OpenSearch was down for longer
    than the retries last): indexing is idempotent, so they are simply delivered again."""
    return events.redeliver_failed(topic=TOPIC)


def sync_offerings(offering_ids: list[int]) -> None:
    """Upsert or remove these offerings in the configured backend's index (the job)."""
    get_backend().index_offerings(offering_ids)


def reindex_all(progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the OpenSearch index from the database; returns the offerings indexed.

    ``progress(done, total)`` is called before the first batch and after each one.
    """
    if not opensearch_configured():
        raise DomainError("search.not_configured",
                          "Search runs on the database (OPENSEARCH_URL is not set); "
                          "there is no index to rebuild.")
    return get_backend().rebuild(progress=progress)


