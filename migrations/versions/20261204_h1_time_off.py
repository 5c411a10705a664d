"""time off: periods without slots, per offering or the whole provider

Revision ID: 20261204_h1_time_off
Revises: 20261204_h3_dashboard_indexes
Create Date: 2026-12-04 17:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261204_h1_time_off'
down_revision = '20261204_h3_dashboard_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_time_off_ends_after_start')),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_time_off_offering_id_offering'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_time_off_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_off'))
    )
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_off_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_time_off_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_time_off_provider_ends', ['provider_id', 'ends_at'], unique=False)


def downgrade():
    op.drop_table('time_off')
