"""waitlist_entry: customers in line for a full time, and their offers

Revision ID: 20261205_waitlist
Revises: 20261205_calendar_feeds
Create Date: 2026-12-05 17:25:10.911163

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_waitlist'
down_revision = '20261205_calendar_feeds'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('waitlist_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status <> 'offered' OR booking_id IS NOT NULL", name=op.f('ck_waitlist_entry_offer_has_booking')),
    sa.CheckConstraint("status IN ('waiting', 'offered', 'booked', 'expired', 'left')", name=op.f('ck_waitlist_entry_status_known')),
    sa.CheckConstraint('quantity >= 1', name=op.f('ck_waitlist_entry_quantity_positive')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_waitlist_entry_booking_id_booking'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['ab_user.id'], name=op.f('fk_waitlist_entry_customer_id_ab_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_waitlist_entry_offering_id_offering'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_waitlist_entry_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_waitlist_entry_slot_id_slot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entry'))
    )
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entry_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_waitlist_entry_customer', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entry_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_waitlist_entry_slot_status', ['slot_id', 'status', 'id'], unique=False)
        batch_op.create_index('uq_waitlist_entry_in_line', ['slot_id', 'customer_id'], unique=True, postgresql_where=sa.text("status IN ('waiting', 'offered')"), sqlite_where=sa.text("status IN ('waiting', 'offered')"))



def downgrade():
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_index('uq_waitlist_entry_in_line', postgresql_where=sa.text("status IN ('waiting', 'offered')"), sqlite_where=sa.text("status IN ('waiting', 'offered')"))
        batch_op.drop_index('ix_waitlist_entry_slot_status')
        batch_op.drop_index(batch_op.f('ix_waitlist_entry_provider_id'))
        batch_op.drop_index('ix_waitlist_entry_customer')
        batch_op.drop_index(batch_op.f('ix_waitlist_entry_booking_id'))

    op.drop_table('waitlist_entry')
