"""Test fixtures: one schema built by the migrations, real PostgreSQL and Redis when given.

- ``TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1/bookwell_test``):
  tests run there; otherwise on a temporary SQLite file.
- ``TEST_REDIS_URL`` (e.g. ``redis://127.0.0.1:6379/15``): Redis-backed features use it;
  otherwise fakeredis stands in (and rate limits are kept in memory).

The schema is built once per run with ``flask db upgrade``; every test starts from
empty tables (roles and permissions, synced once, are kept).
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

import fakeredis
import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db, limiter
from app.services.roles import sync_roles
from tests import builders
from tests.helpers import IsolatedClient
from tests.mail_server import recording_smtp

KEPT_TABLES = {
    "alembic_version",
    "ab_permission",
    "ab_view_menu",
    "ab_permission_view",
    "ab_role",
    "ab_permission_view_role",
}


def _database_url(tmp_dir: str) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith(
            "postgresql://") else url
    return f"sqlite:///{os.path.join(tmp_dir, 'test.db')}"


def _reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def test_settings(tmp_dir: str, **overrides) -> dict:
    """Settings for a test app; a second app (other options) can share the database."""
    url = _database_url(tmp_dir)
    redis_url = os.environ.get("TEST_REDIS_URL")
    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "JWT_SECRET_KEY": "test-jwt-secret-with-enough-length-for-hs256",
        "INSTANCE_DIR": tmp_dir,
        # Figures are read fresh: tests change data and look again at once.
        "DASHBOARD_CACHE_SECONDS": 0,
        "WTF_CSRF_ENABLED": False,
        "REDIS_URL": redis_url,
        # The OpenSearch contract suite builds its own backend from the environment.
        "OPENSEARCH_URL": None,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "AUTH_RATE_LIMIT": "5 per minute",
        # Two-factor sign-in is on only in the tests about it.
        "CONSOLE_REQUIRE_2FA": False,
        "LOG_LEVEL": "WARNING",
        # A cheap password hash: scrypt, the default, spends 0.1 s on every hash and every
        # check by design, most of a test that makes an account and signs it in.
        "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    }
    settings.update(overrides)
    return settings


@pytest.fixture(scope="session")
def tmp_dir():
    with tempfile.TemporaryDirectory(prefix="bookwell-test-") as path:
        yield path


@pytest.fixture(scope="session")
def app(tmp_dir):
    url = _database_url(tmp_dir)
    if url.startswith("postgresql"):
        _reset_postgres_schema(url)
    app = create_app(test_settings(tmp_dir))
    app.test_client_class = IsolatedClient
    if not app.config["REDIS_URL"]:
        app.extensions["bookwell.redis"] = fakeredis.FakeRedis()
    with app.app_context():
        upgrade()
        sync_roles(app.appbuilder)
    return app


@pytest.fixture(autouse=True)
def clean_state(app):
    """Empty every table but the role definitions; reset rate limits and Redis."""
    yield
    reset_state(app)


def reset_state(app) -> None:
    """What ``clean_state`` does after each test (a module sharing data calls it once)."""
    with app.app_context():
        db.session.remove()
        _truncate_tables()
        limiter.reset()
        if app.config["REDIS_URL"]:
            from app.redis import redis_client

            redis_client().flushdb()
        else:
            app.extensions["bookwell.redis"].flushall()


_emptying_sql: list[str] = []  # PostgreSQL: the statements that empty the tables, once made


def _truncate_tables() -> None:
    engine = db.engine
    tables = [t for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]
    if engine.dialect.name == "postgresql":
        _empty_postgres_tables(engine, [t.name for t in tables])
        return
    with engine.begin() as conn:
        # Rows that reference rows of their own table (a credit note its receipt)
        # cannot be deleted in one statement with foreign keys enforced.
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for table in reversed(tables):
            conn.execute(table.delete())


def _empty_postgres_tables(engine, names: list[str]) -> None:
    """DELETE every row and restart the tables' id sequences, in one round trip.

    TRUNCATE of some fifty tables took about 0.1 s per test (it rewrites every table and
    its indexes), a fifth of the suite's time on PostgreSQL; DELETE of the few rows a test
    leaves takes milliseconds. ``session_replication_role = replica`` skips the foreign-key
    checks (any order will do) and the daily-figures triggers (their tables are emptied
    too). It needs a superuser, as CI's ``postgres`` is; any other role gets TRUNCATE."""
    if not _emptying_sql:
        with engine.connect() as conn:
            superuser = conn.exec_driver_sql("SHOW is_superuser").scalar() == "on"
            sequences = conn.execute(text(
                "SELECT quote_ident(s.relname) FROM pg_class s "
                "JOIN pg_depend d ON d.objid = s.oid JOIN pg_class t ON d.refobjid = t.oid "
                "WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') AND t.relname = ANY(:n)"),
                {"n": names}).scalars().all()
        quoted = [f'"{name}"' for name in names]
        if superuser:
            _emptying_sql.append("SET LOCAL session_replication_role = replica;\n"
                                 + "".join(f"DELETE FROM {name};\n" for name in quoted)
                                 + "".join(f"ALTER SEQUENCE {seq} RESTART;\n"
                                           for seq in sequences))
        else:
            _emptying_sql.append(f"TRUNCATE {', '.join(quoted)} RESTART IDENTITY CASCADE")
    with engine.begin() as conn:
        conn.exec_driver_sql(_emptying_sql[0])


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def is_postgres(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


@pytest.fixture
def build(app_ctx):
    """Builders for test data; each returns ids, never live objects."""
    return builders


test_settings.__test__ = False  # a helper, not a test


@pytest.fixture
def csrf_app(app, tmp_dir):
    """A second app on the same database and Redis, with CSRF protection switched on."""
    from tests.views.console import second_app  # it imports this module

    other = second_app(app, tmp_dir, WTF_CSRF_ENABLED=True)
    other.test_client_class = IsolatedClient
    return other


@pytest.fixture
def cache_on(app):
    """The catalog cache on: Redis as configured for the run, or the fakeredis stand-in."""
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = saved or "redis://fakeredis"
    yield
    app.config["REDIS_URL"] = saved


@pytest.fixture
def smtp(app, monkeypatch):
    """Mail the app sends, recorded by a local SMTP server (tests/mail_server.py)."""
    with recording_smtp(app, monkeypatch) as recorder:
        yield recorder


# --- PayPal: the local stand-in, and the app's settings pointed at it -------------------

@pytest.fixture(scope="module")
def paypal_server():
    """The local PayPal stand-in, one per test module (webhooks sent at once)."""
    from tests.fakes.paypal import LocalPayPal

    with LocalPayPal(webhook_delay=0) as server:
        yield server


@pytest.fixture
def paypal_on(app, paypal_server, monkeypatch):
    """The app's PayPal settings pointed at the stand-in, its gateways built afresh."""
    with paypal_settings(app, paypal_server, monkeypatch):
        yield paypal_server


@contextmanager
def paypal_settings(app, paypal_server, monkeypatch):
    """``app``'s PayPal settings pointed at the stand-in while inside (a served app of the
    browser tests needs them as well as the test's)."""
    from devservices.paypal_server import CLIENT_ID, CLIENT_SECRET
    from tests.fakes.paypal import WEBHOOK_ID

    for key, value in {"PAYPAL_CLIENT_ID": CLIENT_ID, "PAYPAL_CLIENT_SECRET": CLIENT_SECRET,
                       "PAYPAL_API_BASE": paypal_server.url, "PAYPAL_WEBHOOK_ID": WEBHOOK_ID,
                       "PAYPAL_TIMEOUT": 5.0}.items():
        monkeypatch.setitem(app.config, key, value)
    app.extensions.pop("bookwell_payment_gateways", None)
    try:
        yield
    finally:
        app.extensions.pop("bookwell_payment_gateways", None)
