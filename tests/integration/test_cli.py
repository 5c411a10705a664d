from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Account, Provider
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


def test_demo_is_idempotent_and_prints_logins(app, app_ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bookwell", "demo"])
    counts = (db.session.scalar(select(func.count()).select_from(Provider)),
              db.session.scalar(select(func.count()).select_from(Account)))
    second = runner.invoke(args=["bookwell", "demo"])

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert counts == (2, 4)
    assert (db.session.scalar(select(func.count()).select_from(Provider)),
            db.session.scalar(select(func.count()).select_from(Account))) == counts
    for email in ("admin@bookwell.example", "staff@harbor.example",
                  "staff@northside.example", "customer@bookwell.example"):
        assert email in first.output
    staff = db.session.scalar(select(Account).where(Account.email == "staff@harbor.example"))
    assert staff.provider.slug == "harbor-yoga"


def test_sync_roles_command(app):
    result = app.test_cli_runner().invoke(args=["bookwell", "sync-roles"])
    assert result.exit_code == 0
    assert "roles created: 0, permissions added: 0, removed: 0" in result.output
