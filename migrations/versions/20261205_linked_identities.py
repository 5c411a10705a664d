"""ab_user.email_verified_at and linked_identity: verified addresses and social sign-in

Revision ID: 20261205_linked_identities
Revises: 20261205_receipt_anonymised
Create Date: 2026-12-05 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_linked_identities'
down_revision = '20261205_receipt_anonymised'
branch_labels = None
depends_on = None


# SQLite rebuilds ab_user to change it (copy and rename), from what SQLAlchemy reflects;
# it cannot reflect an index on an expression (it warns and leaves it out), so the
# case-insensitive email index is dropped first and made again after the rebuild.
EMAIL_INDEX = 'uq_ab_user_email_lower'


def _rebuilds_ab_user():
    return op.get_bind().dialect.name == 'sqlite'


def _drop_email_index():
    if _rebuilds_ab_user():
        op.drop_index(EMAIL_INDEX, table_name='ab_user')


def _create_email_index():
    if _rebuilds_ab_user():
        op.create_index(EMAIL_INDEX, 'ab_user', [sa.text('lower(email)')], unique=True)


def upgrade():
    # Existing addresses were never proven: they start unverified.
    op.add_column('ab_user', sa.Column('email_verified_at', sa.DateTime(timezone=True),
                                       nullable=True))
    op.create_table(
        'linked_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['ab_user.id'],
                                name=op.f('fk_linked_identity_account_id_ab_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_linked_identity')),
        sa.UniqueConstraint('provider', 'subject', name='uq_linked_identity_subject'))
    op.create_index(op.f('ix_linked_identity_account_id'), 'linked_identity', ['account_id'])


def downgrade():
    op.drop_index(op.f('ix_linked_identity_account_id'), table_name='linked_identity')
    op.drop_table('linked_identity')
    _drop_email_index()
    with op.batch_alter_table('ab_user') as batch:
        batch.drop_column('email_verified_at')
    _create_email_index()
