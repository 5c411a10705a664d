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


def upgrade():
    op.add_column('ab_user', sa.Column('password_changed_at', sa.DateTime(timezone=True),
                                       nullable=True))


def downgrade():
    with op.batch_alter_table('ab_user') as batch:
        batch.drop_column('password_changed_at')
