"""resource sharing: an offering whose bookings of one time share its resources (a class
and its teacher); resource_booking.share_key says which rows may overlap

Revision ID: 20261206_resource_sharing
Revises: 20261206_resource_calendars
Create Date: 2026-12-05 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_resource_sharing'
down_revision = '20261206_resource_calendars'
branch_labels = None
depends_on = None

# Reflect only the table being copied: following its foreign keys would reflect ab_user
# too, whose index on lower(email) SQLite's reflection cannot read (an SAWarning); the
# copy needs no more of a referenced table than its name.
ONLY_THIS_TABLE = {'resolve_fks': False}

OLD_RULE = "(resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)"
NEW_RULE = ("(resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&, "
            "share_key WITH <>)")


def upgrade():
    # Plain ADD COLUMN on offering: a batch (copy-and-move) of it would drop SQLite's
    # full-text triggers.
    op.add_column('offering', sa.Column('resources_shared', sa.Boolean(),
                                        server_default=sa.text('false'), nullable=False))
    op.add_column('resource_booking', sa.Column('share_key', sa.String(length=32),
                                                nullable=True))
    # Every row so far was a booking's own time.
    op.execute("UPDATE resource_booking SET share_key = 'booking:' || booking_id")
    with op.batch_alter_table('resource_booking', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.alter_column('share_key', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_check_constraint(op.f('ck_resource_booking_share_key_given'),
                                         "share_key <> ''")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE resource_booking DROP CONSTRAINT ex_resource_booking_no_overlap')
        op.execute('ALTER TABLE resource_booking ADD CONSTRAINT '
                   f'ex_resource_booking_no_overlap EXCLUDE USING gist {NEW_RULE}')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE resource_booking DROP CONSTRAINT ex_resource_booking_no_overlap')
        op.execute('ALTER TABLE resource_booking ADD CONSTRAINT '
                   f'ex_resource_booking_no_overlap EXCLUDE USING gist {OLD_RULE}')
    with op.batch_alter_table('resource_booking', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.drop_constraint(op.f('ck_resource_booking_share_key_given'), type_='check')
        batch_op.drop_column('share_key')
    op.drop_column('offering', 'resources_shared')  # plain, as added
