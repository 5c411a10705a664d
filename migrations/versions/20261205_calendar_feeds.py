"""calendar_feed: secret, revocable iCalendar feed addresses of a provider or a customer

Revision ID: 20261205_calendar_feeds
Revises: 20261205_offering_booking_rules
Create Date: 2026-12-05 12:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_calendar_feeds'
down_revision = '20261205_offering_booking_rules'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'calendar_feed',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=True),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_read_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('(provider_id IS NULL) <> (account_id IS NULL)',
                           name=op.f('ck_calendar_feed_one_owner')),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                                name=op.f('fk_calendar_feed_provider_id_provider'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['account_id'], ['ab_user.id'],
                                name=op.f('fk_calendar_feed_account_id_ab_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feed')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feed_token_hash')),
        sa.UniqueConstraint('provider_id', name=op.f('uq_calendar_feed_provider_id')),
        sa.UniqueConstraint('account_id', name=op.f('uq_calendar_feed_account_id')))


def downgrade():
    op.drop_table('calendar_feed')
