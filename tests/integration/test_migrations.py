"""The migrations build exactly the schema the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.extensions import db
from app.models.schema import include_name, include_object


def test_migrated_schema_matches_the_models(app_ctx):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name,
                   "include_object": include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_all_tables_exist_including_the_consoles(app_ctx):
    tables = set(inspect(db.engine).get_table_names())
    assert {"ab_user", "ab_role", "ab_permission_view", "provider", "audit_log",
            "revoked_token", "alembic_version"} <= tables


def test_timestamps_come_back_timezone_aware(app_ctx, build):
    from app.models import Provider

    provider_id = build.provider()
    db.session.expire_all()
    created = db.session.get(Provider, provider_id).created_at
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0


def sqlite_schema_names(kind: str, *, table: str | None = None) -> set[str]:
    """The names of SQLite's schema objects of one kind (trigger, index), of one table."""
    query = "SELECT name FROM sqlite_master WHERE type = ?"
    parameters: tuple = (kind,)
    if table is not None:
        query, parameters = query + " AND tbl_name = ?", (kind, table)
    with db.engine.connect() as conn:
        return {row[0] for row in conn.exec_driver_sql(query, parameters)}


def test_sqlite_full_text_triggers_survive_every_migration(app_ctx):
    # A batch (copy-and-rename) migration of `offering` on SQLite silently drops them.
    if db.engine.dialect.name != "sqlite":
        return
    triggers = sqlite_schema_names("trigger")
    assert {"offering_fts_insert", "offering_fts_delete", "offering_fts_update"} <= triggers


def test_postgres_search_ranks_on_the_stored_document_through_its_index(app_ctx, build):
    # Ranking on an expression re-parses every match; the stored column must be kept in
    # step by PostgreSQL on update, and the search query must be able to use its index.
    if db.engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    from app.models import Offering
    from app.services.search import OfferingQuery
    from app.services.search_db import DatabaseSearchBackend

    offering_id = build.offering(build.provider(), name="Sunrise yoga")
    db.session.get(Offering, offering_id).name = "Evening pilates"
    db.session.commit()
    assert db.session.scalar(text(
        "SELECT search_document::text FROM offering WHERE id = :id"), {"id": offering_id}
    ) == "'evening':1 'pilates':2"
    backend = DatabaseSearchBackend()
    assert [h.offering_id for h in backend.search(OfferingQuery(q="pilat")).hits] == [offering_id]
    assert backend.search(OfferingQuery(q="sunrise")).hits == []
    with db.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(conn.execute(text(
            "EXPLAIN SELECT id FROM offering "
            "WHERE search_document @@ to_tsquery('simple', 'pilat:*')")).scalars())
    assert "ix_offering_search" in plan


def test_sqlite_keeps_the_case_insensitive_email_index(app_ctx):
    # Rebuilding ab_user on SQLite (copy and rename) left out this index: SQLAlchemy cannot
    # reflect an index on an expression.
    if db.engine.dialect.name != "sqlite":
        return
    assert "uq_ab_user_email_lower" in sqlite_schema_names("index", table="ab_user")


def test_migrating_a_new_embedded_database_warns_of_nothing(tmp_path):
    # What `make migrate` prints on a first run: every SQLAlchemy warning is an error here,
    # down to the oldest revision that rebuilds ab_user and back up.
    import warnings

    from flask_migrate import downgrade, upgrade
    from sqlalchemy.exc import SAWarning

    from app import create_app
    from tests.conftest import test_settings

    other = create_app(test_settings(
        str(tmp_path), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.db'}"))
    with other.app_context(), warnings.catch_warnings():
        warnings.simplefilter("error", SAWarning)
        upgrade()
        downgrade(revision="0006_payments")
        upgrade()
        with db.engine.connect() as conn:
            indexes = {row[0] for row in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index'")}
        db.engine.dispose()
    assert "uq_ab_user_email_lower" in indexes
