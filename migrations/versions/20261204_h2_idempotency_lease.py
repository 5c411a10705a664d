"""idempotency keys are leases; a booking (or refund) carries the key's record that made it

Revision ID: 20261204_h2_idempotency_lease
Revises: 0007_receipts_messages
Create Date: 2026-12-04 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261204_h2_idempotency_lease'
down_revision = '20261204_h1_slot_retired'
branch_labels = None
depends_on = None

# Reflect only the table being copied: following its foreign keys would reflect ab_user
# too, whose index on lower(email) SQLite's reflection cannot read (an SAWarning); the
# copy needs no more of a referenced table than its name.
ONLY_THIS_TABLE = {'resolve_fks': False}


def upgrade():
    with op.batch_alter_table('idempotency_record', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        # No lease on the rows already there: a key stuck by a crash can be taken over.
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('attempt', sa.Integer(), server_default='1',
                                      nullable=False))

    with op.batch_alter_table('booking', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.add_column(sa.Column('idempotency_record_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_booking_idempotency_record_id',
                                          ['idempotency_record_id'])
        batch_op.create_foreign_key(
            batch_op.f('fk_booking_idempotency_record_id_idempotency_record'),
            'idempotency_record', ['idempotency_record_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('refund', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.add_column(sa.Column('idempotency_record_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_refund_idempotency_record_id',
                                          ['idempotency_record_id'])
        batch_op.create_foreign_key(
            batch_op.f('fk_refund_idempotency_record_id_idempotency_record'),
            'idempotency_record', ['idempotency_record_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('refund', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_refund_idempotency_record_id_idempotency_record'),
            type_='foreignkey')
        batch_op.drop_constraint('uq_refund_idempotency_record_id', type_='unique')
        batch_op.drop_column('idempotency_record_id')

    with op.batch_alter_table('booking', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_booking_idempotency_record_id_idempotency_record'),
            type_='foreignkey')
        batch_op.drop_constraint('uq_booking_idempotency_record_id', type_='unique')
        batch_op.drop_column('idempotency_record_id')

    with op.batch_alter_table('idempotency_record', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.drop_column('attempt')
        batch_op.drop_column('lease_expires_at')
