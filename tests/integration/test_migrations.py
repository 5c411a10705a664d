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
