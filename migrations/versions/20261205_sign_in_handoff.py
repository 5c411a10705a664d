"""sign_in_handoff: short-lived single-use values between two requests of a social sign-in

Revision ID: 20261205_sign_in_handoff
Revises: 20261205_placed_as_guest
Create Date: 2026-12-05 11:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_sign_in_handoff'
down_revision = '20261205_placed_as_guest'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_in_handoff',
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('payload', sa.Text(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['ab_user.id'],
                                name=op.f('fk_sign_in_handoff_account_id_ab_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('key_hash', name=op.f('pk_sign_in_handoff')))
    op.create_index(op.f('ix_sign_in_handoff_expires_at'), 'sign_in_handoff', ['expires_at'])
    op.create_index(op.f('ix_sign_in_handoff_account_id'), 'sign_in_handoff', ['account_id'])


def downgrade():
    op.drop_index(op.f('ix_sign_in_handoff_account_id'), table_name='sign_in_handoff')
    op.drop_index(op.f('ix_sign_in_handoff_expires_at'), table_name='sign_in_handoff')
    op.drop_table('sign_in_handoff')
