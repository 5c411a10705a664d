"""outbox_event.trace_context: the W3C trace context (traceparent) an event was published
in, so that the job delivering it joins the trace of the request that caused it; NULL when
tracing is off

Revision ID: 20261206_trace_context
Revises: 20261206_webhooks_pending
Create Date: 2026-12-06 16:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_trace_context'
down_revision = '20261206_webhooks_pending'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, no default: on PostgreSQL adding it rewrites nothing and takes its lock
    # only for a moment.
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trace_context', sa.String(length=55), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_column('trace_context')
