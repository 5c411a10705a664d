"""booking.placed_as_guest: a booking placed without signing in (guest checkout); an
account whose address is unverified does not see those

Revision ID: 20261205_placed_as_guest
Revises: 20261205_second_factor
Create Date: 2026-12-05 07:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_placed_as_guest'
down_revision = '20261205_second_factor'
branch_labels = None
depends_on = None

# Reflect only the table being copied: following its foreign keys would reflect ab_user
# too, whose index on lower(email) SQLite's reflection cannot read (an SAWarning); the
# copy needs no more of a referenced table than its name.
ONLY_THIS_TABLE = {'resolve_fks': False}


def upgrade():
    # Earlier bookings are not marked: they stay visible as they were.
    op.add_column('booking', sa.Column('placed_as_guest', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('booking', reflect_kwargs=ONLY_THIS_TABLE) as batch:
        batch.drop_column('placed_as_guest')
