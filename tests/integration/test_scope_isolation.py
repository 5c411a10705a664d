"""A provider's scope never reaches another provider's rows, for every scoped service;
the all-providers scope (admins, the system) reaches both."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import Booking, ConversionEvent, Notification
from app.models.conversions import FAILED as CONVERSION_FAILED
from app.models.notifications import FAILED as MESSAGE_FAILED
from app.models.types import utcnow
from app.services import (
    attribution_report,
    booking_calendar,
    availability,
    bookings,
    catalog,
    conversions,
    notifications,
    payment_queries,
    payments,
    refunds,
    tenancy,
)
from app.services.scopes import Scope

EVERYONE = Scope.all_providers()


@dataclass
class Shop:
    provider: int
    scope: Scope
    rows: dict  # RowKind label -> id
    booking: int
    payment: int
    refund: int
    conversion: int
    message: int


def _shop(build) -> Shop:
    provider = build.provider(timezone="UTC")
    offering = build.offering(provider, pay_at_venue=True, price_minor=2500,
                              location_id=build.location(provider),
                              category_id=build.category(provider))
    product = build.offering(provider, kind="product")
    customer = build.customer()
    rows = {"offering": offering, "variant": build.variant(product),
            "availability_rule": build.rule(offering, weekday=0),
            "closed_day": build.closed_day(provider, date(2031, 1, 1))}
    rows["location"] = db.session.scalar(select(catalog.LOCATION.model.id).where(
        catalog.LOCATION.model.provider_id == provider))
    rows["category"] = db.session.scalar(select(catalog.CATEGORY.model.id).where(
        catalog.CATEGORY.model.provider_id == provider))
    scope = Scope.of_provider(provider)
    placed = bookings.place_booking(customer_id=customer, offering_id=offering,
                                    slot_id=build.future_slot(offering, days=1))
    payment = payments.mark_paid(placed.reference, actor_id=None, scope=scope)
    refund = refunds.request_refund(payment.id, amount_minor=500, reason="", actor_id=None,
                                    scope=scope)
    booking_id = db.session.scalar(select(Booking.id).where(
        Booking.reference == placed.reference))
    conversion = ConversionEvent(provider_id=provider, event_id=f"evt-{provider}",
                                 event_name="CompletePayment", payload={},
                                 status=CONVERSION_FAILED)
    message = Notification(provider_id=provider, dedupe_key=f"isolation:{provider}",
                           template_key="booking_confirmed", channel="email",
                           recipient="someone@example.com", status=MESSAGE_FAILED)
    db.session.add_all([conversion, message])
    db.session.commit()
    return Shop(provider, scope, rows, booking_id, payment.id, refund.id, conversion.id,
                message.id)


@pytest.fixture
def shops(app_ctx, build):
    return _shop(build), _shop(build)


def test_payment_and_refund_queries_stay_in_their_provider(shops):
    mine, theirs = shops
    page = dict(page=1, page_size=50)
    assert [p.id for p in payment_queries.list_payments(scope=mine.scope, **page)[0]] == [
        mine.payment]
    assert [r.id for r in payment_queries.list_refunds(scope=mine.scope, **page)[0]] == [
        mine.refund]
    assert payment_queries.list_payments(scope=EVERYONE, **page)[1] == 2
    assert payment_queries.get_payment(mine.payment, scope=mine.scope).id == mine.payment
    assert refunds.refund_for_provider(mine.refund, scope=mine.scope).id == mine.refund
    with pytest.raises(NotFound):
        payment_queries.get_payment(theirs.payment, scope=mine.scope)
    with pytest.raises(NotFound):
        refunds.refund_for_provider(theirs.refund, scope=mine.scope)
    with pytest.raises(NotFound):
        refunds.request_refund(theirs.payment, amount_minor=100, reason="", actor_id=None,
                               scope=mine.scope)
    assert refunds.refund_for_provider(theirs.refund, scope=EVERYONE).id == theirs.refund


@pytest.mark.parametrize("kind", [catalog.CATEGORY, catalog.LOCATION, catalog.OFFERING,
                                  catalog.VARIANT, catalog.RULE, catalog.CLOSED_DAY],
                         ids=lambda kind: kind.label)
def test_catalog_rows_stay_in_their_provider(shops, kind):
    mine, theirs = shops
    rows, _ = catalog.list_rows(kind, scope=mine.scope, page=1, page_size=50)
    assert {row.provider_id for row in rows} == {mine.provider}
    assert mine.rows[kind.label] in {row.id for row in rows}
    assert tenancy.get_owned(kind.model, mine.rows[kind.label], scope=mine.scope)
    with pytest.raises(NotFound):
        tenancy.get_owned(kind.model, theirs.rows[kind.label], scope=mine.scope)
    with pytest.raises(NotFound):
        catalog.update(kind, row_id=theirs.rows[kind.label], scope=mine.scope, changes={})
    with pytest.raises(NotFound):
        catalog.delete(kind, row_id=theirs.rows[kind.label], scope=mine.scope)
    assert tenancy.get_owned(kind.model, theirs.rows[kind.label], scope=EVERYONE)


def test_a_new_catalog_row_needs_one_provider():
    with pytest.raises(TypeError):
        catalog.create(catalog.CATEGORY, scope=EVERYONE, data={"name": "Nobody's"})


def test_agenda_and_report_count_only_their_provider(shops):
    mine, theirs = shops
    day = (utcnow() + timedelta(days=1)).date()
    shown = booking_calendar.calendar_view(first_day=day, days=1, scope=mine.scope)
    assert {b.provider_id for d in shown.days for b in d.bookings} == {mine.provider}
    everyone = booking_calendar.calendar_view(first_day=day, days=1, scope=EVERYONE)
    assert {b.provider_id for d in everyone.days for b in d.bookings} == {
        mine.provider, theirs.provider}

    today = utcnow().date()
    [row] = attribution_report.report(scope=mine.scope, start=today, end=today)
    assert row.bookings == 1
    assert sum(r.bookings for r in attribution_report.report(
        scope=EVERYONE, start=today, end=today)) == 2


def test_slot_generation_touches_only_their_offerings(shops):
    mine, _ = shops
    report = availability.generate_slots(scope=mine.scope, days=7)
    assert report.offerings == 1  # the service offering; the other provider's is not seen
    assert availability.generate_slots(scope=EVERYONE, days=7).offerings == 2


def test_resending_another_providers_event_or_message_is_not_found(shops):
    mine, theirs = shops
    with pytest.raises(NotFound):
        conversions.resend(theirs.conversion, scope=mine.scope)
    with pytest.raises(NotFound):
        notifications.resend_notification(theirs.message, scope=mine.scope)
    db.session.rollback()
    assert db.session.get(ConversionEvent, theirs.conversion).status == CONVERSION_FAILED
    assert notifications.resend_notification(mine.message, scope=mine.scope) != mine.message
