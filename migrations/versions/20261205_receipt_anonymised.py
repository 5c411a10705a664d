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


def upgrade():
    with op.batch_alter_table('receipt') as batch:
        batch.add_column(sa.Column('personal_data_removed_at', sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade():
    with op.batch_alter_table('receipt') as batch:
        batch.drop_column('personal_data_removed_at')
