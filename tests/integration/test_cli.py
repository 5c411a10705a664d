from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Account, Booking, Location, Offering, Provider, Slot, Variant
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
    def counts():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Provider, Account, Offering, Variant, Location, Slot))

    first = runner.invoke(args=["bookwell", "demo"])
    after_first = counts()
    second = runner.invoke(args=["bookwell", "demo"])

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    providers, accounts, offerings, variants, locations, slots = after_first
    assert (providers, accounts, offerings, variants, locations) == (2, 4, 8, 4, 3)
    assert slots > 100
    assert counts() == after_first
    statuses = set(db.session.scalars(select(Booking.status)))
    assert statuses == {"pending", "confirmed", "cancelled", "completed", "no_show", "expired"}
    from app.models.payments import Payment, Refund

    paid = db.session.scalars(select(Payment)).all()
    assert len(paid) == 3 and {p.gateway for p in paid} == {"manual"}
    assert [(r.amount_minor, r.status) for r in db.session.scalars(select(Refund))] == [
        (500, "succeeded")]
    for email in ("admin@bookwell.example", "staff@harbor.example",
                  "staff@northside.example", "customer@bookwell.example"):
        assert email in first.output
    staff = db.session.scalar(select(Account).where(Account.email == "staff@harbor.example"))
    assert staff.provider.slug == "harbor-yoga"


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


def test_demo_bookings_use_a_generated_slot_at_the_same_time(app_ctx, build):
    # The demo places its bookings whole hours from now; in the minute when "now" is on
    # the weekly hours' grid, a new slot at that time clashed with a generated one and
    # the demo (and `make run`) failed. It now books the generated slot.
    from datetime import timedelta

    from app.models.types import utcnow
    from app.services.demo import demo_slot

    offering = db.session.get(Offering, build.offering(build.provider(), price_minor=100))
    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    generated = build.slot(offering.id, start, capacity=1)
    slots_before = db.session.scalar(select(func.count()).select_from(Slot))

    assert demo_slot(offering, start) == generated
    assert db.session.scalar(select(func.count()).select_from(Slot)) == slots_before

    other = demo_slot(offering, start + timedelta(minutes=17))
    assert other != generated
    assert db.session.get(Slot, other).ends_at == start + timedelta(
        minutes=17 + offering.duration_minutes)
