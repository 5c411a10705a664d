"""second_factor and recovery_code: two-factor sign-in for the console

Revision ID: 20261205_second_factor
Revises: 20261205_linked_identities
Create Date: 2026-12-05 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_second_factor'
down_revision = '20261205_linked_identities'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'second_factor',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('secret_encrypted', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_step', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['ab_user.id'],
                                name=op.f('fk_second_factor_account_id_ab_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_second_factor')))
    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['ab_user.id'],
                                name=op.f('fk_recovery_code_account_id_ab_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')))
    op.create_index(op.f('ix_recovery_code_account_id'), 'recovery_code', ['account_id'])


def downgrade():
    op.drop_index(op.f('ix_recovery_code_account_id'), table_name='recovery_code')
    op.drop_table('recovery_code')
    op.drop_table('second_factor')
