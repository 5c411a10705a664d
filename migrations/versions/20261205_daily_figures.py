"""bookings and slot places per UTC day and provider, kept by triggers, for platform-wide figures; bookings by (start, id)

Revision ID: 20261205_daily_figures
Revises: 20261204_h2_branding_images
Create Date: 2026-12-05 00:45:00

Each change to a booking or slot appends a delta row in the same transaction (see
app/models/daily_figures.py). PostgreSQL: one statement-level trigger per operation with
transition tables, so a bulk INSERT … SELECT appends one row per day and provider, not one
per booking. SQLite (embedded mode): row-level triggers. Existing rows are added up into
the totals here.

ix_booking_starts gains the id: every-provider lists ordered by (start, id) read only their
page instead of every booking of the period.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_daily_figures'
down_revision = '20261204_h2_branding_images'
branch_labels = None
depends_on = None

DELTA_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPERATIONS = ("insert", "update", "delete")

# What one booking or slot row adds to its day: the day is the UTC date of its start.
BOOKING_ROW = ("(starts_at AT TIME ZONE 'UTC')::date, provider_id, status, currency, "
               "{sign} 1, {sign} total_minor")
SLOT_ROW = ("(starts_at AT TIME ZONE 'UTC')::date, provider_id, {sign} booked, "
            "{sign} CASE WHEN retired_at IS NULL OR booked > 0 THEN capacity ELSE 0 END")

POSTGRES_FUNCTION = """
CREATE FUNCTION {table}_day_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {table}_day_delta ({columns})
        SELECT {keys}, sum(n1), sum(n2) FROM (
            SELECT {plus} FROM new_rows WHERE starts_at IS NOT NULL
        ) AS change ({names}) GROUP BY {keys};
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {table}_day_delta ({columns})
        SELECT {keys}, sum(n1), sum(n2) FROM (
            SELECT {minus} FROM old_rows WHERE starts_at IS NOT NULL
        ) AS change ({names}) GROUP BY {keys};
    ELSE
        INSERT INTO {table}_day_delta ({columns})
        SELECT {keys}, sum(n1), sum(n2) FROM (
            SELECT {minus} FROM old_rows WHERE starts_at IS NOT NULL
            UNION ALL
            SELECT {plus} FROM new_rows WHERE starts_at IS NOT NULL
        ) AS change ({names}) GROUP BY {keys}
        HAVING sum(n1) <> 0 OR sum(n2) <> 0;
    END IF;
    RETURN NULL;
END $$;
"""
# TRUNCATE fires no delete trigger: it empties the day rows of the table with it.
POSTGRES_TRUNCATE_FUNCTION = """
CREATE FUNCTION {table}_day_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {table}_day_total;
    DELETE FROM {table}_day_delta;
    RETURN NULL;
