"""bookings, outbox, idempotency

Revision ID: 0004_bookings
Revises: 0002_catalog
Create Date: 2026-11-27 00:52:42.849376

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_bookings'
down_revision = '0002_catalog'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_event',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_outbox_event_provider_id_provider'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_event'))
    )
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_event_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_outbox_event_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_event_topic'), ['topic'], unique=False)

    op.create_table('consumed_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consumer', sa.String(length=120), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_event.id'], name=op.f('fk_consumed_event_event_id_outbox_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consumed_event')),
    sa.UniqueConstraint('consumer', 'event_id', name='uq_consumed_event')
    )
    with op.batch_alter_table('consumed_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consumed_event_event_id'), ['event_id'], unique=False)

    op.create_table('idempotency_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('endpoint', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name=op.f('fk_idempotency_record_user_id_ab_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('user_id', 'key', name='uq_idempotency_user_key')
    )
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_record_created_at'), ['created_at'], unique=False)

    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('pay_at_venue', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hold_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'completed', 'no_show', 'expired', 'cancelled', 'refunded')", name=op.f('ck_booking_status_known')),
    sa.CheckConstraint('quantity >= 1', name=op.f('ck_booking_quantity_positive')),
    sa.CheckConstraint('slot_id IS NOT NULL OR variant_id IS NOT NULL', name=op.f('ck_booking_has_a_target')),
    sa.CheckConstraint('total_minor >= 0', name=op.f('ck_booking_total_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['ab_user.id'], name=op.f('fk_booking_customer_id_ab_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_booking_offering_id_offering'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_booking_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_booking_slot_id_slot'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_booking_variant_id_variant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking')),
    sa.UniqueConstraint('reference', name=op.f('uq_booking_reference'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_customer_created', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_booking_provider_starts', ['provider_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index('ix_booking_status_hold', ['status', 'hold_expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_variant_id'), ['variant_id'], unique=False)

    op.create_table('attribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('utm_source', sa.String(length=200), nullable=True),
    sa.Column('utm_medium', sa.String(length=200), nullable=True),
    sa.Column('utm_campaign', sa.String(length=200), nullable=True),
    sa.Column('utm_term', sa.String(length=200), nullable=True),
    sa.Column('utm_content', sa.String(length=200), nullable=True),
    sa.Column('ttclid', sa.String(length=200), nullable=True),
    sa.Column('landing_url', sa.String(length=2000), nullable=True),
    sa.Column('referrer', sa.String(length=2000), nullable=True),
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_attribution_booking_id_booking'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attribution')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_attribution_booking_id'))
    )
    op.create_table('booking_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['ab_user.id'], name=op.f('fk_booking_history_actor_id_ab_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_booking_history_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_booking_history_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_history'))
    )
    with op.batch_alter_table('booking_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_history_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_history_provider_id'), ['provider_id'], unique=False)

    # Plain ADD COLUMN, not batch mode: on SQLite a batch rebuild of the table would drop
    # the full-text triggers that migration 0002 put on it.
    op.add_column('offering', sa.Column('pay_at_venue', sa.Boolean(),
                                        server_default=sa.false(), nullable=False))
    op.add_column('offering', sa.Column('free_cancellation_hours', sa.Integer(),
                                        server_default='24', nullable=False))



def downgrade():
    op.drop_column('offering', 'free_cancellation_hours')  # SQLite 3.35+ drops in place
    op.drop_column('offering', 'pay_at_venue')

    with op.batch_alter_table('booking_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_history_provider_id'))
        batch_op.drop_index(batch_op.f('ix_booking_history_booking_id'))

    op.drop_table('booking_history')
    op.drop_table('attribution')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_variant_id'))
        batch_op.drop_index('ix_booking_status_hold')
        batch_op.drop_index(batch_op.f('ix_booking_slot_id'))
        batch_op.drop_index('ix_booking_provider_starts')
        batch_op.drop_index(batch_op.f('ix_booking_provider_id'))
        batch_op.drop_index(batch_op.f('ix_booking_offering_id'))
        batch_op.drop_index('ix_booking_customer_created')

    op.drop_table('booking')
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_record_created_at'))

    op.drop_table('idempotency_record')
    with op.batch_alter_table('consumed_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consumed_event_event_id'))

    op.drop_table('consumed_event')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_event_topic'))
        batch_op.drop_index('ix_outbox_event_status_created')
        batch_op.drop_index(batch_op.f('ix_outbox_event_provider_id'))

    op.drop_table('outbox_event')
