"""Every row a new booking writes agrees with the booking, on both databases; and the
PostgreSQL placing statement stays one psycopg can keep converted between requests."""
from __future__ import annotations

import itertools
from datetime import timedelta

from psycopg import _queries as psycopg_queries
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from app.extensions import db
from app.models import Attribution, Booking, BookingHistory, OutboxEvent
from app.models.audit import AuditLog
from app.models.types import utcnow
from app.services import booking_rules, booking_statement, bookings, resources
from app.services.scopes import Scope

ATTRIBUTION = {"utm_source": "tiktok", "utm_campaign": "spring", "ttclid": "abc",
               "consent": True, "ip": "203.0.113.9", "user_agent": "test"}


def test_the_rows_of_a_booking_share_its_time_provider_and_customer(app_ctx, build):
    provider = build.provider()
    offering = build.offering(provider, price_minor=1500)
    now = utcnow().replace(microsecond=0)
    slot = build.slot(offering, now + timedelta(days=3), capacity=4)
    customer = build.customer()

    placed = bookings.place_booking(customer_id=customer, offering_id=offering,
                                    slot_id=slot, quantity=2, attribution=ATTRIBUTION,
                                    now=now)

    db.session.expire_all()
    booking = db.session.get(Booking, placed.id)
    assert (booking.provider_id, booking.customer_id, booking.offering_id,
            booking.slot_id, booking.quantity) == (provider, customer, offering, slot, 2)
    assert booking.created_at == booking.updated_at == now
    history = db.session.scalar(select(BookingHistory).where(
        BookingHistory.booking_id == placed.id))
    assert (history.provider_id, history.actor_id, history.created_at) == (
        provider, customer, now)
    attribution = db.session.scalar(select(Attribution).where(
        Attribution.booking_id == placed.id))
    assert (attribution.utm_source, attribution.ttclid, attribution.created_at) == (
        "tiktok", "abc", now)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "booking.created"))
    assert (entry.entity_id, entry.provider_id, entry.created_at) == (
        str(placed.id), provider, now)
    event = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "booking.created"))
    assert (event.provider_id, event.created_at) == (provider, now)
    assert event.payload["booking_reference"] == placed.reference
    # On PostgreSQL the statement writes the slot's start into the payload itself.
    assert event.payload["starts_at"] == booking.starts_at.isoformat() == (
        placed.starts_at.isoformat())
    assert (placed.starts_at, placed.ends_at) == (booking.starts_at, booking.ends_at)


def _rows_of(placed, provider, customer, now):
    db.session.expire_all()
    booking = db.session.get(Booking, placed.id)
    history = db.session.scalar(select(BookingHistory).where(
        BookingHistory.booking_id == placed.id))
    attribution = db.session.scalar(select(Attribution).where(
        Attribution.booking_id == placed.id))
    entry = db.session.scalar(select(AuditLog).where(
        AuditLog.action == "booking.created", AuditLog.entity_id == str(placed.id)))
    created = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "booking.created",
        OutboxEvent.payload["booking_reference"].as_string() == placed.reference))
    assert (booking.provider_id, booking.customer_id, booking.created_at) == (
        provider, customer, now)
    assert (history.booking_id, history.actor_id, history.created_at) == (
        placed.id, customer, now)
    assert (attribution.utm_source, attribution.consent, attribution.created_at) == (
        "tiktok", True, now)
    assert (entry.provider_id, entry.changes["reference"]) == (provider, placed.reference)
    assert (created.provider_id, created.created_at) == (provider, now)
    return booking, created.payload


def test_rows_of_bookings_placed_row_by_row_agree_too(app_ctx, build):
    """A service done by staff and a product are placed row by row (on PostgreSQL their
    rows are one statement): the same rows, the payload's start from Python."""
    provider = build.provider()
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada", kind="staff").id
    haircut = build.offering(provider, price_minor=3000)
    resources.set_offering_resources(haircut, [ada], scope=scope)
    now = utcnow().replace(microsecond=0)
    slot = build.slot(haircut, now + timedelta(days=2), capacity=1)
    shampoo = build.offering(provider, kind="product", price_minor=900)
    variant = build.variant(shampoo, stock=5)
    customer = build.customer()

    service = bookings.place_booking(customer_id=customer, offering_id=haircut, slot_id=slot,
                                     attribution=ATTRIBUTION, now=now)
    booking, payload = _rows_of(service, provider, customer, now)
    assert payload["starts_at"] == booking.starts_at.isoformat()
    assert payload["pay_at_venue"] is False
    product = bookings.place_booking(customer_id=customer, offering_id=shampoo,
                                     variant_id=variant, quantity=2,
                                     attribution=ATTRIBUTION, now=now)
    booking, payload = _rows_of(product, provider, customer, now)
    assert (booking.slot_id, booking.variant_id, booking.quantity) == (None, variant, 2)
    assert payload["starts_at"] is None


def test_the_placing_statement_fits_psycopgs_statement_cache():
    # psycopg converts a statement once and keeps it only below these limits; above
    # them every booking pays for parsing about 4 KB of SQL again.
    # Paid bookings (one event) with or without attribution, and free ones without; a
    # free booking with attribution writes a second event and a few bytes more. Each with
    # and without an Idempotency-Key's record id.
    dialect = postgresql.psycopg.dialect()
    for (with_attribution, event_count), with_key in itertools.product(
            ((False, 1), (True, 1), (False, 2)), (False, True)):
        compiled = booking_statement.placing_statement(
            booking_rules.statement_guards(), with_attribution, event_count, with_key).compile(
            dialect=dialect)
        assert len(str(compiled).encode()) <= psycopg_queries.MAX_CACHED_STATEMENT_LENGTH
        assert len(compiled.params) <= psycopg_queries.MAX_CACHED_STATEMENT_PARAMS
        rows = booking_statement.rows_statement(with_attribution, event_count,
                                                with_key).compile(dialect=dialect)
        assert len(str(rows).encode()) <= psycopg_queries.MAX_CACHED_STATEMENT_LENGTH
        assert len(rows.params) <= psycopg_queries.MAX_CACHED_STATEMENT_PARAMS
