"""outgoing webhooks: endpoints (per provider, or the platform's with provider_id NULL),
one delivery per event and endpoint (unique: fan-out is idempotent), every attempt logged

Revision ID: 20261206_webhooks
Revises: 20261206_paypal_gateway
Create Date: 2026-12-06 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_webhooks'
down_revision = '20261206_paypal_gateway'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_endpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.String(length=300), server_default='', nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('ordered', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('version', sa.String(length=8), server_default='1', nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('previous_secret', sa.String(length=100), nullable=True),
    sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('slow_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sa.String(length=500), nullable=True),
    sa.Column('listening_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("version IN ('1')", name=op.f('ck_webhook_endpoint_version_known')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_webhook_endpoint_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint'))
    )
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoint_provider_id'), ['provider_id'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.String(length=36), nullable=True),
    sa.Column('message_id', sa.String(length=40), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed', 'cancelled')", name=op.f('ck_webhook_delivery_status_known')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], name=op.f('fk_webhook_delivery_endpoint_id_webhook_endpoint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_webhook_delivery_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    sa.UniqueConstraint('endpoint_id', 'event_id', name='uq_webhook_delivery_endpoint_event'),
    sa.UniqueConstraint('message_id', name=op.f('uq_webhook_delivery_message_id'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_endpoint_created', ['endpoint_id', 'created_at'], unique=False)
        batch_op.create_index('ix_webhook_delivery_endpoint_order', ['endpoint_id', 'occurred_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_webhook_delivery_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('webhook_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_headers', sa.JSON(), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_excerpt', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('error_kind', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_delivery.id'], name=op.f('fk_webhook_attempt_delivery_id_webhook_delivery'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_webhook_attempt_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempt'))
    )
    with op.batch_alter_table('webhook_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_attempt_delivery_attempted', ['delivery_id', 'attempted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_attempt_provider_id'), ['provider_id'], unique=False)



def downgrade():
    with op.batch_alter_table('webhook_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_attempt_provider_id'))
        batch_op.drop_index('ix_webhook_attempt_delivery_attempted')

    op.drop_table('webhook_attempt')
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_status_next')
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_provider_id'))
        batch_op.drop_index('ix_webhook_delivery_endpoint_order')
        batch_op.drop_index('ix_webhook_delivery_endpoint_created')

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_endpoint_provider_id'))

    op.drop_table('webhook_endpoint')
