"""resource calendars: outside iCal addresses of a resource, and the busy times each
fetch imports (resource_busy.calendar_id)

Revision ID: 20261206_resource_calendars
Revises: 20261206_resource_hours
Create Date: 2026-12-06 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_resource_calendars'
down_revision = '20261206_resource_hours'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('resource_calendar',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('etag', sa.String(length=200), nullable=True),
    sa.Column('last_modified', sa.String(length=64), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parsed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('busy_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('capped', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('next_fetch_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_resource_calendar_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_resource_calendar_resource_id_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_calendar')),
    sa.UniqueConstraint('resource_id', 'url', name='uq_resource_calendar_resource_url')
    )
    with op.batch_alter_table('resource_calendar', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_calendar_next_fetch_at'), ['next_fetch_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_calendar_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_calendar_resource_id'), ['resource_id'], unique=False)

    # A nullable column: existing rows are time off typed by staff. On SQLite the foreign
    # key needs the table copied (batch mode); resource_busy has no triggers to lose.
    with op.batch_alter_table('resource_busy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_resource_busy_calendar_id_resource_calendar'),
            'resource_calendar', ['calendar_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_resource_busy_calendar_id'), ['calendar_id'],
                              unique=False)


def downgrade():
    op.execute('DELETE FROM resource_busy WHERE calendar_id IS NOT NULL')
    with op.batch_alter_table('resource_busy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_busy_calendar_id'))
        batch_op.drop_constraint(batch_op.f('fk_resource_busy_calendar_id_resource_calendar'),
                                 type_='foreignkey')
        batch_op.drop_column('calendar_id')
    with op.batch_alter_table('resource_calendar', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_calendar_resource_id'))
        batch_op.drop_index(batch_op.f('ix_resource_calendar_provider_id'))
        batch_op.drop_index(batch_op.f('ix_resource_calendar_next_fetch_at'))
    op.drop_table('resource_calendar')
