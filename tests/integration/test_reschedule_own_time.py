"""Moving a booking that needs staff or a room: its own time of them is not in the way.

The staff's move list (``reschedule_options.move_targets``, behind the console's booking
page and the calendar's "Move" panel) must list a time that overlaps only the booking's
own resource time, as the move itself (``reschedule_booking``) gives that time back before
it takes the new one; another booking's time stays in the way."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.extensions import db
from app.models import Booking
from app.services import bookings, resources
from app.services.reschedule_options import move_targets
from app.services.scopes import Actor, Scope

TEN = datetime(2030, 6, 4, 8, 0, tzinfo=timezone.utc)  # 10:00 in Berlin
NOW = TEN - timedelta(days=2)


def test_a_booking_moves_by_a_quarter_hour_within_its_own_resource_time(build):
    provider = build.provider(timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada", kind="staff").id
    chair = resources.create_resource(scope=scope, name="Chair 1", kind="room").id
    cut = build.offering(provider, name="Cut", price_minor=3000, buffer_after_minutes=10)
    resources.set_offering_resources(cut, [ada, chair], scope=scope)
    ten = build.slot(cut, TEN, capacity=1)
    quarter_past = build.slot(cut, TEN + timedelta(minutes=15), capacity=1)
    noon = build.slot(cut, TEN + timedelta(hours=2), capacity=1)
    half_past_noon = build.slot(cut, TEN + timedelta(hours=2, minutes=30), capacity=1)
    mine = bookings.place_booking(customer_id=build.customer(), offering_id=cut,
                                  slot_id=ten, now=NOW)
    bookings.place_booking(customer_id=build.customer(), offering_id=cut, slot_id=noon,
                           now=NOW)  # Ada and the chair are someone else's from 12:00

    listed = [target.slot_id for target in move_targets(
        mine.reference, scope=scope, now=NOW,
        start_day=TEN.astimezone(timezone.utc).date()).targets]

    assert quarter_past in listed  # overlaps only its own time of Ada and the chair
    assert half_past_noon not in listed  # overlaps another booking's time of them
    moved = bookings.reschedule_booking(mine.reference, new_slot_id=quarter_past,
                                        actor=Actor(None, "test"), scope=scope, now=NOW)
    db.session.expire_all()
    assert db.session.get(Booking, moved.id).slot_id == quarter_past
