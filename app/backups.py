"""Backups of the database and of the files kept on local disk, and restoring them.

- PostgreSQL: ``pg_dump --format=custom``, restored by ``pg_restore`` in one transaction.
  The password travels in ``PGPASSWORD``, never on a command line other users can read.
- Embedded mode (SQLite): SQLite's online backup API, a consistent copy even while the
  app writes (copying the file could catch a half-written page).
- Files: receipts, pictures and the message outbox, when they are kept in local folders
  (not in an S3 bucket), go to a ``.files.tar.gz`` archive beside the dump.

Everything here checks before it writes: a missing, truncated or foreign file, or a
database that is not empty, raises ``BackupError`` with the reason and changes nothing.
"""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

PG_DUMP_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
FILES_SUFFIX = ".files.tar.gz"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; nothing was changed."""


@dataclass
class DumpSummary:
    """What a backup file holds."""

    kind: str  # "postgresql" or "sqlite"
    tables: list[str]
    revisions: list[str]  # alembic_version's rows: the schema's migration revision(s)


@dataclass
class FileAreas:
    """The local folders whose files belong in a backup (name in the archive -> folder)."""

    folders: dict[str, Path] = field(default_factory=dict)
    in_bucket: list[str] = field(default_factory=list)  # areas kept in S3 instead


def database_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend in ("postgresql", "sqlite"):
        return backend
    raise BackupError(f"cannot back up a {backend} database: only PostgreSQL and SQLite")


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL of a SQLAlchemy one (``postgresql+psycopg://`` -> ``postgresql://``),
    without its password, and the environment that carries the password."""
    parsed = make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    plain = URL.create("postgresql", username=parsed.username, host=parsed.host,
                       port=parsed.port, database=parsed.database, query=parsed.query)
    return plain.render_as_string(hide_password=False), env


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, env={**os.environ, **env}, capture_output=True,
                              text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} is not installed (the PostgreSQL client tools, "
                          f"the same major version as the server or newer)") from exc


def _failed(what: str, result: subprocess.CompletedProcess) -> BackupError:
    detail = (result.stderr or result.stdout).strip()
    return BackupError(f"{what} failed (exit {result.returncode}): {detail}")


# --- backing up -------------------------------------------------------------------------

def back_up_database(url: str, output: Path) -> DumpSummary:
    """Write the database to ``output`` and read it back; a failure leaves no file behind
    that could be mistaken for a backup."""
    if output.exists():
        raise BackupError(f"{output} exists: choose another name (a backup is never "
                          "overwritten)")
    if not output.parent.is_dir():
        raise BackupError(f"{output.parent} is not a folder")
    with _written_whole(output) as partial:
        if database_kind(url) == "postgresql":
            target, env = libpq_target(url)
            result = _run(["pg_dump", "--format=custom", f"--file={partial}",
                           f"--dbname={target}"], env)
            if result.returncode:
                raise _failed("pg_dump", result)
        else:
            _sqlite_copy(sqlite_path(url), partial, source_must_exist=True)
        return inspect_backup(partial)


@contextmanager
def _written_whole(output: Path) -> Iterator[Path]:
    """A ``.partial`` file beside ``output`` to write; it becomes ``output`` when the block
    ends without an error and is removed otherwise, so no half-written file is ever
    mistaken for a backup."""
    partial = output.with_name(output.name + ".partial")
    try:
        yield partial
        partial.rename(output)
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_copy(source: Path, destination: Path, *, source_must_exist: bool) -> None:
    if source_must_exist and not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist")
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        writer = sqlite3.connect(destination)
        try:
            reader.backup(writer)
        finally:
            writer.close()
    except sqlite3.Error as exc:
        raise BackupError(f"copying {source} failed: {exc}") from exc
    finally:
        reader.close()


def file_areas(config) -> FileAreas:
    """Where this configuration keeps receipts, pictures and the message outbox."""
    instance = Path(config["INSTANCE_DIR"])
    areas = FileAreas()
    for name, setting in (("receipts", "RECEIPT_STORAGE_DIR"), ("images", "IMAGE_STORAGE_DIR")):
        if config.get("S3_BUCKET"):
            areas.in_bucket.append(name)
        else:
            areas.folders[name] = Path(config.get(setting) or instance / name)
    areas.folders["outbox"] = Path(config.get("NOTIFICATION_OUTBOX_DIR") or instance / "outbox")
    return areas


def files_archive_path(dump: Path) -> Path:
    return dump.with_name(dump.stem + FILES_SUFFIX)


def back_up_files(areas: FileAreas, output: Path) -> int:
    """Archive every local area's files under its name; returns how many files."""
    if output.exists():
        raise BackupError(f"{output} exists: choose another name")
    count = 0
    with _written_whole(output) as partial, tarfile.open(partial, "w:gz") as archive:
        for name, folder in areas.folders.items():
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.add(path, arcname=f"{name}/{path.relative_to(folder)}")
                    count += 1
    return count


# --- reading a backup -------------------------------------------------------------------

def backup_kind(path: Path) -> str:
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path} is not a Bookwell backup: neither a pg_dump custom-format "
                      "archive nor a SQLite database")


