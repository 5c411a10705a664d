"""The transactional outbox: events are rows written with the change they announce.

``publish(topic, payload)`` adds an ``OutboxEvent`` to the caller's open transaction, so the
event exists exactly when the change does. After the commit, ``dispatch`` hands the events
to RQ (queue ``events``), or delivers them right away without Redis. A periodic ``sweep``
re-dispatches events that a crash between commit and dispatch left behind.

Which handlers react to which topic is the table in ``app.services.event_handlers``,
installed here at start-up. Delivery runs each handler in its own transaction together
with a ``ConsumedEvent`` row keyed by (handler name, event): a handler handles an event
once, however often the event is delivered.

The webhook fan-out is no handler: it reads the outbox itself. An event it may want is
marked ``webhooks_pending`` in its own row, and after the commit the fan-out is woken
(``install_webhooks``); the request pays for no job per event.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import jobqueue, metrics, tracing
from app.extensions import db
from app.models.events import DONE, FAILED, QUEUED, RETRYING, ConsumedEvent, OutboxEvent
from app.models.types import utcnow
from app.services import transactions

log = logging.getLogger(__name__)

DELIVER_JOB = "events.deliver"
DELIVERY_INTERVALS = [5, 30, 120, 600, 1800]  # seconds before each retry of a delivery
SWEEP_AFTER = timedelta(minutes=1)       # never dispatched: a crash after commit
STUCK_AFTER = timedelta(minutes=15)      # dispatched but never finished: a lost job
_PENDING_KEY = "outbox_pending"
_COMMITTED_KEY = "outbox_published"  # (topic, payload) of each, counted once committed

# topic → handler names, and name → handler: installed from the handler table
# (``app.services.event_handlers.register``). A name is the handler's import path, the
# key its ``ConsumedEvent`` rows are stored under: keep it when moving a handler.
CONSUMERS: dict[str, list[str]] = {}
_HANDLERS: dict[str, Callable] = {}
_WAKE_WEBHOOKS_KEY = "outbox_wakes_webhooks"


class _Webhooks(NamedTuple):
    wants: Callable[[str, dict], bool]  # (topic, payload): mark the event for the fan-out
    wake: Callable[[], None]            # after a commit that marked one


_webhooks: _Webhooks | None = None


class Handover(NamedTuple):
    """What a commit leaves to hand on: the events someone listens to, whether one was
    marked for the webhook fan-out, and every event's (topic, payload), for the metrics."""
    event_ids: list[str]
    wakes_webhooks: bool = False
    published: Sequence[tuple[str, dict]] = ()

    def __bool__(self) -> bool:
        return bool(self.event_ids) or self.wakes_webhooks or bool(self.published)


def handler_name(handler: Callable) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def install(table: Mapping[str, tuple[Callable, ...]]) -> None:
    """Deliver each topic's events to exactly these handlers from now on."""
    CONSUMERS.clear()
    _HANDLERS.clear()
    for topic, handlers in table.items():
        CONSUMERS[topic] = []
        for handler in handlers:
            subscribe(topic, handler)


def subscribe(topic: str, handler: Callable) -> None:
    name = handler_name(handler)
    _HANDLERS[name] = handler
    names = CONSUMERS.setdefault(topic, [])
    if name not in names:
        names.append(name)


def acts_only_when(predicate: Callable[[str, dict], bool]) -> Callable:
    """Mark a handler as acting only on events for which ``predicate(topic, payload)`` is
    true (the handler itself still decides from what it reads): an event none of whose
    handlers would act is stored as done, with no job and no worker time. The predicate
    must be true for every event the handler would act on."""
    def mark(handler: Callable) -> Callable:
        handler.acts_on = predicate
        return handler
    return mark


def _anyone_acts(topic: str, payload: dict) -> bool:
    for name in CONSUMERS.get(topic, []):
        acts_on = getattr(_HANDLERS.get(name), "acts_on", None)
        if acts_on is None or acts_on(topic, payload):
            return True
    return False


def install_webhooks(wants: Callable[[str, dict], bool] | None,
                     wake: Callable[[], None] | None = None) -> None:
    """From now on mark the events ``wants(topic, payload)`` says the webhook fan-out may
    want, and call ``wake()`` after each commit that marked one (None: mark nothing)."""
    global _webhooks
    _webhooks = _Webhooks(wants, wake) if wants is not None else None


def unsubscribe(topic: str, handler: Callable) -> None:
    name = handler_name(handler)
    if name in CONSUMERS.get(topic, []):
        CONSUMERS[topic].remove(name)


