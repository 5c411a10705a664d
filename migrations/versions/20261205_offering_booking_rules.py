"""offering booking rules: minimum notice, booking horizon, per-customer limits

Revision ID: 20261205_offering_booking_rules
Revises: 20261205_sign_in_handoff
Create Date: 2026-12-05 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_offering_booking_rules'
down_revision = '20261205_sign_in_handoff'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: a batch (copy-and-move) of offering would drop SQLite's full-text
    # triggers on it. SQLite cannot add CHECK constraints to a table; the service checks
    # the same ranges (catalog_rules) on every database.
    op.add_column('offering', sa.Column('min_notice_minutes', sa.Integer(), nullable=False,
                                        server_default='0'))
    op.add_column('offering', sa.Column('booking_horizon_days', sa.Integer(), nullable=False,
                                        server_default='60'))
    op.add_column('offering', sa.Column('max_active_bookings_per_customer', sa.Integer(),
                                        nullable=True))
    op.add_column('offering', sa.Column('max_held_places_per_customer', sa.Integer(),
                                        nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        for name, condition in CHECKS:
            op.create_check_constraint(op.f(f'ck_offering_{name}'), 'offering', condition)
    # The per-customer limits count a customer's bookings of one offering.
    op.create_index('ix_booking_customer_offering_status', 'booking',
                    ['customer_id', 'offering_id', 'status'])


def downgrade():
    op.drop_index('ix_booking_customer_offering_status', table_name='booking')
    if op.get_bind().dialect.name == 'postgresql':
        for name, _ in CHECKS:
            op.drop_constraint(op.f(f'ck_offering_{name}'), 'offering', type_='check')
    for column in ('max_held_places_per_customer', 'max_active_bookings_per_customer',
                   'booking_horizon_days', 'min_notice_minutes'):
        op.drop_column('offering', column)


CHECKS = (
    ('min_notice_range', 'min_notice_minutes >= 0 AND min_notice_minutes <= 525600'),
    ('booking_horizon_range', 'booking_horizon_days >= 1 AND booking_horizon_days <= 3650'),
    ('max_active_bookings_positive',
     'max_active_bookings_per_customer IS NULL OR max_active_bookings_per_customer > 0'),
    ('max_held_places_positive',
     'max_held_places_per_customer IS NULL OR max_held_places_per_customer > 0'),
)
