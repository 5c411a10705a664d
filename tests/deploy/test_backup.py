"""Backups and restores, run as docs/deploy.md says: `flask bookwell backup`, then
`flask bookwell restore` into a new database, then the release's `flask db upgrade`.

The rows come back with the schema's revision, the app serves them, a database that is
not empty is refused unless `--force`, and bad input is refused without changing anything.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app import backups, create_app
from app.extensions import db
from app.models import Booking, Provider
from app.services.booking_placing import place_booking
from app.services.roles import sync_roles
from tests import builders
from tests.conftest import test_settings
from tests.helpers import api_login, bearer

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = str(ROOT / "migrations")


def flask(*args: str, database_url: str, instance_dir: Path) -> subprocess.CompletedProcess:
    """`flask <args>` in the repository, configured by the environment only."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("BOOKWELL_ENV", "DATABASE_URL", "REDIS_URL", "OPENSEARCH_URL",
                          "S3_BUCKET", "RECEIPT_STORAGE_DIR", "IMAGE_STORAGE_DIR",
                          "NOTIFICATION_OUTBOX_DIR")}
    env.update(FLASK_APP="wsgi", DATABASE_URL=database_url, SECRET_KEY="test-secret",
               JWT_SECRET_KEY="test-jwt-secret", BOOKWELL_INSTANCE_DIR=str(instance_dir),
               LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)


def booking_row(database_url: str, reference: str):
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT b.status, b.quantity, p.name FROM booking b "
                "JOIN provider p ON p.id = b.provider_id WHERE b.reference = :reference"),
                {"reference": reference}).one_or_none()
    finally:
        engine.dispose()


def a_booking(name: str) -> tuple[str, str]:
    """A provider, an offering, a slot and a customer's booking, made by the services;
    returns the booking's reference and the customer's email."""
    provider = builders.provider(name=name)
    offering = builders.offering(provider, price_minor=2500, pay_at_venue=True)
    customer = builders.customer()
    placed = place_booking(customer_id=customer, offering_id=offering,
                           slot_id=builders.future_slot(offering, capacity=4), quantity=2)
    return placed.reference, builders.email_of(customer)