def publish(topic: str, payload: dict, *, provider_id: int | None = None) -> str:
    """Add an event to the session's open transaction; it is dispatched after ``commit``."""
    row = outbox_row(topic, payload, provider_id=provider_id)
    # A Core insert: part of the open transaction at once, with no ORM flush to pay for.
    db.session.execute(OutboxEvent.__table__.insert().values(**row))
    handover = to_dispatch([row])
    info = db.session.info
    info.setdefault(_PENDING_KEY, []).extend(handover.event_ids)
    info.setdefault(_COMMITTED_KEY, []).append((topic, payload))
    if handover.wakes_webhooks:
        db.session.info[_WAKE_WEBHOOKS_KEY] = True
    return row["id"]


def outbox_row(topic: str, payload: dict, *, provider_id: int | None = None) -> dict:
    """The values of the row ``publish`` inserts, for a caller that inserts it itself (the
    booking hot path, within its own statement and transaction) and, once committed,
    passes ``to_dispatch`` of its rows to ``hand_over``."""
    event_id, now = str(uuid.uuid4()), utcnow()
    for_webhooks = _webhooks is not None and _webhooks.wants(topic, payload)
    # Kept on every event (a replay of one nobody listened to joins its trace too); the
    # events of one booking share it (``booking_statement`` binds it once).
    trace_context = tracing.current_traceparent()
    if not _anyone_acts(topic, payload):
        # Stored all the same (the record of what happened, replayable once something
        # listens), but nobody to hand it to: no job, no worker time.
        return dict(id=event_id, topic=topic, payload=payload, provider_id=provider_id,
                    status=DONE, attempts=0, created_at=now, processed_at=now,
                    webhooks_pending=for_webhooks, trace_context=trace_context)
    return dict(id=event_id, topic=topic, payload=payload, provider_id=provider_id,
                status=QUEUED, attempts=0, created_at=now, processed_at=None,
                webhooks_pending=for_webhooks, trace_context=trace_context)


def to_dispatch(rows: list[dict]) -> Handover:
    """What to hand on once these outbox rows are committed (``hand_over``)."""
    return Handover([row["id"] for row in rows if row["status"] == QUEUED],
                    any(row["webhooks_pending"] for row in rows),
                    [(row["topic"], row["payload"]) for row in rows])


def commit_transaction() -> Handover:
    """Commit the open transaction; returns what its events leave to hand on, for the
    caller (the unit of work) to ``hand_over`` once everything after the commit is done."""
    handover = Handover(db.session.info.pop(_PENDING_KEY, []),
                        db.session.info.pop(_WAKE_WEBHOOKS_KEY, False),
                        db.session.info.pop(_COMMITTED_KEY, []))
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return handover


def commit() -> None:
    """Commit the open transaction, then hand on the events it published (for
    transactions not yet run by ``transactions.unit_of_work``)."""
    hand_over(commit_transaction())


def rollback() -> None:
    db.session.info.pop(_PENDING_KEY, None)
    db.session.info.pop(_WAKE_WEBHOOKS_KEY, None)
    db.session.info.pop(_COMMITTED_KEY, None)
    db.session.rollback()


def hand_over(handover: Handover) -> None:
    """After the commit: count the events (``app.metrics``), wake the webhook fan-out if
    an event was marked for it, and ``dispatch`` the events someone listens to. None
    may fail the caller: the marks and the queued rows stay, and the periodic work finds
    them."""
    try:
        metrics.events_committed(handover.published)
    except Exception:
        log.exception("counting committed events failed")
    if handover.wakes_webhooks and _webhooks is not None and _webhooks.wake is not None:
        try:
            _webhooks.wake()
        except Exception:
            log.exception("waking the webhook fan-out failed; its periodic run will")
    if handover.event_ids:
        dispatch(handover.event_ids)


def dispatch(event_ids: list[str]) -> None:
    """Hand committed events to the workers, or deliver them here without Redis.

    A failure here loses nothing: the events stay ``queued`` and the sweep finds them.
    """
    if current_app.config.get("REDIS_URL"):
        # No write-back here (the hot path stays one commit): an event stays ``queued``
        # until delivered, and the sweep re-dispatches one that is late.
        try:
            for event_id in event_ids:
                jobqueue.enqueue(DELIVER_JOB, event_id, job_id=f"event-{event_id}")
        except Exception:
            log.exception("dispatching events %s failed; the sweep will retry", event_ids)
        return
    for event_id in event_ids:
        try:
            deliver(event_id)
        except Exception:
            log.exception("delivering event %s inline failed; replay it from the console",
                          event_id)


