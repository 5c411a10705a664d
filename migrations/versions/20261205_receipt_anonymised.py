"""receipt.personal_data_removed_at: the customer was erased; the PDF is printed without them

Revision ID: 20261205_receipt_anonymised
Revises: 20261205_sign_in_sessions
Create Date: 2026-12-05 01:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_receipt_anonymised'
down_revision = '20261205_sign_in_sessions'
branch_labels = None
depends_on = None

# Reflect only the table being copied: following its foreign keys would reflect ab_user
# too, whose index on lower(email) SQLite's reflection cannot read (an SAWarning); the
# copy needs no more of a referenced table than its name.
ONLY_THIS_TABLE = {'resolve_fks': False}


def upgrade():
    with op.batch_alter_table('receipt', reflect_kwargs=ONLY_THIS_TABLE) as batch:
        batch.add_column(sa.Column('personal_data_removed_at', sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade():
    with op.batch_alter_table('receipt', reflect_kwargs=ONLY_THIS_TABLE) as batch:
        batch.drop_column('personal_data_removed_at')
