"""payment.failure_code: the gateway's code for a declined or failed attempt
(Stripe's decline_code, else its code), so customers read the reason in their language

Revision ID: 20261206_payment_failure_code
Revises: 20261206_resource_sharing
Create Date: 2026-12-06 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_payment_failure_code'
down_revision = '20261206_resource_sharing'
branch_labels = None
depends_on = None

# Reflect only the table being copied: following its foreign keys would reflect ab_user
# too, whose index on lower(email) SQLite's reflection cannot read (an SAWarning); the
# copy needs no more of a referenced table than its name.
ONLY_THIS_TABLE = {'resolve_fks': False}


def upgrade():
    with op.batch_alter_table('payment', reflect_kwargs=ONLY_THIS_TABLE) as batch:
        batch.add_column(sa.Column('failure_code', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('payment', reflect_kwargs=ONLY_THIS_TABLE) as batch:
        batch.drop_column('failure_code')
