"""api_key: provider API keys (hashed, scoped, revocable); api_key_call: one row per call
made with a key; audit_log.api_key_id: changes made through a key name it

Revision ID: 20261206_api_keys
Revises: 20261206_webhooks
Create Date: 2026-12-06 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261206_api_keys'
down_revision = '20261206_webhooks'
branch_labels = None
depends_on = None

# Reflect only the table being copied: following its foreign keys would reflect ab_user
# too, whose index on lower(email) SQLite's reflection cannot read (an SAWarning); the
# copy needs no more of a referenced table than its name.
ONLY_THIS_TABLE = {'resolve_fks': False}


def upgrade():
    op.create_table(
        'api_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_ip', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                                name=op.f('fk_api_key_provider_id_provider'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['ab_user.id'],
                                name=op.f('fk_api_key_revoked_by_id_ab_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'],
                                name=op.f('fk_api_key_created_by_id_ab_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
        sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix')))
    op.create_index(op.f('ix_api_key_provider_id'), 'api_key', ['provider_id'])

    op.create_table(
        'api_key_call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('api_key_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('path', sa.String(length=300), nullable=False),
        sa.Column('status_code', sa.SmallInteger(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'],
                                name=op.f('fk_api_key_call_api_key_id_api_key'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                                name=op.f('fk_api_key_call_provider_id_provider'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key_call')))
    op.create_index('ix_api_key_call_key_at', 'api_key_call', ['api_key_id', 'at'])
    op.create_index(op.f('ix_api_key_call_provider_id'), 'api_key_call', ['provider_id'])
    op.create_index(op.f('ix_api_key_call_at'), 'api_key_call', ['at'])

    with op.batch_alter_table('audit_log', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_audit_log_api_key_id_api_key'), 'api_key',
                                    ['api_key_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('audit_log', schema=None, reflect_kwargs=ONLY_THIS_TABLE) as batch_op:
        batch_op.drop_constraint(op.f('fk_audit_log_api_key_id_api_key'), type_='foreignkey')
        batch_op.drop_column('api_key_id')
    op.drop_index(op.f('ix_api_key_call_at'), table_name='api_key_call')
    op.drop_index(op.f('ix_api_key_call_provider_id'), table_name='api_key_call')
    op.drop_index('ix_api_key_call_key_at', table_name='api_key_call')
    op.drop_table('api_key_call')
    op.drop_index(op.f('ix_api_key_provider_id'), table_name='api_key')
    op.drop_table('api_key')
