"""provider description and brand colour; pictures of offerings and provider logos

Revision ID: 20261204_h2_branding_images
Revises: 20261204_h3_console_covering
Create Date: 2026-12-04 21:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261204_h2_branding_images'
down_revision = '20261204_h3_console_covering'
branch_labels = None
depends_on = None

LOGO_ROW = sa.text("role = 'logo'")


def upgrade():
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('brand_color', sa.String(length=7), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_provider_brand_color_hex'),
            "brand_color IS NULL OR (length(brand_color) = 7 AND substr(brand_color, 1, 1) = '#')")
    op.create_table(
        'image',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        sa.Column('offering_id', sa.Integer(), nullable=True),
        sa.Column('storage_key', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=20), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('thumb_width', sa.Integer(), nullable=False),
        sa.Column('thumb_height', sa.Integer(), nullable=False),
        sa.Column('byte_size', sa.Integer(), nullable=False),
        sa.Column('alt_text', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.CheckConstraint("role IN ('logo', 'offering')", name=op.f('ck_image_role')),
        sa.CheckConstraint("(role = 'offering') = (offering_id IS NOT NULL)",
                           name=op.f('ck_image_offering_picture_has_offering')),
        sa.CheckConstraint('width > 0 AND height > 0 AND thumb_width > 0 AND thumb_height > 0',
                           name=op.f('ck_image_has_size')),
        sa.ForeignKeyConstraint(['offering_id'], ['offering.id'],
                                name=op.f('fk_image_offering_id_offering'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['provider_id'], ['provider.id'],
                                name=op.f('fk_image_provider_id_provider'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_image')),
    )
    op.create_index('ix_image_provider_id', 'image', ['provider_id'])
    op.create_index('uq_image_offering', 'image', ['offering_id'], unique=True)
    op.create_index('uq_image_provider_logo', 'image', ['provider_id'], unique=True,
                    postgresql_where=LOGO_ROW, sqlite_where=LOGO_ROW)


def downgrade():
    op.drop_index('uq_image_provider_logo', table_name='image')
    op.drop_index('uq_image_offering', table_name='image')
    op.drop_index('ix_image_provider_id', table_name='image')
    op.drop_table('image')
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_provider_brand_color_hex'), type_='check')
        batch_op.drop_column('brand_color')
        batch_op.drop_column('description')
