"""What Alembic's autogenerate should compare, shared by migrations/env.py and the tests."""
from __future__ import annotations

# Created by hand in the migrations, per database: full-text search structures.
HAND_MADE_TABLE_PREFIXES = ("offering_fts",)
HAND_MADE_INDEXES = {"ix_offering_search", "uq_ab_user_email_lower"}


def include_name(name, type_, parent_names) -> bool:
    if type_ == "table" and name and name.startswith(HAND_MADE_TABLE_PREFIXES):
        return False
    if type_ == "index" and name in HAND_MADE_INDEXES:
        return False
    return True


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return include_name(name, type_, None)
