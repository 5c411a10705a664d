"""One business transaction, retried when PostgreSQL aborted it to break a lock cycle.

Lock order: a service that locks more than one of these rows takes them in this order, and
never the other way round, so two transactions cannot wait on each other in a cycle::

    payment event (webhook inbox row) → booking → payment → refund → receipt counter

A booking of an offering with per-customer limits first locks the customer's account row
(then takes its slot's places); nothing locks a slot and then an account.

A payment is locked through :func:`app.services.payments.lock_payment`, which takes its
booking first (receipts lock a payment or a refund alone, then their counter). Slots are
locked only by conditional updates, in id order.

Should PostgreSQL still abort a transaction as a deadlock victim, or for a serialization
failure, :func:`retrying` runs it again from the start (it rolled back whole, so nothing
of it was applied). When the attempts run out the caller gets a 409 ``<area>.busy``:
a clean "try again", never a 500.
"""
from __future__ import annotations

import logging
import random
import time
from contextlib import contextmanager
from functools import wraps
from typing import Callable, TypeVar

from psycopg import errors as pg_errors
from sqlalchemy.exc import IntegrityError, OperationalError

from app import events
from app.errors import Conflict
from app.extensions import db

log = logging.getLogger(__name__)

ATTEMPTS = 4
TRANSIENT = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
_BACKOFF_SECONDS = 0.02  # times the attempt number, jittered: the victims spread out

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction was rolled back; run it again."""
    return isinstance(exc, OperationalError) and isinstance(exc.orig, TRANSIENT)


@contextmanager
def transaction(*, lock_busy: tuple[str, str] | None = None):
    """Roll back, unpublished events included, when anything inside goes wrong (no retry:
    for work that calls outside services between its statements). With ``lock_busy``
    (code, message), a lock wait longer than PostgreSQL's ``lock_timeout`` is that 409; a
    deadlock or serialization failure passes through to :func:`retrying`."""
    try:
        yield
    except OperationalError as exc:
        events.rollback()
        if lock_busy and isinstance(exc.orig, pg_errors.LockNotAvailable):
            raise Conflict(*lock_busy) from exc
        raise
    except BaseException:
        events.rollback()
        raise


class NestedUnitOfWork(RuntimeError):
    """A unit of work was opened inside another one that does not allow it: the inner
    one's commit would have committed the outer one's half-done work."""


_OPEN_KEY = "unit_of_work_open"
_AFTER_COMMIT_KEY = "unit_of_work_after_commit"


@contextmanager
def unit_of_work(*, busy: tuple[str, str] | None = None, joins: bool = False):
    """One business transaction on the session: commit when the block ends normally,
    then hand the events it published to the dispatcher and run the work registered with
    :func:`after_commit`; roll back (unpublished events and after-commit work included)
    on anything raised.

    Units of work do not nest: opening one inside another raises
    :class:`NestedUnitOfWork`, so that work changing money or capacity is never
    committed half-way by a helper. A helper that is only ever a part of a larger change
    (an event handler's step, say) passes ``joins=True``: inside an open unit of work it
    becomes part of it (the outer one commits), alone it is its own.

    ``busy`` (code, message): a lock wait longer than PostgreSQL's ``lock_timeout`` is
    that 409. A deadlock or serialization failure passes through to :func:`retrying`.
    """
    session = db.session()
    if session.info.get(_OPEN_KEY):
        if not joins:
            raise NestedUnitOfWork("a unit of work is already open on this session")
        yield session
        return
    session.info[_OPEN_KEY] = True
    try:
        with transaction(lock_busy=busy):
            yield session
            committed_events = events.commit_transaction()
    finally:
        session.info.pop(_OPEN_KEY, None)
        follow_ups = session.info.pop(_AFTER_COMMIT_KEY, [])
    # Only reached once committed: nothing of a rolled-back transaction leaves the process.
    if committed_events:
        events.hand_over(committed_events)
    _run_follow_ups(follow_ups)


def after_commit(work: Callable[..., object], *args, **kwargs) -> None:
    """Run ``work(*args, **kwargs)`` once the open unit of work has committed (never if
    it rolls back): the place for enqueuing jobs and other calls to the outside.

    A failure there is logged, not raised: the change is committed, and whatever the
    work was for must be recoverable by a sweep."""
    session = db.session()
    if not session.info.get(_OPEN_KEY):
        raise RuntimeError("after_commit needs an open unit of work to follow")
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append((work, args, kwargs))


def _run_follow_ups(follow_ups) -> None:
    for work, args, kwargs in follow_ups:
        try:
            work(*args, **kwargs)
        except Exception:
            log.exception("after-commit work %s%r failed; its sweep will catch up",
                          getattr(work, "__qualname__", work), args)


def in_unit_of_work() -> bool:
    return bool(db.session().info.get(_OPEN_KEY))


def end_session() -> None:
    """Forget the session and whatever it holds (a worker between two jobs)."""
    db.session.remove()


def end_read() -> None:
    """End a read-only transaction (a view's query, say) so that the next read sees what
    others committed since, and no connection stays idle in a transaction. Never inside
    a unit of work: it would throw that work away."""
    if in_unit_of_work():
        raise NestedUnitOfWork("end_read inside a unit of work would discard its changes")
    events.rollback()


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint an insert or update broke: PostgreSQL reports it;
    SQLite does not (None), and callers there fall back on the column it names."""
    return getattr(getattr(exc.orig, "diag", None), "constraint_name", None)


def breaks_constraint(exc: BaseException, name: str, column: str | None = None) -> bool:
    """Whether ``exc`` is the violation of constraint ``name``: by the name PostgreSQL
    reports; on SQLite, which names no constraint, by ``column`` ("table.column") in
    its message (SQLite has no other way to tell)."""
    if not isinstance(exc, IntegrityError):
        return False
    found = violated_constraint(exc)
    if found is not None:
        return found == name
    return column is not None and column in str(exc.orig)


def retrying(work: Callable[..., T], *args, busy_code: str, attempts: int = ATTEMPTS,
             **kwargs) -> T:
    """Run ``work(*args, **kwargs)``, one transaction that commits itself (a unit of work).

    Anything raised rolls back the session, unpublished events included. A transient
    failure runs ``work`` again, up to ``attempts`` times in all, then raises
    ``Conflict(busy_code)``. ``work`` may run more than once: it must change nothing
    outside the database.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work(*args, **kwargs)
        except OperationalError as exc:
            events.rollback()
            if not is_transient(exc):
                raise
            if attempt == attempts:
                log.warning("%s: %s after %d attempts", busy_code, type(exc.orig).__name__,
                            attempts)
                raise Conflict(busy_code, "This is being changed by another request right "
                                          "now; please try again.") from exc
            log.info("%s: %s, attempt %d; running it again", busy_code,
                     type(exc.orig).__name__, attempt)
            time.sleep(random.uniform(0, _BACKOFF_SECONDS * attempt))
        except BaseException:
            events.rollback()
            raise
    raise AssertionError("unreachable")


def retried(busy_code: str):
    """Decorate a service function that is one transaction from start to commit: it runs
    through :func:`retrying`."""

    def decorate(work):
        @wraps(work)
        def run(*args, **kwargs):
            return retrying(work, *args, busy_code=busy_code, **kwargs)

        return run

    return decorate
