"""The demo data `make run` loads: loaded once for the module (twice, as two starts would),
then read by each test; the tables are emptied after the last one."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Account,
    Attribution,
    AvailabilityRule,
    Booking,
    Image,
    Location,
    Offering,
    Provider,
    Resource,
    Slot,
    Variant,
)
from app.models.events import OutboxEvent
from app.models.notifications import Notification
from app.models.payments import Payment, Refund
from app.models.receipts import Receipt
from app.models.types import utcnow
from app.services import attribution_report
from app.services.scopes import Scope
from tests.conftest import reset_state

COUNTED = (Provider, Account, Location, Offering, Variant, Resource, AvailabilityRule, Slot,
           Image, Booking, Attribution, Payment, Refund, Receipt, Notification)
LOGINS = ("admin@bookwell.example", "staff@harbor.example", "staff@northside.example",
          "staff@copper.example", "customer@bookwell.example")


@dataclass(frozen=True)
class Loaded:
    outputs: tuple[str, str]
    counts: tuple[dict, dict]


def _counts() -> dict:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in COUNTED}


@pytest.fixture(scope="module")
def demo(app):
    runner = app.test_cli_runner()
    with app.app_context():
        first = runner.invoke(args=["bookwell", "demo"])
        assert first.exit_code == 0, first.output
        after_first = _counts()
        second = runner.invoke(args=["bookwell", "demo"])
        assert second.exit_code == 0, second.output
        after_second = _counts()
        db.session.remove()
    yield Loaded((first.output, second.output), (after_first, after_second))
    reset_state(app)


@pytest.fixture(autouse=True)
def clean_state():
    """The module's tests share one load (``demo`` empties the tables after them)."""
    yield


def test_loading_twice_gives_the_same_rows_and_prints_the_logins(demo, app_ctx):
    first, second = demo.counts
    assert second == first
    assert first["Provider"] == 3 and first["Booking"] > 60 and first["Image"] >= 15
    for output in demo.outputs:
        for email in LOGINS:
            assert email in output
    staff = db.session.scalar(select(Account).where(Account.email == "staff@harbor.example"))
    assert staff.provider.slug == "harbor-yoga"


def test_every_booking_of_a_time_is_inside_its_opening_hours_and_capacity(demo, app_ctx):
    rules = defaultdict(list)
    for rule in db.session.scalars(select(AvailabilityRule)):
        rules[rule.offering_id].append(rule)
    rows = db.session.execute(
        select(Booking.quantity, Booking.status, Slot.id, Slot.starts_at, Slot.ends_at,
               Slot.capacity, Slot.booked, Slot.offering_id, Provider.timezone)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Provider, Provider.id == Booking.provider_id)).all()
    assert len(rows) > 40
    held = defaultdict(int)
    for row in rows:
        zone = ZoneInfo(row.timezone)
        start, end = row.starts_at.astimezone(zone), row.ends_at.astimezone(zone)
        fitting = [rule for rule in rules[row.offering_id]
                   if rule.weekday == start.weekday() and rule.start_time <= start.time()
                   and end.time() <= rule.end_time and start.date() == end.date()]
        assert fitting, f"{start:%a %H:%M}–{end:%H:%M} is outside its opening hours"
        assert row.capacity == fitting[0].capacity
        assert "09:00" <= f"{start:%H:%M}" and f"{end:%H:%M}" <= "18:00"
        if row.status in ("pending", "confirmed", "completed", "no_show"):
            held[row.id] += row.quantity
    slots = {row.id: row for row in rows}
    for slot_id, places in held.items():
        assert places == slots[slot_id].booked <= slots[slot_id].capacity
    private = db.session.scalars(select(Slot.capacity).join(Offering).where(
        Offering.name == "Private Session")).all()
    assert private and set(private) == {1}


def test_staff_are_people_not_their_shop(demo, app_ctx):
    names = set(db.session.scalars(select(Provider.name)))
    staff = db.session.execute(select(Account.first_name, Account.last_name, Provider.name)
                               .join(Provider, Provider.id == Account.provider_id)).all()
    assert len(staff) == 3
    for first_name, last_name, provider in staff:
        assert first_name and last_name and last_name not in names
        assert provider not in f"{first_name} {last_name}"
    barbers = set(db.session.scalars(select(Resource.name)))
    assert len(barbers) == 3 and not barbers & names


def test_customers_have_plain_addresses_and_the_demo_customer_is_verified(demo, app_ctx):
    addresses = list(db.session.scalars(select(Account.email)))
    assert len(addresses) > 20
    assert all(address.isascii() for address in addresses)  # "mateo.garcia", not "garcía"
    verified = db.session.scalar(select(Account.email_verified_at).where(
        Account.email == "customer@bookwell.example"))
    assert verified is not None  # no "your address is not verified" on first sign-in


def test_bookings_come_from_tiktok_a_newsletter_and_directly(demo, app_ctx):
    sources = dict(db.session.execute(
        select(Attribution.utm_source, func.count()).group_by(Attribution.utm_source)).all())
    assert sources.get("tiktok", 0) > 0 and sources.get("newsletter", 0) > 0
    tiktok = db.session.scalars(select(Attribution).where(
        Attribution.utm_source == "tiktok")).all()
    assert all(row.ttclid for row in tiktok)
    assert db.session.scalar(select(func.count()).select_from(Attribution).where(
        Attribution.utm_source == "newsletter", Attribution.utm_medium != "email")) == 0
    direct = db.session.scalar(select(func.count()).select_from(Booking).where(
        ~Booking.attribution_row.has()))
    assert direct > 0
    today = utcnow().date()
    groups = {row.group for row in attribution_report.report(
        scope=Scope.all_providers(), start=today - timedelta(days=30), end=today)}
    assert {"tiktok", "newsletter", attribution_report.NONE_LABEL} <= groups


def test_bookings_span_past_weeks_and_coming_days_in_every_state(demo, app_ctx):
    now = utcnow()
    for provider_id, timezone in db.session.execute(select(Provider.id, Provider.timezone)):
        starts = db.session.scalars(select(Booking.starts_at).where(
            Booking.provider_id == provider_id, Booking.starts_at.is_not(None))).all()
        assert any(start < now - timedelta(days=7) for start in starts)
        assert any(start > now + timedelta(days=1) for start in starts)
        assert len({start.astimezone(ZoneInfo(timezone)).date() for start in starts}) >= 4
    statuses = set(db.session.scalars(select(Booking.status).distinct()))
    assert statuses >= {"pending", "confirmed", "completed", "no_show", "cancelled",
                        "refunded", "expired"}
    orders = db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.variant_id.is_not(None)))
    assert orders > 0
    counts = demo.counts[0]
    assert counts["Payment"] > 0 and counts["Refund"] > 0


def test_payments_have_their_receipts_and_bookings_their_messages(demo, app, app_ctx):
    counts = demo.counts[0]
    if app.config.get("REDIS_URL"):
        # A worker makes them from the events, after the load: each is waiting for it.
        queued = dict(db.session.execute(select(OutboxEvent.topic, func.count()).where(
            OutboxEvent.topic.in_(("payment.succeeded", "booking.confirmed")))
            .group_by(OutboxEvent.topic)).all())
        assert queued["payment.succeeded"] == counts["Payment"]
        assert queued["booking.confirmed"] > 0
    else:  # made as the load went
        assert counts["Receipt"] >= counts["Payment"] > 0
        assert counts["Notification"] > counts["Booking"]
