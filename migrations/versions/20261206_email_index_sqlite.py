"""SQLite: the case-insensitive email index again where migration 0007 lost it

Migration 0007 rebuilt ab_user on SQLite from what SQLAlchemy reflects, which leaves out
an index on an expression: embedded databases migrated before it was fixed have no
uq_ab_user_email_lower (sign-ups racing on one address were not stopped by the database).
Made again where it is missing; PostgreSQL never lost it.

Revision ID: 20261206_email_index_sqlite
Revises: 20261206_api_keys
Create Date: 2026-12-06 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_email_index_sqlite'
down_revision = '20261206_api_keys'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('uq_ab_user_email_lower', 'ab_user', [sa.text('lower(email)')],
                        unique=True, if_not_exists=True)


def downgrade():
    pass  # the index belongs to migration 0001; a database that had it keeps it
