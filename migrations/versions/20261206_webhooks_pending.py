"""outbox_event.webhooks_pending: an event waiting for the webhook fan-out, which reads
the outbox itself (a partial index on the marked rows) instead of taking a job per event

Events that were still waiting for a worker when this runs (queued or retrying) are marked,
so that the fan-out, no longer one of their handlers, still sees them; it sends only what an
endpoint subscribed to, and never twice.

Revision ID: 20261206_webhooks_pending
Revises: 20261206_email_index_sqlite
Create Date: 2026-12-06 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_webhooks_pending'
down_revision = '20261206_email_index_sqlite'
branch_labels = None
depends_on = None

PENDING = sa.text('webhooks_pending')


def upgrade():
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhooks_pending', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index('ix_outbox_event_webhooks_pending', ['created_at'],
                              unique=False, postgresql_where=PENDING, sqlite_where=PENDING)
    op.execute("UPDATE outbox_event SET webhooks_pending = true "
               "WHERE status IN ('queued', 'retrying')")


def downgrade():
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_event_webhooks_pending')
        batch_op.drop_column('webhooks_pending')