END $$;
"""
POSTGRES_TRIGGERS = {
    "insert": "AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows",
    "update": "AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows",
}

SQLITE_ROW = {
    "booking": "date({row}.starts_at), {row}.provider_id, {row}.status, {row}.currency, "
               "{sign}1, {sign}{row}.total_minor",
    "slot": "date({row}.starts_at), {row}.provider_id, {sign}{row}.booked, "
            "{sign}(CASE WHEN {row}.retired_at IS NULL OR {row}.booked > 0 "
            "THEN {row}.capacity ELSE 0 END)",
}
SQLITE_WATCHED = {
    "booking": "starts_at, status, currency, total_minor, provider_id",
    "slot": "starts_at, booked, capacity, retired_at, provider_id",
}

TABLES = {
    "booking": ("day, provider_id, status, currency, bookings, total_minor",
                "day, provider_id, status, currency", BOOKING_ROW),
    "slot": ("day, provider_id, booked, capacity", "day, provider_id", SLOT_ROW),
}


def _postgres_triggers():
    for table, (columns, keys, row) in TABLES.items():
        # A change row: the keys, then the two amounts as n1 and n2.
        op.execute(POSTGRES_FUNCTION.format(
            table=table, columns=columns, keys=keys, names=f"{keys}, n1, n2",
            plus=row.format(sign=""), minus=row.format(sign="-")))
        for operation in OPERATIONS:
            op.execute(f"CREATE TRIGGER {table}_day_delta_{operation} "
                       f"{POSTGRES_TRIGGERS[operation].format(table=table)} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_day_delta()")
        op.execute(POSTGRES_TRUNCATE_FUNCTION.format(table=table))
        op.execute(f"CREATE TRIGGER {table}_day_truncate AFTER TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_day_truncate()")


def _sqlite_triggers():
    for table, (columns, _, _) in TABLES.items():
        plus = SQLITE_ROW[table].format(row="NEW", sign="")
        minus = SQLITE_ROW[table].format(row="OLD", sign="-")
        insert = f"INSERT INTO {table}_day_delta ({columns})"
        op.execute(f"CREATE TRIGGER {table}_day_delta_insert AFTER INSERT ON {table} "
                   f"WHEN NEW.starts_at IS NOT NULL BEGIN {insert} VALUES ({plus}); END")
        op.execute(f"CREATE TRIGGER {table}_day_delta_delete AFTER DELETE ON {table} "
                   f"WHEN OLD.starts_at IS NOT NULL BEGIN {insert} VALUES ({minus}); END")
        op.execute(f"CREATE TRIGGER {table}_day_delta_update AFTER UPDATE OF "
                   f"{SQLITE_WATCHED[table]} ON {table} BEGIN "
                   f"{insert} SELECT {minus} WHERE OLD.starts_at IS NOT NULL; "
                   f"{insert} SELECT {plus} WHERE NEW.starts_at IS NOT NULL; END")


def upgrade():
    op.create_table(
        'booking_day_total',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('bookings', sa.BigInteger(), nullable=False),
        sa.Column('total_minor', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'provider_id', 'status', 'currency',
                                name=op.f('pk_booking_day_total')))
    op.create_table(
        'booking_day_delta',
        sa.Column('id', DELTA_ID, autoincrement=True, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('bookings', sa.BigInteger(), nullable=False),
        sa.Column('total_minor', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_day_delta')))
    op.create_table(
        'slot_day_total',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('booked', sa.BigInteger(), nullable=False),
        sa.Column('capacity', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'provider_id', name=op.f('pk_slot_day_total')))
    op.create_table(
        'slot_day_delta',
        sa.Column('id', DELTA_ID, autoincrement=True, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('booked', sa.BigInteger(), nullable=False),
        sa.Column('capacity', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_slot_day_delta')))
    postgres = op.get_bind().dialect.name == "postgresql"
    day = "(starts_at AT TIME ZONE 'UTC')::date" if postgres else "date(starts_at)"
    op.execute(f"""
        INSERT INTO booking_day_total (day, provider_id, status, currency, bookings, total_minor)
        SELECT {day}, provider_id, status, currency, count(*), sum(total_minor)
        FROM booking WHERE starts_at IS NOT NULL
        GROUP BY {day}, provider_id, status, currency""")
    op.execute(f"""
        INSERT INTO slot_day_total (day, provider_id, booked, capacity)
        SELECT {day}, provider_id, sum(booked),
               sum(CASE WHEN retired_at IS NULL OR booked > 0 THEN capacity ELSE 0 END)
        FROM slot GROUP BY {day}, provider_id""")
    if postgres:
        _postgres_triggers()
    else:
        _sqlite_triggers()
    _index_bookings_by_start(['starts_at', 'id'])


def _index_bookings_by_start(columns):
    op.drop_index('ix_booking_starts', table_name='booking')
    op.create_index('ix_booking_starts', 'booking', columns,
                    postgresql_include=['provider_id', 'status', 'currency', 'total_minor'])


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    _index_bookings_by_start(['starts_at'])
    for table in TABLES:
        for operation in OPERATIONS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_day_delta_{operation}"
                       + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_day_truncate ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_day_delta()")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_day_truncate()")
    for table in ('slot_day_delta', 'slot_day_total', 'booking_day_delta', 'booking_day_total'):
        op.drop_table(table)
