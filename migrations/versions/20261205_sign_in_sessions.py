"""sign_in_session: each sign-in (API token pair, shop or console session), listed and ended by its account

Revision ID: 20261205_sign_in_sessions
Revises: 20261205_password_changed_at
Create Date: 2026-12-05 01:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_sign_in_sessions'
down_revision = '20261205_password_changed_at'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_in_session',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('device', sa.String(length=200), nullable=False),
        sa.Column('address', sa.String(length=45), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['ab_user.id'],
                                name=op.f('fk_sign_in_session_account_id_ab_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_session')))
    op.create_index(op.f('ix_sign_in_session_account_id'), 'sign_in_session', ['account_id'])


def downgrade():
    op.drop_index(op.f('ix_sign_in_session_account_id'), table_name='sign_in_session')
    op.drop_table('sign_in_session')
