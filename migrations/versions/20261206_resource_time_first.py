"""resource_booking.booking_id: checked at commit (DEFERRABLE INITIALLY DEFERRED), so a
booking can take its staff's time before its own row is written in the same
transaction; a booking refused for want of staff then writes nothing at all

Revision ID: 20261206_resource_time_first
Revises: 20261206_payment_failure_code
Create Date: 2026-12-06 03:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '20261206_resource_time_first'
down_revision = '20261206_payment_failure_code'
branch_labels = None
depends_on = None

# Reflect only the table being copied: following its foreign keys would reflect ab_user
# too, whose index on lower(email) SQLite's reflection cannot read (an SAWarning); the
# copy needs no more of a referenced table than its name.
ONLY_THIS_TABLE = {'resolve_fks': False}

CONSTRAINT = 'fk_resource_booking_booking_id_booking'


def upgrade():
    _recreate(deferred=True)


def downgrade():
    _recreate(deferred=False)


def _recreate(*, deferred: bool):
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE resource_booking ALTER CONSTRAINT {CONSTRAINT} ' + (
            'DEFERRABLE INITIALLY DEFERRED' if deferred else 'NOT DEFERRABLE'))
        return
    # SQLite places a booking's rows before its resources' time (one writer at a time),
    # but its schema follows the models all the same.
    with op.batch_alter_table('resource_booking', reflect_kwargs=ONLY_THIS_TABLE) as batch:
        batch.drop_constraint(CONSTRAINT, type_='foreignkey')
        batch.create_foreign_key(CONSTRAINT, 'booking', ['booking_id'], ['id'],
                                 ondelete='CASCADE', deferrable=deferred or None,
                                 initially='DEFERRED' if deferred else None)
