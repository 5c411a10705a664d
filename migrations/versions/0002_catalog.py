"""catalog and availability

Revision ID: 0002_catalog
Revises: 0001_foundation
Create Date: 2026-11-27 00:15:56.620807

"""
from alembic import op
import sqlalchemy as sa

# Full-text search over offerings. PostgreSQL: a GIN index on the same expression the
# search backend queries. SQLite (embedded mode): an FTS5 table kept in step by triggers.
PG_SEARCH_EXPRESSION = (
    "to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(description, ''))"
)
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE offering_fts USING fts5(name, description, "
    "content='offering', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER offering_fts_insert AFTER INSERT ON offering BEGIN "
    "INSERT INTO offering_fts(rowid, name, description) "
    "VALUES (new.id, new.name, new.description); END",
    "CREATE TRIGGER offering_fts_delete AFTER DELETE ON offering BEGIN "
    "INSERT INTO offering_fts(offering_fts, rowid, name, description) "
    "VALUES ('delete', old.id, old.name, old.description); END",
    "CREATE TRIGGER offering_fts_update AFTER UPDATE OF name, description ON offering BEGIN "
    "INSERT INTO offering_fts(offering_fts, rowid, name, description) "
    "VALUES ('delete', old.id, old.name, old.description); "
    "INSERT INTO offering_fts(rowid, name, description) "
    "VALUES (new.id, new.name, new.description); END",
]


# revision identifiers, used by Alembic.
revision = '0002_catalog'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['category.id'], name=op.f('fk_category_parent_id_category'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_category_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category'))
    )
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_category_provider_id'), ['provider_id'], unique=False)

    op.create_table('location',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('place_id', sa.String(length=255), nullable=True),
    sa.Column('geocoded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('geocode_status', sa.String(length=20), nullable=False),
    sa.Column('geocode_error', sa.String(length=500), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('lat IS NULL OR (lat >= -90 AND lat <= 90)', name=op.f('ck_location_lat_range')),
    sa.CheckConstraint('lng IS NULL OR (lng >= -180 AND lng <= 180)', name=op.f('ck_location_lng_range')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_location_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location'))
    )
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.create_index('ix_location_lat_lng', ['lat', 'lng'], unique=False)
        batch_op.create_index(batch_op.f('ix_location_provider_id'), ['provider_id'], unique=False)

    op.create_table('offering',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('image_urls', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind = 'product' OR (duration_minutes IS NOT NULL AND duration_minutes > 0)", name=op.f('ck_offering_service_has_duration')),
    sa.CheckConstraint("kind IN ('service', 'product')", name=op.f('ck_offering_kind')),
    sa.CheckConstraint('price_minor >= 0', name=op.f('ck_offering_price_not_negative')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_offering_category_id_category'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_offering_location_id_location'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_offering_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offering'))
    )
    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.create_index('ix_offering_active_price', ['active', 'price_minor'], unique=False)
        batch_op.create_index(batch_op.f('ix_offering_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offering_location_id'), ['location_id'], unique=False)
        batch_op.create_index('ix_offering_provider_active', ['provider_id', 'active'], unique=False)
        batch_op.create_index(batch_op.f('ix_offering_provider_id'), ['provider_id'], unique=False)

    op.create_table('availability_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_availability_rule_capacity_positive')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_availability_rule_end_after_start')),
    sa.CheckConstraint('slot_minutes > 0', name=op.f('ck_availability_rule_slot_minutes_positive')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_availability_rule_valid_range')),
    sa.CheckConstraint('weekday >= 0 AND weekday <= 6', name=op.f('ck_availability_rule_weekday_range')),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_availability_rule_offering_id_offering'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_availability_rule_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_rule'))
    )
    with op.batch_alter_table('availability_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_rule_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_availability_rule_provider_id'), ['provider_id'], unique=False)

    op.create_table('closed_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_closed_day_offering_id_offering'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_closed_day_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closed_day')),
    sa.UniqueConstraint('provider_id', 'offering_id', 'day', name='uq_closed_day')
    )
    with op.batch_alter_table('closed_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closed_day_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_closed_day_provider_id'), ['provider_id'], unique=False)

    op.create_table('slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name=op.f('ck_slot_booked_within_capacity')),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_slot_capacity_positive')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_slot_ends_after_start')),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_slot_offering_id_offering'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_slot_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot')),
    sa.UniqueConstraint('offering_id', 'starts_at', name='uq_slot_offering_start')
    )
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slot_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_slot_starts_at', ['starts_at'], unique=False)

    op.create_table('variant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=True),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('price_minor IS NULL OR price_minor >= 0', name=op.f('ck_variant_price_not_negative')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_variant_stock_not_negative')),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_variant_offering_id_offering'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_variant_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variant')),
    sa.UniqueConstraint('provider_id', 'sku', name='uq_variant_provider_sku')
    )
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variant_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_variant_provider_id'), ['provider_id'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"CREATE INDEX ix_offering_search ON offering USING GIN ({PG_SEARCH_EXPRESSION})")
    elif dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_offering_search")
    elif dialect == "sqlite":
        for name in ("offering_fts_insert", "offering_fts_delete", "offering_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS offering_fts")
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variant_provider_id'))
        batch_op.drop_index(batch_op.f('ix_variant_offering_id'))

    op.drop_table('variant')
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_index('ix_slot_starts_at')
        batch_op.drop_index(batch_op.f('ix_slot_provider_id'))

    op.drop_table('slot')
    with op.batch_alter_table('closed_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closed_day_provider_id'))
        batch_op.drop_index(batch_op.f('ix_closed_day_offering_id'))

    op.drop_table('closed_day')
    with op.batch_alter_table('availability_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_rule_provider_id'))
        batch_op.drop_index(batch_op.f('ix_availability_rule_offering_id'))

    op.drop_table('availability_rule')
    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offering_provider_id'))
        batch_op.drop_index('ix_offering_provider_active')
        batch_op.drop_index(batch_op.f('ix_offering_location_id'))
        batch_op.drop_index(batch_op.f('ix_offering_category_id'))
        batch_op.drop_index('ix_offering_active_price')

    op.drop_table('offering')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_provider_id'))
        batch_op.drop_index('ix_location_lat_lng')

    op.drop_table('location')
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_provider_id'))
        batch_op.drop_index(batch_op.f('ix_category_parent_id'))

    op.drop_table('category')
