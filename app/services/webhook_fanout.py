"""Fan-out: an outbox event becomes one webhook delivery per endpoint that wants it.

The fan-out reads the outbox itself; it is no handler of the events. Publishing marks an
event ``webhooks_pending`` when :func:`wants` says so (a public topic whose provider, or
the platform, may have endpoints), in the event's own row: the request that made the
change pays for no job. After the commit :func:`wake` hands :func:`fan_out_marked` to
the ``events`` queue, at most twice per ``WEBHOOK_FAN_OUT_WAKE_SECONDS`` per process (at
once for a window's first marked event, once at its end for the rest); the periodic
hand-over (every 15 s) and the sweep run it too, should a wake-up be lost.

:func:`fan_out_marked` takes the marked rows oldest first (``SKIP LOCKED``: workers share
them), reads each provider's active endpoints and the platform's, builds the public
``data`` once (:mod:`app.services.webhook_payloads`), inserts one pending delivery per
subscribed endpoint (``ON CONFLICT DO NOTHING`` on (endpoint, event): a second run adds
nothing) and clears the mark, in one unit of work; after the commit each delivery is handed
to the ``webhooks`` queue.

Which providers have endpoints is a per-process note, read again at most every
``WEBHOOK_ENDPOINT_CACHE_SECONDS`` (and at once after this process changed an endpoint).
Another process may publish an event within those seconds of an endpoint's start while its
note still says "no endpoints", and leave it unmarked: :func:`catch_up` (every 15 s, and
in the pending-work sweep) fans out once more the events of an endpoint's first moments
(``listening_since``), so none is missed and none is sent twice (the same ``ON CONFLICT``).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import jobqueue
from app.extensions import db
from app.models.events import DONE, FAILED, QUEUED, RETRYING, OutboxEvent
from app.models.types import utcnow
from app.models.webhooks import WebhookDelivery, WebhookEndpoint
from app.services import webhook_delivery, webhook_payloads
from app.services.transactions import after_commit, unit_of_work
from app.services.webhook_topics import EVENT_TOPICS

FAN_OUT_JOB = "webhooks.fan_out"
FAN_OUT_BATCH = 200  # marked events per unit of work

# How long after the note's lifetime an endpoint's first events are looked at again: the
# publisher's clock, its transaction and the note's read may each lag a little.
CATCH_UP_MARGIN = timedelta(seconds=30)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _EndpointNote:
    read_at: float
    providers: frozenset[int]
    platform: bool


_note: _EndpointNote | None = None


def forget_endpoints() -> None:
    """Read which providers have endpoints again on the next event (after a change)."""
    global _note
    _note = None


def _note_seconds() -> float:
    return float(current_app.config.get("WEBHOOK_ENDPOINT_CACHE_SECONDS", 10))


def _current_note() -> _EndpointNote:
    global _note
    ttl = _note_seconds()
    now = time.monotonic()
    if _note is None or now - _note.read_at >= ttl:
        owners = _providers_with_endpoints()
        _note = _EndpointNote(now, frozenset(owner for owner in owners if owner is not None),
                              None in owners)
    return _note


def _providers_with_endpoints() -> set[int | None]:
    """Read on a connection of its own on PostgreSQL: the publisher may be in the middle of
    its own transaction (the booking statement), which this must not join or keep open."""
    query = select(WebhookEndpoint.provider_id).where(WebhookEndpoint.active.is_(True)).distinct()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            return set(connection.scalars(query))
    return set(db.session.scalars(query))


def wants(topic: str, payload: dict) -> bool:
    """Whether to mark an event for the fan-out: a public topic, and some endpoint may
    want it by the note (true for every event an endpoint wants, while the note is fresh)."""
    if topic not in EVENT_TOPICS:
        return False
    note = _current_note()
    if note.platform:
        return True
    provider_id = payload.get("provider_id")
    if provider_id is None:  # a payload that does not say: let the fan-out look
        return bool(note.providers)
    return provider_id in note.providers


class _WakeWindow:
    """When this process last handed the fan-out over, and whether a hand-over at the
    window's end is already queued."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ends_at = 0.0
        self.end_queued = False


_window = _WakeWindow()


def wake() -> None:
    """After a commit that marked events: make sure :func:`fan_out_marked` runs after it.

    The first marked commit of a window (``WEBHOOK_FAN_OUT_WAKE_SECONDS``) hands the job
    over at once; a later one in the same window has it handed over once more for the
    window's end, which every commit made within the window precedes. So a burst of
    bookings costs this process two hand-overs a window, not one job per event."""
    seconds = float(current_app.config.get("WEBHOOK_FAN_OUT_WAKE_SECONDS", 1))
    if not current_app.config.get("REDIS_URL") or seconds <= 0:
        jobqueue.enqueue(FAN_OUT_JOB)  # inline without Redis
        return
    now = time.monotonic()
    with _window.lock:
        if now >= _window.ends_at:
            _window.ends_at, _window.end_queued, delay = now + seconds, False, 0.0
        elif not _window.end_queued:
            _window.end_queued, delay = True, _window.ends_at - now
        else:
            return
    if delay:
        jobqueue.enqueue_in(timedelta(seconds=delay), FAN_OUT_JOB)
    else:
        jobqueue.enqueue(FAN_OUT_JOB)


