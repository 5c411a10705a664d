"""ab_user.password_changed_at: sign-ins from before a password reset end

Revision ID: 20261205_password_changed_at
Revises: 20261205_daily_figures
Create Date: 2026-12-05 01:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_password_changed_at'
down_revision = '20261205_daily_figures'
branch_labels = None
depends_on = None


# SQLite rebuilds ab_user to change it (copy and rename), from what SQLAlchemy reflects;
# it cannot reflect an index on an expression (it warns and leaves it out), so the
# case-insensitive email index is dropped first and made again after the rebuild.
EMAIL_INDEX = 'uq_ab_user_email_lower'


def _rebuilds_ab_user():
    return op.get_bind().dialect.name == 'sqlite'


def _drop_email_index():
    if _rebuilds_ab_user():
        op.drop_index(EMAIL_INDEX, table_name='ab_user')


def _create_email_index():
    if _rebuilds_ab_user():
        op.create_index(EMAIL_INDEX, 'ab_user', [sa.text('lower(email)')], unique=True)


def upgrade():
    op.add_column('ab_user', sa.Column('password_changed_at', sa.DateTime(timezone=True),
                                       nullable=True))


def downgrade():
    _drop_email_index()
    with op.batch_alter_table('ab_user') as batch:
        batch.drop_column('password_changed_at')
    _create_email_index()