@pytest.fixture
def new_postgres_database(app, is_postgres):
    """An empty database on the test server, dropped afterwards."""
    if not is_postgres:
        pytest.skip("pg_dump and pg_restore need PostgreSQL: set TEST_DATABASE_URL")
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    name = f"{url.database}_restored"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.mark.postgres
def test_a_postgres_backup_restores_into_a_new_database_and_the_app_serves_it(
        app, app_ctx, new_postgres_database, tmp_path):
    source = app.config["SQLALCHEMY_DATABASE_URI"]
    reference, customer_email = a_booking("Backed Up Studio")
    dump = tmp_path / "bookwell.dump"

    backed_up = flask("bookwell", "backup", f"--output={dump}", database_url=source,
                      instance_dir=tmp_path)
    assert backed_up.returncode == 0, backed_up.stderr
    assert f"wrote {dump} (postgresql" in backed_up.stdout
    assert dump.read_bytes().startswith(b"PGDMP")

    restored = flask("bookwell", "restore", str(dump), database_url=new_postgres_database,
                     instance_dir=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "the schema is at this code's revision" in restored.stdout
    assert "flask db upgrade" in restored.stdout
    assert booking_row(new_postgres_database, reference) == ("pending", 2, "Backed Up Studio")
    assert (backups.database_revisions(new_postgres_database)
            == backups.code_heads(MIGRATIONS))

    # The release's first step has nothing left to do on a dump of the same version.
    upgraded = flask("db", "upgrade", database_url=new_postgres_database,
                     instance_dir=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Running upgrade" not in upgraded.stderr

    # The app on the restored database: the customer signs in and sees the booking.
    restored_app = create_app(test_settings(str(tmp_path),
                                            SQLALCHEMY_DATABASE_URI=new_postgres_database))
    client = restored_app.test_client()
    token = api_login(client, customer_email)["access_token"]
    listed = client.get("/api/v1/bookings", headers=bearer(token))
    assert listed.status_code == 200, listed.get_json()
    assert [item["reference"] for item in listed.get_json()] == [reference]
    with restored_app.app_context():
        db.session.execute(Provider.__table__.update().values(name="Changed Since"))
        db.session.commit()
        db.engine.dispose()

    # Over a database with tables: refused, nothing changed; with --force: replaced.
    # (The commands run in the restored app's context: the test's own app is current.)
    runner = restored_app.test_cli_runner()
    with restored_app.app_context():
        refused = runner.invoke(args=["bookwell", "restore", str(dump)])
    assert refused.exit_code == 1
    assert "the database is not empty" in refused.output and "--force" in refused.output
    assert booking_row(new_postgres_database, reference)[2] == "Changed Since"

    with restored_app.app_context():
        forced = runner.invoke(args=["bookwell", "restore", "--force", str(dump)])
    assert forced.exit_code == 0, forced.output
    assert booking_row(new_postgres_database, reference)[2] == "Backed Up Studio"

    # A table the dump does not have (a newer schema) would survive --clean: refused.
    engine = create_engine(new_postgres_database)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE added_by_a_later_release (id int)")
    engine.dispose()
    with pytest.raises(backups.BackupError, match="added_by_a_later_release"):
        backups.restore_database(new_postgres_database, dump, force=True)


@pytest.mark.postgres
def test_a_damaged_dump_changes_nothing(app, app_ctx, new_postgres_database, tmp_path):
    builders.provider(name="Only Row")
    dump = tmp_path / "whole.dump"
    backups.back_up_database(app.config["SQLALCHEMY_DATABASE_URI"], dump)
    cut = tmp_path / "cut.dump"
    cut.write_bytes(dump.read_bytes()[: dump.stat().st_size * 2 // 3])

    result = flask("bookwell", "restore", str(cut), database_url=new_postgres_database,
                   instance_dir=tmp_path)

    assert result.returncode == 1
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
    assert backups.existing_tables(new_postgres_database) == []


def test_an_embedded_backup_restores_the_database_and_the_files(app, tmp_path):
    """SQLite: the online backup API, with the receipts beside it; refused over data."""
    instance = tmp_path / "instance"
    source = f"sqlite:///{tmp_path / 'source.db'}"
    embedded = create_app(test_settings(str(instance), SQLALCHEMY_DATABASE_URI=source,
                                        REDIS_URL=None, RATELIMIT_STORAGE_URI="memory://"))
    embedded.extensions["bookwell.redis"] = app.extensions.get("bookwell.redis")
    with embedded.app_context():
        upgrade()
        sync_roles(embedded.appbuilder)
        reference, _ = a_booking("Embedded Studio")
        db.engine.dispose()
    receipt = instance / "receipts" / "2026" / "R-0001.pdf"
    receipt.parent.mkdir(parents=True)
    receipt.write_bytes(b"%PDF-1.4 receipt")
    dump = tmp_path / "embedded.sqlite3"

    backed_up = flask("bookwell", "backup", f"--output={dump}", "--with-files",
                      database_url=source, instance_dir=instance)
    assert backed_up.returncode == 0, backed_up.stderr
    archive = tmp_path / "embedded.files.tar.gz"
    assert f"wrote {archive} (1 files" in backed_up.stdout

    target = f"sqlite:///{tmp_path / 'restored.db'}"
    elsewhere = tmp_path / "restored-instance"
    # A bad files archive stops the restore before the database is touched.
    bad_archive = tmp_path / "notes.files.tar.gz"
    bad_archive.write_text("not an archive")
    stopped = flask("bookwell", "restore", str(dump), f"--files={bad_archive}",
                    database_url=target, instance_dir=elsewhere)
    assert stopped.returncode == 1 and "is not a files archive" in stopped.stderr
    assert not (tmp_path / "restored.db").exists() or backups.existing_tables(target) == []

    restored = flask("bookwell", "restore", str(dump), f"--files={archive}",
                     database_url=target, instance_dir=elsewhere)
    assert restored.returncode == 0, restored.stderr
    assert booking_row(target, reference) == ("pending", 2, "Embedded Studio")
    assert (elsewhere / "receipts" / "2026" / "R-0001.pdf").read_bytes() == receipt.read_bytes()

    with pytest.raises(backups.BackupError, match="the database is not empty"):
        backups.restore_database(source, dump, force=False)


def test_bad_input_is_refused_with_the_reason_and_changes_nothing(app, app_ctx, build,
                                                                   tmp_path):
    reference = place_booking(
        customer_id=build.customer(), offering_id=(offering := build.offering(
            build.provider())), slot_id=build.future_slot(offering)).reference
    runner = app.test_cli_runner()
    not_a_backup = tmp_path / "notes.dump"
    not_a_backup.write_text("these are not the rows you are looking for")
    other_kind = tmp_path / "other-kind.bin"
    other_kind.write_bytes(b"PGDMP" if not app.config["SQLALCHEMY_DATABASE_URI"].startswith(
        "postgresql") else b"SQLite format 3\x00" + bytes(100))
    own_kind = tmp_path / "own-kind.backup"
    made = runner.invoke(args=["bookwell", "backup", f"--output={own_kind}"])
    assert made.exit_code == 0, made.output

    cases = {
        str(tmp_path / "missing.dump"): "does not exist",
        str(not_a_backup): "is not a Bookwell backup",
        str(other_kind): "backup; the configured database is",
        str(own_kind): "the database is not empty",
    }
    for path, reason in cases.items():
        result = runner.invoke(args=["bookwell", "restore", path])
        assert result.exit_code == 1, (path, result.output)
        assert reason in result.output, (path, result.output)
    again = runner.invoke(args=["bookwell", "backup", f"--output={own_kind}"])
    assert again.exit_code == 1 and "is never overwritten" in again.output
    assert db.session.scalar(select(Booking.reference)) == reference


def test_check_backup_reads_the_revision_of_a_backup(app, tmp_path):
    runner = app.test_cli_runner()
    dump = tmp_path / "checked.backup"
    assert runner.invoke(args=["bookwell", "backup", f"--output={dump}"]).exit_code == 0
    checked = runner.invoke(args=["bookwell", "check-backup", str(dump)])
    assert checked.exit_code == 0, checked.output
    assert backups.code_heads(MIGRATIONS)[0] in checked.output
    assert "booking" in checked.output.split("tables: ")[1].split(", ")


def test_the_password_goes_to_pg_tools_in_the_environment_not_the_command_line():
    target, env = backups.libpq_target(
        "postgresql+psycopg://bookwell:p%40ss%2Fw0rd@db.internal:5433/bookwell?sslmode=require")
    assert target == "postgresql://bookwell@db.internal:5433/bookwell?sslmode=require"
    assert env == {"PGPASSWORD": "p@ss/w0rd"}
    assert backups.libpq_target("postgresql+psycopg://postgres@127.0.0.1/x")[1] == {}


def test_a_files_archive_never_writes_outside_its_folder(tmp_path):
    archive_path = tmp_path / "evil.files.tar.gz"
    with tarfile.open(archive_path, "w:gz") as archive:
        for name in ("receipts/fine.pdf", "receipts/../../escaped.txt"):
            member = tarfile.TarInfo(name)
            member.size = 4
            archive.addfile(member, io.BytesIO(b"data"))
    areas = backups.FileAreas(folders={"receipts": tmp_path / "instance" / "receipts"})

    with pytest.raises(backups.BackupError, match="outside its folder"):
        backups.restore_files(areas, archive_path, force=False)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "instance" / "receipts" / "fine.pdf").exists()


def test_a_files_archive_made_with_tar_of_the_whole_folder_restores(tmp_path):
    """Compose's `tar -czf - -C /var/lib/bookwell .` names its files ./receipts/..."""
    archive_path = tmp_path / "compose.files.tar.gz"
    with tarfile.open(archive_path, "w:gz") as archive:
        member = tarfile.TarInfo("./receipts/2026/R-0002.pdf")
        member.size = 3
        archive.addfile(member, io.BytesIO(b"pdf"))
    receipts = tmp_path / "instance" / "receipts"
    areas = backups.FileAreas(folders={"receipts": receipts})

    assert backups.restore_files(areas, archive_path, force=False) == 1
    assert (receipts / "2026" / "R-0002.pdf").read_bytes() == b"pdf"
    with pytest.raises(backups.BackupError, match="not empty"):
        backups.restore_files(areas, archive_path, force=False)
