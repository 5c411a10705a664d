"""Pooled connections are pinged at checkout only after sitting idle (app/pool_checks.py),
and one the database dropped while idle is replaced before a request uses it."""
import pytest
from sqlalchemy import text

from app import pool_checks
from app.extensions import AUTOCOMMIT_BIND, db


@pytest.fixture
def pings(app_ctx, monkeypatch):
    """Every ping of the default engine's dialect, counted (then done for real)."""
    dialect = db.engine.dialect
    counted = []
    real_ping = dialect.do_ping

    def counting_ping(dbapi_connection):
        counted.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting_ping)
    return counted


def _backend(engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return str(conn.scalar(text("SELECT pg_backend_pid()")))
        return str(conn.scalar(text("SELECT 1")))


def test_a_connection_back_moments_ago_is_used_without_a_ping(pings):
    _backend(db.engine)  # connected (or taken) and handed back
    for _ in range(5):
        _backend(db.engine)
    assert pings == []


def test_a_connection_idle_past_the_limit_is_pinged_once_before_use(pings, monkeypatch):
    _backend(db.engine)
    monkeypatch.setattr(pool_checks, "PING_AFTER_IDLE_SECONDS", 0.0)
    _backend(db.engine)
    assert len(pings) == 1
    monkeypatch.setattr(pool_checks, "PING_AFTER_IDLE_SECONDS", 3600.0)
    _backend(db.engine)
    assert len(pings) == 1


def test_every_bind_is_checked(app_ctx):
    """The autocommit pool (bookings are placed on it) has the same checks."""
    from sqlalchemy import event

    for engine in db.engines.values():
        assert event.contains(engine, "checkin", pool_checks._note_return)
    if db.engine.dialect.name == "postgresql":
        assert AUTOCOMMIT_BIND in db.engines


def test_a_connection_the_database_dropped_while_idle_is_replaced(app_ctx, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("dropping a session from the server's side needs PostgreSQL "
                    "(pg_terminate_backend); CI runs it there")
    engine = db.engines[AUTOCOMMIT_BIND]
    engine.dispose()
    dropped = _backend(engine)  # the pool keeps this one
    with db.engine.connect() as other:
        assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": int(dropped)})
    monkeypatch.setattr(pool_checks, "PING_AFTER_IDLE_SECONDS", 0.0)

    assert _backend(engine) != dropped  # no error: the ping found it gone, a new one serves
