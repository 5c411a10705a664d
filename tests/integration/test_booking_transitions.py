"""Staff transitions through the service: timing rules, history, events, capacity."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Booking, OutboxEvent, Slot
from app.models.types import utcnow
from app.services import bookings
from app.services.bookings import Actor, Scope

STAFF = Actor(None, "by staff")
EVERYWHERE = Scope.all_providers()


@pytest.fixture
def venue(build):
    provider = build.provider()
    offering = build.offering(provider, price_minor=3000, pay_at_venue=True)
    return {"provider": provider, "offering": offering, "customer": build.customer()}


def _place(build, venue, *, hours: float = 48, placed_ago: float = 0, quantity: int = 1):
    now = utcnow().replace(second=0, microsecond=0)
    slot = build.slot(venue["offering"], now + timedelta(hours=hours), capacity=4)
    booking = bookings.place_booking(customer_id=venue["customer"],
                                     offering_id=venue["offering"], slot_id=slot,
                                     quantity=quantity,
                                     now=now - timedelta(hours=placed_ago))
    return booking.reference, slot


def _booking(reference: str) -> Booking:
    db.session.expire_all()
    return db.session.scalar(select(Booking).where(Booking.reference == reference))


def _topics(reference: str) -> list[str]:
    return [e.topic for e in db.session.scalars(select(OutboxEvent).order_by(
        OutboxEvent.created_at)) if e.payload["booking_reference"] == reference]


def test_pay_at_venue_waits_for_staff_then_completes_after_the_end(app_ctx, build, venue):
    reference, slot = _place(build, venue, hours=-2, placed_ago=24)
    assert _booking(reference).hold_expires_at is None  # staff confirm it, no hold

    bookings.confirm_booking(reference, actor=STAFF, scope=Scope.of_provider(venue["provider"]))
    bookings.complete_booking(reference, actor=STAFF, scope=Scope.of_provider(venue["provider"]))

    booking = _booking(reference)
    assert booking.status == "completed"
    assert [(h.from_status, h.to_status) for h in booking.history] == [
        (None, "pending"), ("pending", "confirmed"), ("confirmed", "completed")]
    assert _topics(reference) == ["booking.created", "booking.confirmed", "booking.completed"]
    assert db.session.get(Slot, slot).booked == 1  # a completed booking keeps its place


def test_too_early_to_complete_or_mark_a_no_show(app_ctx, build, venue):
    reference, _ = _place(build, venue, hours=48)
    bookings.confirm_booking(reference, actor=STAFF, scope=EVERYWHERE)
    for step in (bookings.complete_booking, bookings.mark_no_show):
        with pytest.raises(Conflict) as error:
            step(reference, actor=STAFF, scope=EVERYWHERE)
        assert error.value.code == "booking.too_early"
    assert _booking(reference).status == "confirmed"


def test_no_show_after_the_start(app_ctx, build, venue):
    reference, _ = _place(build, venue, hours=-0.5, placed_ago=24)
    bookings.confirm_booking(reference, actor=STAFF, scope=EVERYWHERE)
    bookings.mark_no_show(reference, actor=STAFF, scope=EVERYWHERE)
    assert _booking(reference).status == "no_show"


def test_staff_may_cancel_late_and_places_come_back(app_ctx, build, venue):
    reference, slot = _place(build, venue, hours=1, quantity=3)
    bookings.confirm_booking(reference, actor=STAFF, scope=EVERYWHERE)
    bookings.cancel_booking(reference, actor=STAFF, scope=Scope.of_provider(venue["provider"]))
    assert _booking(reference).status == "cancelled"
    assert db.session.get(Slot, slot).booked == 0
    event = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "booking.cancelled")).one()
    assert event.payload["free_cancellation"] is False and event.payload["by_customer"] is False


def test_another_providers_staff_get_not_found(app_ctx, build, venue):
    reference, _ = _place(build, venue)
    with pytest.raises(NotFound):
        bookings.confirm_booking(reference, actor=STAFF, scope=Scope.of_provider(build.provider()))
    assert _booking(reference).status == "pending"


def test_expiry_leaves_confirmed_and_pay_at_venue_bookings_alone(app_ctx, build, venue):
    venue_ref, _ = _place(build, venue)
    online = build.offering(venue["provider"], price_minor=1000)
    slot = build.future_slot(online)
    held = bookings.place_booking(customer_id=venue["customer"], offering_id=online,
                                  slot_id=slot).reference

    assert bookings.expire_holds(scope=EVERYWHERE, now=utcnow() + timedelta(hours=1)) == 1

    assert _booking(held).status == "expired" and _booking(venue_ref).status == "pending"
    assert bookings.expire_holds(scope=EVERYWHERE, now=utcnow() + timedelta(hours=2)) == 0


def test_staff_cannot_confirm_a_booking_awaiting_its_online_payment(app_ctx, build, venue):
    online = build.offering(venue["provider"], price_minor=2000)
    reference = bookings.place_booking(customer_id=venue["customer"], offering_id=online,
                                       slot_id=build.future_slot(online)).reference
    with pytest.raises(Conflict) as error:
        bookings.confirm_booking(reference, actor=STAFF, scope=EVERYWHERE)
    assert error.value.code == "booking.awaits_payment"
    assert _booking(reference).status == "pending"
