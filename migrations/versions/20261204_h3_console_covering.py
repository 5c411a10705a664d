"""console at a million bookings: covering indexes by start time, waiting bookings by start, bookings by creation

Revision ID: 20261204_h3_console_covering
Revises: 20261204_h5_staff_notifications
Create Date: 2026-12-04 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261204_h3_console_covering'
down_revision = '20261204_h5_staff_notifications'
branch_labels = None
depends_on = None

AWAITING = sa.text("status = 'pending' AND pay_at_venue")
# Rebuilt with the columns the dashboards add up, so PostgreSQL answers from the index alone.
COVERING = [
    ('ix_slot_starts_at', 'slot', ['starts_at'],
     ['provider_id', 'offering_id', 'booked', 'capacity', 'retired_at']),
    ('ix_slot_provider_starts', 'slot', ['provider_id', 'starts_at'],
     ['offering_id', 'booked', 'capacity', 'retired_at']),
    ('ix_booking_provider_starts', 'booking', ['provider_id', 'starts_at'],
     ['status', 'currency', 'total_minor']),
]


def upgrade():
    for name, table, columns, include in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_include=include)
    op.create_index('ix_booking_awaiting_starts', 'booking', ['starts_at'],
                    postgresql_where=AWAITING, sqlite_where=AWAITING)
    op.create_index('ix_booking_provider_created', 'booking', ['provider_id', 'created_at'])
    op.create_index('ix_booking_created', 'booking', ['created_at'])


def downgrade():
    op.drop_index('ix_booking_created', table_name='booking')
    op.drop_index('ix_booking_provider_created', table_name='booking')
    op.drop_index('ix_booking_awaiting_starts', table_name='booking')
    for name, table, columns, _include in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
