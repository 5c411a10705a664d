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


def test_sqlite_full_text_triggers_survive_every_migration(app_ctx):
    # A batch (copy-and-rename) migration of `offering` on SQLite silently drops them.
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        triggers = {row[0] for row in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
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
