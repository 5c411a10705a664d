"""`flask bookwell ...`: release steps, accounts and demo data. (The worker and the
scheduler commands join the group from ``jobs/cli.py``: nothing in ``app`` imports ``jobs``.)"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

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