def deliver(event_id: str, *, final_attempt: bool = True) -> str:
    """Run every consumer of the event once; returns the event's status afterwards."""
    event = db.session.get(OutboxEvent, event_id)
    if event is None:
        return "missing"
    topic, payload, trace_context = event.topic, dict(event.payload), event.trace_context
    db.session.rollback()  # no transaction stays open across the consumers
    errors = []
    # The child of the span that published the event: the request that caused it.
    with tracing.span(f"event {topic}", parent=trace_context,
                      attributes={"bookwell.event.id": event_id, "bookwell.event.topic": topic}):
        for path in CONSUMERS.get(topic, []):
            try:
                with tracing.span(f"consumer {path}"):
                    _run_consumer(path, event_id, topic, payload)
            except Exception as exc:  # recorded on the event; the job retries the event
                log.exception("consumer %s failed on event %s", path, event_id)
                errors.append(f"{path}: {type(exc).__name__}: {exc}")
    status = DONE if not errors else (FAILED if final_attempt else RETRYING)
    with transactions.unit_of_work():
        db.session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(
            status=status, attempts=OutboxEvent.attempts + 1,
            last_error="\n".join(errors)[:4000] or None,
            processed_at=utcnow() if not errors else None))
    if errors:
        raise ConsumerFailed("; ".join(errors))
    return status


class ConsumerFailed(RuntimeError):
    """At least one consumer raised; the others have done their part."""


def _run_consumer(path: str, event_id: str, topic: str, payload: dict) -> None:
    """The consumer's claim on the event and its work: one unit of work, so the claim
    exists exactly when the work was done. A second delivery finds the claim and skips."""
    handler = _HANDLERS[path]
    with transactions.unit_of_work():
        if not _claim(path, event_id):
            return  # this consumer has handled this event before
        handler(event_id=event_id, topic=topic, payload=payload)


def _claim(consumer: str, event_id: str) -> bool:
    table = ConsumedEvent.__table__
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # A concurrent delivery's claim makes this one wait, then do nothing.
    claimed = db.session.execute(insert(table).values(consumer=consumer, event_id=event_id)
                                 .on_conflict_do_nothing(index_elements=["consumer",
                                                                         "event_id"])
                                 .returning(table.c.id))
    return claimed.first() is not None


def sweep(now=None) -> int:
    """Re-dispatch events a crash left behind: still ``queued`` a minute after the commit
    (never handed over), or 15 minutes after the sweep last handed them over (lost).

    A re-dispatched event that was merely slow is delivered twice; consumers skip it.
    """
    now = now or utcnow()
    with transactions.unit_of_work():
        ids = list(db.session.scalars(
            select(OutboxEvent.id).where(
                OutboxEvent.status == QUEUED,
                ((OutboxEvent.dispatched_at.is_(None))
                 & (OutboxEvent.created_at < now - SWEEP_AFTER))
                | (OutboxEvent.dispatched_at < now - STUCK_AFTER))
            .order_by(OutboxEvent.created_at).limit(1000)))
        if ids:
            db.session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(
                dispatched_at=now))
            transactions.after_commit(dispatch, ids)
    return len(ids)


def topic_and_status(event_id: str) -> tuple[str, str]:
    """An event's topic and status as they are now (after a replay, say)."""
    event = db.session.get(OutboxEvent, event_id, populate_existing=True)
    return (event.topic, event.status) if event is not None else ("?", "missing")


def replay(event_id: str) -> None:
    """Deliver an event again (console): consumers that already handled it skip it."""
    with transactions.unit_of_work():
        db.session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(
            status=QUEUED, last_error=None, dispatched_at=utcnow()))
        transactions.after_commit(dispatch, [event_id])


def redeliver_failed(*, topic: str | None = None, limit: int = 1000) -> int:
    """Deliver again the events whose handlers failed on every attempt (``failed``),
    oldest first, of one topic or all; handlers that already handled one skip it.
    Returns how many were handed over."""
    query = select(OutboxEvent.id).where(OutboxEvent.status == FAILED)
    if topic is not None:
        query = query.where(OutboxEvent.topic == topic)
    with transactions.unit_of_work():
        ids = list(db.session.scalars(query.order_by(OutboxEvent.created_at).limit(limit)))
        if ids:
            db.session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(
                status=QUEUED, last_error=None, dispatched_at=utcnow()))
            transactions.after_commit(dispatch, ids)
    return len(ids)
