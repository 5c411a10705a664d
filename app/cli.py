"""`flask bookwell ...`: release steps, accounts, demo data, backups. (The worker and the
scheduler commands join the group from ``jobs/cli.py``: nothing in ``app`` imports ``jobs``.)"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app import backups
from app.extensions import db
from app.gateways.opensearch import OpenSearchError
from app.progress import ProgressReporter
from app.services import accounts, availability, demo, roles, search_indexing, users
from app.services import notification_templates
from app.services.scopes import Scope

bookwell = AppGroup("bookwell", help="Bookwell administration commands.")


@bookwell.command("sync-roles")
def sync_roles_command():
    """Create the roles and permissions defined in code; safe to run again."""
    report = roles.sync_roles(current_app.appbuilder)
    click.echo(
        f"roles created: {report.roles_created}, permissions added: "
        f"{report.permissions_added}, removed: {report.permissions_removed}"
    )


@bookwell.command("load-templates")
@click.option("--force", is_flag=True,
              help="Also overwrite platform defaults an admin edited in the console.")
def load_templates_command(force):
    """Load the shipped message templates as platform defaults; safe to run again."""
    report = notification_templates.load_defaults(force=force)
    click.echo(f"templates created: {report.created}, updated: {report.updated}, "
               f"unchanged: {report.unchanged}, kept (edited in the console): "
               f"{report.kept_edited}")


@bookwell.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--first-name", default="Platform")
@click.option("--last-name", default="Admin")
def create_admin_command(email, password, first_name, last_name):
    """Create a platform admin, or reset an existing one's password."""
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        raise click.BadParameter(
            f"use at least {accounts.MIN_PASSWORD_LENGTH} characters", param_hint="--password"
        )
    try:
        user, created = users.ensure_user(email=email, password=password, role=roles.ADMIN,
                                          first_name=first_name, last_name=last_name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--email") from exc
    click.echo(f"{'created' if created else 'updated'} admin {user.email}")


@bookwell.command("demo")
def demo_command():
    """Load demo providers and logins (idempotent) and print the logins."""
    logins = demo.load_demo_data(current_app.config["DEMO_PASSWORD"])
    click.echo("Demo logins:")
    for login in logins:
        where = f" ({login.provider})" if login.provider else ""
        click.echo(f"  {login.role:<9} {login.email:<32} {login.password}{where}")


@bookwell.command("generate-slots")
@click.option("--days", type=click.IntRange(1, 366), default=None,
              help="How many days ahead (default: SLOT_DAYS_AHEAD).")
@click.option("--provider-id", type=int, default=None, help="Only this provider.")
def generate_slots_command(days, provider_id):
    """Create slots from the availability rules; idempotent, keeps booked slots."""
    scope = Scope.all_providers() if provider_id is None else Scope.of_provider(provider_id)
    report = availability.generate_slots(
        scope=scope, days=days or current_app.config["SLOT_DAYS_AHEAD"],
        progress=ProgressReporter(label="offerings"))
    click.echo(f"offerings: {report.offerings}, slots created: {report.created}, "
               f"removed: {report.removed}, retired: {report.retired}, "
               f"restored: {report.restored}, kept (booked): {report.kept_booked}, "
               f"resized: {report.resized}")


@bookwell.command("reindex")
def reindex_command():
    """Rebuild the OpenSearch index of offerings from the database."""
    if not current_app.config.get("OPENSEARCH_URL"):
        raise click.ClickException("OPENSEARCH_URL is not set: the database backend needs "
                                   "no index of its own.")
    try:
        count = search_indexing.reindex_all(progress=ProgressReporter())
    except OpenSearchError as exc:
        raise click.ClickException(f"OpenSearch refused the rebuild: {exc}") from exc
    click.echo(f"indexed {count} offerings")


@bookwell.command("purge-tokens")
def purge_tokens_command():
    """Delete revocation records of tokens that have expired anyway."""
    click.echo(f"purged {accounts.purge_expired_revocations()} expired revocations")


def _database_url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def _describe(summary: backups.DumpSummary) -> str:
    return (f"{summary.kind}, {len(summary.tables)} tables, schema revision "
            f"{', '.join(summary.revisions)}")


@bookwell.command("backup")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The dump to write (default: bookwell-<UTC time>.dump, or .sqlite3 in "
                   "embedded mode, in the current folder). Never overwritten.")
@click.option("--with-files", is_flag=True,
              help="Also archive the receipts, pictures and message outbox kept in local "
                   "folders, as <output name>.files.tar.gz beside the dump.")
def backup_command(output, with_files):
    """Back up the database (pg_dump, or SQLite's online backup) and check the result."""
    url = _database_url()
    try:
        kind = backups.database_kind(url)
        if output is None:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            output = Path(f"bookwell-{stamp}.{'dump' if kind == 'postgresql' else 'sqlite3'}")
        archive = backups.files_archive_path(output)
        if with_files and archive.exists():
            raise backups.BackupError(f"{archive} exists: choose another name")
        summary = backups.back_up_database(url, output)
        click.echo(f"wrote {output} ({_describe(summary)})")
        if with_files:
            areas = backups.file_areas(current_app.config)
            count = backups.back_up_files(areas, archive)
            click.echo(f"wrote {archive} ({count} files from "
                       f"{', '.join(str(folder) for folder in areas.folders.values())})")
            for name in areas.in_bucket:
                click.echo(f"{name} are in the bucket {current_app.config['S3_BUCKET']}: "
                           "back them up with the bucket's versioning or replication")
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc


@bookwell.command("check-backup")
@click.argument("backup", type=click.Path(dir_okay=False, path_type=Path))
def check_backup_command(backup):
    """Read a backup through (its table of contents and schema revision); changes nothing."""
    try:
        summary = backups.inspect_backup(backup)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{backup}: {_describe(summary)}")
    click.echo("tables: " + ", ".join(summary.tables))


@bookwell.command("restore")
@click.argument("backup", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--files", "files_archive", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="A .files.tar.gz archive of the same backup to unpack into "
                                 "the configured folders.")
@click.option("--force", is_flag=True,
              help="Replace the contents of a database (and add to folders) that are not "
                   "empty.")
def restore_command(backup, files_archive, force):
    """Restore a backup made by `flask bookwell backup` into the configured database.

    Stop web, workers and scheduler first. Afterwards run the release steps with the code
    you deploy (flask db upgrade, sync-roles, load-templates; reindex with OpenSearch)."""
    url = _database_url()
    # The app's own connections must not hold the database while it is replaced.
    db.engine.dispose()
    areas = backups.file_areas(current_app.config)
    try:
        if files_archive is not None:  # a bad archive stops the restore before it starts
            backups.restore_files(areas, files_archive, force=force, check_only=True)
        summary = backups.restore_database(url, backup, force=force)
        click.echo(f"restored {backup} ({_describe(summary)})")
        if files_archive is not None:
            count = backups.restore_files(areas, files_archive, force=force)
            click.echo(f"restored {count} files from {files_archive}")
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    heads = backups.code_heads(current_app.extensions["migrate"].directory)
    restored = backups.database_revisions(url)
    if restored == heads:
        click.echo(f"the schema is at this code's revision ({', '.join(heads)}).")
    else:
        click.echo(f"the schema is at {', '.join(restored)}; this code's is "
                   f"{', '.join(heads)}.")
    click.echo("next: run the release steps with the code you deploy: flask db upgrade, "
               "flask bookwell sync-roles, flask bookwell load-templates (and flask "
               "bookwell reindex with OpenSearch); then start the app.")
