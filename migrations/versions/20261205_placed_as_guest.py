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


def upgrade():
    # Earlier bookings are not marked: they stay visible as they were.
    op.add_column('booking', sa.Column('placed_as_guest', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('booking') as batch:
        batch.drop_column('placed_as_guest')
