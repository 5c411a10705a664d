"""resources: staff, rooms and equipment of a provider, what offerings need, the time
bookings take of them (no overlap, by an exclusion constraint); offering buffers

Revision ID: 20261205_resources
Revises: 20261205_waitlist
Create Date: 2026-12-05 17:42:10.675648

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_resources'
down_revision = '20261205_waitlist'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('resource',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('staff', 'room', 'equipment')", name=op.f('ck_resource_kind_known')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_resource_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource')),
    sa.UniqueConstraint('provider_id', 'name', name='uq_resource_provider_name')
    )
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_provider_id'), ['provider_id'], unique=False)

    op.create_table('resource_busy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_resource_busy_ends_after_start')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_resource_busy_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_resource_busy_resource_id_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_busy'))
    )
    with op.batch_alter_table('resource_busy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_busy_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_resource_busy_resource_starts', ['resource_id', 'starts_at'], unique=False)

    op.create_table('offering_resource',
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_offering_resource_offering_id_offering'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_offering_resource_resource_id_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('offering_id', 'resource_id', name=op.f('pk_offering_resource'))
    )
    with op.batch_alter_table('offering_resource', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offering_resource_resource_id'), ['resource_id'], unique=False)

    op.create_table('resource_booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_resource_booking_ends_after_start')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_resource_booking_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_resource_booking_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_resource_booking_resource_id_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_booking'))
    )
    with op.batch_alter_table('resource_booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_booking_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_booking_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_resource_booking_resource_starts', ['resource_id', 'starts_at'], unique=False)

    # Plain ADD COLUMN: a batch (copy-and-move) of offering would drop SQLite's full-text
    # triggers on it, and one of slot its daily-figures triggers. SQLite cannot add CHECK
    # constraints to a table; the service checks the same range (catalog_rules).
    op.add_column('offering', sa.Column('buffer_before_minutes', sa.Integer(),
                                        server_default='0', nullable=False))
    op.add_column('offering', sa.Column('buffer_after_minutes', sa.Integer(),
                                        server_default='0', nullable=False))
    op.add_column('slot', sa.Column('resource_from', sa.DateTime(timezone=True),
                                    nullable=True))
    op.add_column('slot', sa.Column('resource_until', sa.DateTime(timezone=True),
                                    nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.create_check_constraint(op.f('ck_offering_buffers_range'), 'offering',
                                   BUFFERS_RANGE)
        # No two times of one resource overlap, whichever bookings take them: the
        # database refuses the second (SQLite, one writer at a time, is checked by the
        # service before it inserts).
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
        op.execute('ALTER TABLE resource_booking ADD CONSTRAINT '
                   'ex_resource_booking_no_overlap EXCLUDE USING gist '
                   "(resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_offering_buffers_range'), 'offering', type_='check')
    for table, column in (('slot', 'resource_until'), ('slot', 'resource_from'),
                          ('offering', 'buffer_after_minutes'),
                          ('offering', 'buffer_before_minutes')):
        op.drop_column(table, column)

    with op.batch_alter_table('resource_booking', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_booking_resource_starts')
        batch_op.drop_index(batch_op.f('ix_resource_booking_provider_id'))
        batch_op.drop_index(batch_op.f('ix_resource_booking_booking_id'))

    op.drop_table('resource_booking')
    with op.batch_alter_table('offering_resource', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offering_resource_resource_id'))

    op.drop_table('offering_resource')
    with op.batch_alter_table('resource_busy', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_busy_resource_starts')
        batch_op.drop_index(batch_op.f('ix_resource_busy_provider_id'))

    op.drop_table('resource_busy')
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_provider_id'))

    op.drop_table('resource')


BUFFERS_RANGE = ('buffer_before_minutes >= 0 AND buffer_before_minutes <= 1440 AND '
                 'buffer_after_minutes >= 0 AND buffer_after_minutes <= 1440')