def inspect_backup(path: Path) -> DumpSummary:
    """Read the whole table of contents (and the schema's revision) of a backup."""
    kind = backup_kind(path)
    if kind == "postgresql":
        listing = _run(["pg_restore", "--list", str(path)], {})
        if listing.returncode:
            raise _failed(f"reading {path}", listing)
        tables = sorted(re.findall(r"^\d+; \d+ \d+ TABLE public (\S+) ", listing.stdout,
                                   re.MULTILINE))
        data = _run(["pg_restore", "--data-only", "--table=alembic_version", "--file=-",
                     str(path)], {})
        if data.returncode:
            raise _failed(f"reading {path}", data)
        revisions = _copy_rows(data.stdout)
    else:
        reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if reader.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} is a damaged SQLite database")
            tables = sorted(row[0] for row in reader.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'"))
            revisions = ([row[0] for row in reader.execute(
                "SELECT version_num FROM alembic_version")]
                if "alembic_version" in tables else [])
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} cannot be read as a SQLite database: {exc}") from exc
        finally:
            reader.close()
    if not revisions:
        raise BackupError(f"{path} holds no alembic_version: not a Bookwell database")
    return DumpSummary(kind, tables, sorted(revisions))


def _copy_rows(sql: str) -> list[str]:
    """The rows of the COPY block pg_restore prints for one single-column table."""
    rows, inside = [], False
    for line in sql.splitlines():
        if line.startswith("COPY "):
            inside = True
        elif inside and line == "\\.":
            inside = False
        elif inside:
            rows.append(line)
    return rows


# --- restoring --------------------------------------------------------------------------

def existing_tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def restore_database(url: str, backup: Path, *, force: bool) -> DumpSummary:
    """Load ``backup`` into the database at ``url``. Refuses a database with tables unless
    ``force``, and even then one with tables the backup does not have (a newer schema
    would be left half in place)."""
    kind, found = database_kind(url), backup_kind(backup)
    if found != kind:
        raise BackupError(f"{backup} is a {found} backup; the configured database is {kind}")
    summary = inspect_backup(backup)
    present = existing_tables(url) if kind == "postgresql" or sqlite_path(url).exists() else []
    if present and not force:
        raise BackupError(f"the database is not empty ({len(present)} tables): restore into "
                          "a new database, or pass --force to replace its contents")
    if kind == "postgresql":
        foreign = sorted(set(present) - set(summary.tables))
        if foreign:
            raise BackupError("the database has tables the backup does not ("
                              + ", ".join(foreign) + "): restore into a new database")
        target, env = libpq_target(url)
        # --no-owner/--no-privileges: the roles of the dumped server need not exist here;
        # everything belongs to the role that restores. One transaction: all or nothing.
        result = _run(["pg_restore", "--clean", "--if-exists", "--no-owner",
                       "--no-privileges", "--single-transaction", "--exit-on-error",
                       f"--dbname={target}", str(backup)], env)
        if result.returncode:
            raise _failed("pg_restore (nothing was changed)", result)
    else:
        path = sqlite_path(url)
        if not path.parent.is_dir():
            raise BackupError(f"{path.parent} is not a folder")
        # The backup API replaces the whole destination, in one transaction of its own.
        _sqlite_copy(backup, path, source_must_exist=True)
    return summary


def restore_files(areas: FileAreas, archive_path: Path, *, force: bool,
                  check_only: bool = False) -> int:
    """Unpack a files archive into the configured folders; returns how many files. With
    ``check_only``, only the checks: a restore runs them before it touches the database."""
    if not archive_path.is_file():
        raise BackupError(f"{archive_path} does not exist or is not a file")
    try:
        archive = tarfile.open(archive_path, "r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{archive_path} is not a files archive: {exc}") from exc
    with archive:
        members = [member for member in archive.getmembers() if member.isfile()]
        for member in members:  # `tar -C folder .` names them ./receipts/...
            member.name = member.name.removeprefix("./")
        wanted = {member.name.partition("/")[0] for member in members}
        unknown = wanted - set(areas.folders)
        if unknown:
            raise BackupError(f"{archive_path} has files for {', '.join(sorted(unknown))}, "
                              "which this configuration keeps in a bucket or not at all")
        occupied = [name for name in sorted(wanted)
                    if areas.folders[name].is_dir() and any(areas.folders[name].iterdir())]
        if occupied and not force:
            raise BackupError(f"the folders of {', '.join(occupied)} are not empty: pass "
                              "--force to add the archive's files to them (same names "
                              "are overwritten)")
        # Every member is checked before the first is written: tarfile's "data" filter
        # refuses absolute paths, ".." and special files, so nothing lands outside its area.
        placed = []
        for member in members:
            area, _, relative = member.name.partition("/")
            folder = areas.folders[area]
            try:
                placed.append((tarfile.data_filter(member.replace(name=relative),
                                                   str(folder)), folder))
            except tarfile.FilterError as exc:
                raise BackupError(f"{archive_path} has a file outside its folder: "
                                  f"{member.name} ({exc})") from exc
        if check_only:
            return len(placed)
        for member, folder in placed:
            folder.mkdir(parents=True, exist_ok=True)
            archive.extract(member, folder, filter="data")
    return len(placed)


def code_heads(migrations_dir: str) -> list[str]:
    from alembic.script import ScriptDirectory

    return sorted(ScriptDirectory(migrations_dir).get_heads())


def database_revisions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(connection.execute(
                text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()
