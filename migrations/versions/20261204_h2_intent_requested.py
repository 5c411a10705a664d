"""payment.intent_requested_at: one request at a time creates a payment's intent

Revision ID: 20261204_h2_intent_requested
Revises: 20261204_h2_idempotency_lease
Create Date: 2026-12-04 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261204_h2_intent_requested'
down_revision = '20261204_h2_idempotency_lease'
branch_labels = None
depends_on = None

# Reflect only the table being copied: following its foreign keys would reflect ab_user
# too, whose index on lower(email) SQLite's reflection cannot read (an SAWarning); the
# copy needs no more of a referenced table than its name.
ONLY_THIS_TABLE = {'resolve_fks': False}


def upgrade():
    with op.batch_alter_table('payment', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.add_column(sa.Column('intent_requested_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('payment', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.drop_column('intent_requested_at')
