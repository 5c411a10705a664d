"""indexes for the console dashboards: bookings and slots by start time, waiting and flagged rows

Revision ID: 20261204_h3_dashboard_indexes
Revises: 20261204_h2_intent_requested
Create Date: 2026-12-04 17:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261204_h3_dashboard_indexes'
down_revision = '20261204_h2_intent_requested'
branch_labels = None
depends_on = None

AWAITING = sa.text("status = 'pending' AND pay_at_venue")
FLAGGED = sa.text("attention IS NOT NULL")


def upgrade():
    op.create_index('ix_booking_starts', 'booking', ['starts_at'],
                    postgresql_include=['provider_id', 'status', 'currency', 'total_minor'])
    op.create_index('ix_booking_awaiting', 'booking', ['provider_id', 'starts_at'],
                    postgresql_where=AWAITING, sqlite_where=AWAITING)
    op.create_index('ix_slot_provider_starts', 'slot', ['provider_id', 'starts_at'])
    op.create_index('ix_payment_attention', 'payment', ['provider_id'],
                    postgresql_where=FLAGGED, sqlite_where=FLAGGED)


def downgrade():
    op.drop_index('ix_payment_attention', table_name='payment')
    op.drop_index('ix_slot_provider_starts', table_name='slot')
    op.drop_index('ix_booking_awaiting', table_name='booking')
    op.drop_index('ix_booking_starts', table_name='booking')
