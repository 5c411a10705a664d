"""The booking lifecycle's entry points: staff actions need a scope (no scope is a
TypeError, never admin reach), customers act on their own bookings only, every action
is its own transaction (a refusal leaves none open), and the verbs payments and refunds
use run in the caller's transaction."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Booking, Slot
from app.models.types import utcnow
from app.services import bookings
from app.services.bookings import Actor, Scope

STAFF = Actor(None, "by staff")
EVERYWHERE = Scope.all_providers()


@pytest.fixture
def venue(build):
    provider = build.provider()
    offering = build.offering(provider, price_minor=3000, pay_at_venue=True)
    return {"provider": provider, "offering": offering, "customer": build.customer(),
            "slot": build.future_slot(offering, capacity=4),
            "later_slot": build.future_slot(offering, days=4, capacity=4)}


def _place(venue, **fields) -> str:
    return bookings.place_booking(customer_id=venue["customer"],
                                  offering_id=venue["offering"], slot_id=venue["slot"],
                                  **fields).reference


def _status(reference: str) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Booking.status).where(Booking.reference == reference))


STAFF_ACTIONS = {
    "confirm_booking": {},
    "cancel_booking": {},
    "complete_booking": {},
    "mark_no_show": {},
    "reschedule_booking": {"new_slot_id": 1},
    "get_booking_for_update": {},
}


@pytest.mark.parametrize("name", sorted(STAFF_ACTIONS))
@pytest.mark.parametrize("scope", [None, 1, "omitted"])
def test_staff_actions_refuse_to_run_without_a_scope(app_ctx, venue, name, scope):
    reference = _place(venue)
    action = getattr(bookings, name)
    kwargs = dict(STAFF_ACTIONS[name])
    if name != "get_booking_for_update":
        kwargs["actor"] = STAFF
    if scope != "omitted":
        kwargs["scope"] = scope
    with pytest.raises(TypeError):
        action(reference, **kwargs)
    db.session.rollback()
    assert _status(reference) == "pending"


def test_expiring_holds_needs_a_scope_and_keeps_to_it(app_ctx, build, venue):
    online = build.offering(venue["provider"], price_minor=1000)
    mine = bookings.place_booking(customer_id=venue["customer"], offering_id=online,
                                  slot_id=build.future_slot(online)).reference
    elsewhere = build.offering(build.provider(), price_minor=1000)
    theirs = bookings.place_booking(customer_id=venue["customer"], offering_id=elsewhere,
                                    slot_id=build.future_slot(elsewhere)).reference
    later = utcnow() + timedelta(hours=1)
    for scope in (None, venue["provider"]):
        with pytest.raises(TypeError):
            bookings.expire_holds(scope=scope, now=later)
    with pytest.raises(TypeError):
        bookings.expire_holds(now=later)

    assert bookings.expire_holds(scope=Scope.of_provider(venue["provider"]), now=later) == 1
    assert (_status(mine), _status(theirs)) == ("expired", "pending")
    assert bookings.expire_holds(scope=EVERYWHERE, now=later) == 1
    assert _status(theirs) == "expired"


def test_a_refused_action_leaves_no_transaction_open(app_ctx, build, venue):
    online = build.offering(venue["provider"], price_minor=2000)
    reference = bookings.place_booking(customer_id=venue["customer"], offering_id=online,
                                       slot_id=build.future_slot(online)).reference
    with pytest.raises(Conflict):
        bookings.confirm_booking(reference, actor=STAFF, scope=EVERYWHERE)
    # The caller (a console action, say) has nothing to roll back: the row lock is gone.
    assert not db.session().in_transaction()


def test_customers_act_on_their_own_bookings_only(app_ctx, build, venue):
    reference = _place(venue)
    stranger = build.customer()
    with pytest.raises(NotFound):
        bookings.cancel_own_booking(reference, customer_id=stranger, actor=Actor(stranger))
    with pytest.raises(NotFound):
        bookings.reschedule_own_booking(reference, new_slot_id=venue["later_slot"],
                                        customer_id=stranger, actor=Actor(stranger))
    assert _status(reference) == "pending"

    own = Actor(venue["customer"])
    moved = bookings.reschedule_own_booking(reference, new_slot_id=venue["later_slot"],
                                            customer_id=venue["customer"], actor=own)
    assert moved.slot_id == venue["later_slot"]
    bookings.cancel_own_booking(reference, customer_id=venue["customer"], actor=own)
    assert _status(reference) == "cancelled"
    assert db.session.get(Slot, venue["later_slot"]).booked == 0


def test_customers_cannot_change_a_confirmed_booking_late_staff_can(app_ctx, build, venue):
    now = utcnow().replace(second=0, microsecond=0)
    soon = build.slot(venue["offering"], now + timedelta(hours=2), capacity=4)
    reference = _place({**venue, "slot": soon}, now=now)
    bookings.confirm_booking(reference, actor=STAFF, scope=EVERYWHERE)
    own = Actor(venue["customer"])
    with pytest.raises(Conflict) as late:
        bookings.reschedule_own_booking(reference, new_slot_id=venue["later_slot"],
                                        customer_id=venue["customer"], actor=own)
    assert late.value.code == "booking.change_window_passed"
    moved = bookings.reschedule_booking(reference, new_slot_id=venue["later_slot"],
                                        actor=STAFF,
                                        scope=Scope.of_provider(venue["provider"]))
    assert moved.slot_id == venue["later_slot"]


def test_moving_to_a_slot_of_a_switched_off_offering_is_refused(app_ctx, build, venue):
    from app.models import Offering

    reference = _place(venue)
    db.session.get(Offering, venue["offering"]).active = False
    db.session.commit()
    with pytest.raises(NotFound):
        bookings.reschedule_booking(reference, new_slot_id=venue["later_slot"],
                                    actor=STAFF, scope=EVERYWHERE)
    assert db.session.get(Slot, venue["slot"]).booked == 1


def _locked(reference: str) -> Booking:
    return bookings.get_booking_for_update(reference, scope=EVERYWHERE)


@pytest.mark.parametrize("verb, before, after", [
    ("confirm_paid", "pending", "confirmed"),
    ("expire_unpaid", "pending", "expired"),
    ("mark_refunded", "pending", "refunded"),
    ("mark_refunded", "confirmed", "refunded"),
])
def test_the_payment_verbs_run_in_the_callers_transaction(app_ctx, venue, verb, before,
                                                          after):
    reference = _place(venue)
    if before == "confirmed":
        bookings.confirm_booking(reference, actor=STAFF, scope=EVERYWHERE)
    getattr(bookings, verb)(_locked(reference), actor=Actor(None, "payment"))
    db.session.rollback()  # the caller decides: nothing was committed
    assert _status(reference) == before

    getattr(bookings, verb)(_locked(reference), actor=Actor(None, "payment"))
    db.session.commit()
    assert _status(reference) == after
    places = 0 if after in ("expired", "refunded") else 1
    assert db.session.get(Slot, venue["slot"]).booked == places
