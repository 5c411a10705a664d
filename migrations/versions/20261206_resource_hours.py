"""resource hours: weekly hours per resource and the shifts laid out from them

Revision ID: 20261206_resource_hours
Revises: 20261205_resources
Create Date: 2026-12-05 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_resource_hours'
down_revision = '20261205_resources'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy): existing resources keep no hours, so nothing
    # about them changes.
    op.add_column('resource', sa.Column('keeps_hours', sa.Boolean(),
                                        server_default=sa.text('false'), nullable=False))

    op.create_table('resource_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_resource_hours_weekday_known')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_resource_hours_ends_after_start')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_resource_hours_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_resource_hours_resource_id_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_hours'))
    )
    with op.batch_alter_table('resource_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_hours_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_hours_resource_id'), ['resource_id'], unique=False)

    op.create_table('resource_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_resource_shift_ends_after_start')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_resource_shift_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_resource_shift_resource_id_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_shift'))
    )
    with op.batch_alter_table('resource_shift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_shift_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_resource_shift_resource_starts', ['resource_id', 'starts_at'], unique=False)


def downgrade():
    with op.batch_alter_table('resource_shift', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_shift_resource_starts')
        batch_op.drop_index(batch_op.f('ix_resource_shift_provider_id'))
    op.drop_table('resource_shift')
    with op.batch_alter_table('resource_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_hours_resource_id'))
        batch_op.drop_index(batch_op.f('ix_resource_hours_provider_id'))
    op.drop_table('resource_hours')
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_column('keeps_hours')
