"""slots keep their booking history: retired instead of deleted

Revision ID: 20261204_h1_slot_retired
Revises: 0007_receipts_messages
Create Date: 2026-12-04 05:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261204_h1_slot_retired'
down_revision = '0007_receipts_messages'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_column('retired_at')
