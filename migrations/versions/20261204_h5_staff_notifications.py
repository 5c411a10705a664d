"""staff_notification_setting: which booking events a provider's staff are emailed about

Revision ID: 20261204_h5_staff_notifications
Revises: 20261204_h1_time_off
Create Date: 2026-12-04 17:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261204_h5_staff_notifications'
down_revision = '20261204_h1_time_off'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_notification_setting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('on_new', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('on_awaiting_confirmation', sa.Boolean(), server_default=sa.true(),
                  nullable=False),
        sa.Column('on_cancelled', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('on_rescheduled', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('to_staff_accounts', sa.Boolean(), server_default=sa.true(),
                  nullable=False),
        sa.Column('extra_addresses', sa.Text(), server_default='', nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                                name=op.f('fk_staff_notification_setting_provider_id_provider'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_notification_setting')),
        sa.UniqueConstraint('provider_id', name=op.f('uq_staff_notification_setting_provider_id')),
    )
    with op.batch_alter_table('staff_notification_setting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_notification_setting_provider_id'),
                              ['provider_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_notification_setting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_notification_setting_provider_id'))
    op.drop_table('staff_notification_setting')
