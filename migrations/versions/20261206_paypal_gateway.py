"""payment.gateway may be 'paypal' (its order id is the payment's provider_reference;
refunds find the capture through the order, so no new column)

Revision ID: 20261206_paypal_gateway
Revises: 20261206_resource_time_first
Create Date: 2026-12-06 03:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '20261206_paypal_gateway'
down_revision = '20261206_resource_time_first'
branch_labels = None
depends_on = None

# Reflect only the table being copied: following its foreign keys would reflect ab_user
# too, whose index on lower(email) SQLite's reflection cannot read (an SAWarning); the
# copy needs no more of a referenced table than its name.
ONLY_THIS_TABLE = {'resolve_fks': False}

NAME = 'ck_payment_gateway_known'
NEW = "gateway IN ('stripe', 'manual', 'paypal')"
OLD = "gateway IN ('stripe', 'manual')"


def upgrade():
    _replace(NEW)


def downgrade():
    # Refuses (the CHECK fails) while a PayPal payment is stored: remove those first.
    _replace(OLD)


def _replace(condition: str):
    with op.batch_alter_table('payment', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.drop_constraint(op.f(NAME), type_='check')
        batch_op.create_check_constraint(op.f(NAME), condition)
