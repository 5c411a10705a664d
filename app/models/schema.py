"""What Alembic's autogenerate should compare, shared by migrations/env.py and the tests."""
from __future__ import annotations

# Created by hand in the migrations, per database: full-text search structures.
HAND_MADE_TABLE_PREFIXES = ("offering_fts",)
HAND_MADE_INDEXES = {"ix_offering_search", "uq_ab_user_email_lower"}
# PostgreSQL only: the stored tsvector the search backend ranks on (migration 0005).
HAND_MADE_COLUMNS = {("offering", "search_document")}


def include_name(name, type_, parent_names) -> bool:
    if type_ == "table" and name and name.startswith(HAND_MADE_TABLE_PREFIXES):
        return False
    if type_ == "index" and name in HAND_MADE_INDEXES:
        return False
    if type_ == "column" and (parent_names or {}).get("table_name") and (
            (parent_names["table_name"], name) in HAND_MADE_COLUMNS):
        return False
    return True


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    parents = {"table_name": obj.table.name} if type_ == "column" else None
    return include_name(name, type_, parents)