def fan_out_marked(*, batch: int = FAN_OUT_BATCH) -> int:
    """Fan out every event marked ``webhooks_pending``, oldest first, a batch per unit of
    work, and clear the marks; returns how many deliveries were added."""
    added = 0
    while True:
        with unit_of_work():
            marked = db.session.scalars(
                select(OutboxEvent).where(OutboxEvent.webhooks_pending.is_(True))
                .order_by(OutboxEvent.created_at).limit(batch)
                .with_for_update(skip_locked=True)).all()
            if not marked:
                return added
            endpoints_of: dict[int | None, list[WebhookEndpoint]] = {}
            for event in marked:
                if event.topic not in EVENT_TOPICS:  # marked before an upgrade: not public
                    continue
                provider_id = event.payload.get("provider_id") or event.provider_id
                if provider_id not in endpoints_of:
                    endpoints_of[provider_id] = _active_endpoints(provider_id)
                added += _add_deliveries(event.id, event.topic, event.payload, provider_id,
                                         event.created_at, endpoints_of[provider_id])
            db.session.execute(update(OutboxEvent)
                               .where(OutboxEvent.id.in_([event.id for event in marked]))
                               .values(webhooks_pending=False))
        if len(marked) < batch:
            return added


def _active_endpoints(provider_id: int | None) -> list[WebhookEndpoint]:
    """The provider's active endpoints and the platform's."""
    owners = WebhookEndpoint.provider_id.is_(None)
    if provider_id is not None:
        owners = or_(owners, WebhookEndpoint.provider_id == provider_id)
    return list(db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True), owners)
        .order_by(WebhookEndpoint.id)))


def catch_up(*, now: datetime | None = None) -> int:
    """Fan out once more, to each endpoint that started listening a moment ago, the events
    published since: those a process stored as done while its note still said their
    provider had no endpoints. Returns how many deliveries it added (usually none)."""
    now = now or utcnow()
    window = timedelta(seconds=_note_seconds()) + CATCH_UP_MARGIN
    added = 0
    with unit_of_work():
        starters = db.session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.active.is_(True),
            WebhookEndpoint.listening_since >= now - 2 * window)).all()
        for endpoint in starters:
            since = endpoint.listening_since - CATCH_UP_MARGIN
            missed = select(OutboxEvent).where(
                # every status, so that the (status, created_at) index serves the range
                OutboxEvent.status.in_((QUEUED, RETRYING, DONE, FAILED)),
                OutboxEvent.created_at >= since,
                OutboxEvent.created_at <= endpoint.listening_since + window,
                ~select(WebhookDelivery.id).where(
                    WebhookDelivery.endpoint_id == endpoint.id,
                    WebhookDelivery.event_id == OutboxEvent.id).exists())
            if endpoint.provider_id is not None:
                missed = missed.where(OutboxEvent.provider_id == endpoint.provider_id)
            for event in db.session.scalars(missed.order_by(OutboxEvent.created_at)):
                if event.topic in EVENT_TOPICS:
                    added += _add_deliveries(event.id, event.topic, event.payload,
                                             event.provider_id, event.created_at, [endpoint])
    return added


def _add_deliveries(event_id: str, topic: str, payload: dict, provider_id: int | None,
                    occurred_at: datetime, endpoints: list[WebhookEndpoint]) -> int:
    """One pending delivery of the event per endpoint subscribed to its topic (none twice),
    each handed to the queue after the commit; returns how many were added."""
    endpoints = [endpoint for endpoint in endpoints if _subscribed(endpoint.topics, topic)]
    if not endpoints:
        return 0
    data = webhook_payloads.data_for(topic, payload)
    if data is None:
        log.info("event %s (%s): what it is about is gone; no webhook", event_id, topic)
        return 0
    now = utcnow()
    rows = [webhook_delivery.delivery_values(
        endpoint.id, topic=topic, event_id=event_id, occurred_at=occurred_at, data=data,
        provider_id=provider_id, now=now) for endpoint in endpoints]
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    slow = {endpoint.id for endpoint in endpoints if webhook_delivery.is_slow(endpoint, now)}
    added = db.session.execute(
        insert(WebhookDelivery).values(rows)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        .returning(WebhookDelivery.id, WebhookDelivery.endpoint_id)).all()
    for delivery_id, endpoint_id in added:
        after_commit(webhook_delivery.hand_over, delivery_id, slow=endpoint_id in slow)
    return len(added)


def _subscribed(topics, topic: str) -> bool:
    return "*" in topics or topic in topics
