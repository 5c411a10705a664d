"""Where staff can move a booking: free slots of its offering, never another provider's
booking, never a full, started, retired or the booking's own slot."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.errors import NotFound
from app.extensions import db
from app.models import Slot
from app.models.types import utcnow
from app.services import bookings
from app.services.bookings import Scope
from app.services.reschedule_options import move_targets


@pytest.fixture
def studio(build):
    provider = build.provider(timezone="Europe/Berlin")
    offering = build.offering(provider, pay_at_venue=True)
    customer = build.customer()
    slot = build.future_slot(offering, days=2, capacity=4)
    reference = bookings.place_booking(customer_id=customer, offering_id=offering,
                                       slot_id=slot, quantity=2).reference
    return {"provider": provider, "offering": offering, "slot": slot,
            "reference": reference, "scope": Scope.of_provider(provider)}


def test_lists_free_slots_that_take_the_places_in_the_provider_zone(build, studio):
    roomy = build.future_slot(studio["offering"], days=3, capacity=4)
    too_small = build.future_slot(studio["offering"], days=3.5, capacity=4, booked=3)
    retired = build.future_slot(studio["offering"], days=4, capacity=4)
    db.session.get(Slot, retired).retired_at = utcnow()
    db.session.commit()
    other_offering = build.offering(studio["provider"])
    build.future_slot(other_offering, days=3, capacity=4)

    options = move_targets(studio["reference"], scope=studio["scope"], days=7)

    ids = [target.slot_id for target in options.targets]
    assert ids == [roomy]
    assert studio["slot"] not in ids and too_small not in ids and retired not in ids
    assert options.movable and options.zone == "Europe/Berlin"
    assert str(options.targets[0].starts_at.tzinfo) == "Europe/Berlin"
    assert options.targets[0].remaining == 4


def test_the_window_is_bounded(build, studio):
    far = build.future_slot(studio["offering"], days=20, capacity=4)
    assert far not in [t.slot_id for t in move_targets(
        studio["reference"], scope=studio["scope"], days=7).targets]
    assert far in [t.slot_id for t in move_targets(
        studio["reference"], scope=studio["scope"], days=400,
        start_day=(utcnow() + timedelta(days=1)).date()).targets]


def test_another_providers_booking_is_not_found(build, studio):
    stranger = Scope.of_provider(build.provider())
    with pytest.raises(NotFound):
        move_targets(studio["reference"], scope=stranger)


def test_a_cancelled_booking_has_nowhere_to_go(build, studio):
    build.future_slot(studio["offering"], days=3, capacity=4)
    bookings.cancel_booking(studio["reference"], actor=bookings.Actor(None, "test"),
                            scope=studio["scope"])
    options = move_targets(studio["reference"], scope=studio["scope"])
    assert not options.movable and options.targets == ()
