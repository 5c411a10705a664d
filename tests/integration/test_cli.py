from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Account
from tests.helpers import api_login


def test_create_admin_is_non_interactive_and_repeatable(app, app_ctx, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bookwell", "create-admin", "--email", "Root@Example.com",
                                "--password", "first-password"])
    assert first.exit_code == 0, first.output
    assert "created admin root@example.com" in first.output
    second = runner.invoke(args=["bookwell", "create-admin", "--email", "root@example.com",
                                 "--password", "second-password"])
    assert "updated admin" in second.output
    assert db.session.scalar(select(func.count()).select_from(Account)) == 1
    assert api_login(client, "root@example.com", "second-password")["access_token"]


def test_create_admin_refuses_a_short_password(app, app_ctx):
    result = app.test_cli_runner().invoke(
        args=["bookwell", "create-admin", "--email", "a@example.com", "--password", "short"])
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(Account)) == 0


def test_sync_roles_command(app):
    result = app.test_cli_runner().invoke(args=["bookwell", "sync-roles"])
    assert result.exit_code == 0
    assert "roles created: 0, permissions added: 0, removed: 0" in result.output


def test_generate_slots_command_reports_and_is_idempotent(app, app_ctx, build):
    from datetime import datetime, timezone

    offering = build.offering(build.provider(timezone="UTC"))
    # Never today's weekday, so no slot of the window lies in the past: two days, two slots.
    weekday = (datetime.now(timezone.utc).weekday() + 3) % 7
    build.rule(offering, weekday=weekday, start="09:00", end="11:00")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bookwell", "generate-slots", "--days", "14"])
    second = runner.invoke(args=["bookwell", "generate-slots", "--days", "14"])
    assert first.exit_code == 0, first.output
    assert "slots created: 4" in first.output
    assert "slots created: 0" in second.output


def test_reindex_without_opensearch_says_why(app):
    result = app.test_cli_runner().invoke(args=["bookwell", "reindex"])
    assert result.exit_code != 0 and "OPENSEARCH_URL" in result.output
