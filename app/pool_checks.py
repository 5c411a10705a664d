"""Pooled database connections are checked before use only when they may have gone stale.

SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip to the database
before each request's first statement, and before each later transaction's (a payment
start has three). A connection handed back to the pool moments ago is as alive as a ping
would say, so here only one that has sat in the pool for :data:`PING_AFTER_IDLE_SECONDS`
or more is pinged; one the server dropped meanwhile (a restart, an idle timeout) is
replaced before anything runs on it, as with ``pool_pre_ping``. A connection that dies
between two uses moments apart fails its statement either way, ping or not.

Public hooks only: the pool's ``checkin`` and ``checkout`` events, the dialect's
``do_ping``, and ``DisconnectionError``, which makes the pool connect afresh.
"""
from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

#: Seconds a connection may have been idle in the pool and still be used without a ping.
PING_AFTER_IDLE_SECONDS = 5.0

_RETURNED_AT = "bookwell_returned_at"  # in the connection's ``info``, cleared on reconnect


def init_app(engines) -> None:
    """Ping idle connections at checkout, on every engine (each bind's)."""
    for engine in engines.values():
        event.listen(engine, "checkin", _note_return)
        event.listen(engine, "checkout", _ping_if_idle(engine.dialect))


def _note_return(dbapi_connection, connection_record) -> None:
    connection_record.info[_RETURNED_AT] = time.monotonic()


def _ping_if_idle(dialect):
    def check(dbapi_connection, connection_record, connection_proxy) -> None:
        returned_at = connection_record.info.get(_RETURNED_AT)
        if returned_at is None:  # new: connected just now
            return
        if time.monotonic() - returned_at < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"an idle pooled connection is gone: {exc}") from exc
        if not alive:
            raise DisconnectionError("an idle pooled connection did not answer a ping")

    return check
