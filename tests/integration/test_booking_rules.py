"""The booking guards: each refuses with its code, the same on every placing path (the
early check in Python, and the conditional UPDATE, which decides), on PostgreSQL and in
embedded mode; and the one list drives both, so a new guard is asked everywhere."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.errors import Conflict, DomainError
from app.extensions import db
from app.models import Account, Booking, Offering, OutboxEvent, Provider, Slot
from app.models.types import utcnow
from app.services import (
    booking_placing,
    booking_places,
    booking_rules,
    booking_statement,
    booking_terms,
    bookings,
)
from app.services.booking_rules import SLOT, Guard
from app.services.transactions import NestedUnitOfWork, unit_of_work


@pytest.fixture
def shop(build, monkeypatch):
    monkeypatch.setattr(booking_terms, "_remembered_terms", {})
    provider = build.provider()
    offering = build.offering(provider, price_minor=2000)
    return {"provider": provider, "offering": offering, "customer": build.customer(),
            "slot": build.future_slot(offering, capacity=3),
            "other_slot": build.future_slot(build.offering(provider, price_minor=100))}


def change(model, row_id, **values):
    db.session.execute(update(model).where(model.id == row_id).values(**values))
    db.session.commit()


# Each guard, and how to break it (alone): (name, code, break, place's extra fields).
BROKEN = {
    "customer_active": (lambda s: change(Account, s["customer"], active=False), {}),
    "offering_active": (lambda s: change(Offering, s["offering"], active=False), {}),
    "provider_active": (lambda s: change(Provider, s["provider"], active=False), {}),
    "slot_of_offering": (lambda s: None, {"slot_id": "other_slot"}),
    "slot_offered": (lambda s: change(Slot, s["slot"], retired_at=utcnow()), {}),
    "slot_not_started": (lambda s: change(Slot, s["slot"],
                                          starts_at=utcnow() - timedelta(minutes=5)), {}),
    "slot_has_room": (lambda s: None, {"quantity": 4}),
    # The slot is 3 days ahead (build.future_slot).
    "slot_after_notice": (lambda s: change(Offering, s["offering"],
                                           min_notice_minutes=4 * 24 * 60), {}),
    "slot_within_horizon": (lambda s: change(Offering, s["offering"],
                                             booking_horizon_days=2), {}),
    "customer_booking_limit": (lambda s: (
        place(s), change(Offering, s["offering"], max_active_bookings_per_customer=1)), {}),
    "customer_hold_limit": (lambda s: change(Offering, s["offering"],
                                             max_held_places_per_customer=1),
                            {"quantity": 2}),
}
CODES = {guard.name: guard.code for guard in booking_rules.GUARDS}


def place(shop, **fields):
    values = {"customer_id": shop["customer"], "offering_id": shop["offering"],
              "slot_id": shop["slot"]}
    values.update({k: shop[v] if k == "slot_id" else v for k, v in fields.items()})
    return bookings.place_booking(**values)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_every_guard_has_a_way_to_break_it_here():
    assert set(BROKEN) == set(CODES)


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_guard_refuses_with_its_code_and_writes_nothing(shop, name):
    breaking, fields = BROKEN[name]
    breaking(shop)
    before = (count(Booking), count(OutboxEvent), db.session.get(Slot, shop["slot"]).booked)
    with pytest.raises(DomainError) as refused:
        place(shop, **fields)
    assert refused.value.code == CODES[name]
    db.session.expire_all()
    assert (count(Booking), count(OutboxEvent),
            db.session.get(Slot, shop["slot"]).booked) == before


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_guard_refuses_the_same_after_the_terms_were_remembered(shop, name):
    # PostgreSQL tries its placing statement on the remembered terms first: the UPDATE
    # refuses, and the fresh read says why. SQLite reads every time: the same answer.
    place(shop)
    breaking, fields = BROKEN[name]
    breaking(shop)
    before = (count(Booking), db.session.get(Slot, shop["slot"]).booked)
    with pytest.raises(DomainError) as refused:
        place(shop, **fields)
    assert refused.value.code == CODES[name]
    db.session.expire_all()
    assert (count(Booking), db.session.get(Slot, shop["slot"]).booked) == before


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_guards_sql_alone_stops_the_update(shop, name):
    """The conditional UPDATE with only this guard takes nothing; with every other
    guard it would take the places: the guard's SQL is what refuses."""
    breaking, fields = BROKEN[name]
    breaking(shop)
    offering = db.session.get(Offering, shop["offering"])
    db.session.refresh(offering)
    params = dict(offering_id=shop["offering"], customer_id=shop["customer"],
                  slot_id=shop[fields.get("slot_id", "slot")],
                  quantity=fields.get("quantity", 1), now=utcnow(),
                  min_notice_minutes=offering.min_notice_minutes,
                  booking_horizon_days=offering.booking_horizon_days)
    this = tuple(g for g in booking_rules.GUARDS if g.name == name)
    others = tuple(g for g in booking_rules.GUARDS if g.name != name)
    with db.engine.connect() as conn:
        taken = conn.execute(booking_places.taking_places(this, conn.dialect.name),
                             booking_places.place_parameters(**params)).first()
        taken_by_others = None
        if name != "slot_has_room":
            taken_by_others = conn.execute(booking_places.taking_places(others, conn.dialect.name),
                                           booking_places.place_parameters(**params)).first()
        conn.rollback()
    assert taken is None
    # Another offering's slot fails no other guard; a slot too small for the places
    # would break the slot's CHECK constraint (the last line of defence) without it; a
    # started slot is also before the minimum notice (none: not before now).
    if name not in ("slot_of_offering", "slot_has_room", "slot_not_started"):
        assert taken_by_others is not None


@pytest.mark.parametrize("name", ["slot_offered", "slot_not_started", "slot_has_room"])
def test_the_early_check_and_the_update_give_the_same_answer(shop, monkeypatch, name):
    # The slot changed between the first look and the conditional UPDATE: without the
    # early check the UPDATE refuses, and its reason is read afresh.
    monkeypatch.setattr(booking_placing, "_check_slot", lambda *args: None)
    breaking, fields = BROKEN[name]
    breaking(shop)
    with pytest.raises(DomainError) as refused:
        place(shop, **fields)
    assert refused.value.code == CODES[name]
    assert count(Booking) == 0


NO_PAIRS = Guard("no_pairs", SLOT, "booking.no_pairs", lambda v: v.quantity != 2,
                 lambda v: Conflict("booking.no_pairs", "Not two at once."))


@pytest.fixture
def with_a_new_guard(monkeypatch):
    monkeypatch.setattr(booking_rules, "GUARDS", booking_rules.GUARDS + (NO_PAIRS,))


def test_a_new_guard_is_asked_before_anything_is_written(shop, with_a_new_guard):
    with pytest.raises(Conflict) as refused:
        place(shop, quantity=2)
    assert refused.value.code == "booking.no_pairs"
    assert place(shop, quantity=3).quantity == 3  # the others still pass


def test_a_new_guard_is_in_the_update_that_decides(shop, with_a_new_guard, monkeypatch):
    monkeypatch.setattr(booking_placing, "_check_slot", lambda *args: None)
    with pytest.raises(Conflict) as refused:
        place(shop, quantity=2)
    assert refused.value.code == "booking.no_pairs"
    assert count(Booking) == 0 and db.session.get(Slot, shop["slot"]).booked == 0


def test_a_new_guard_is_in_the_placing_statement():
    from sqlalchemy.dialects import postgresql

    def sql(guards):
        return str(booking_statement.placing_statement(guards, False, 1).compile(
            dialect=postgresql.psycopg.dialect()))

    # NO_PAIRS is "quantity != 2": one more inequality than the guards have themselves.
    assert sql(booking_rules.GUARDS + (NO_PAIRS,)).count("!=") == \
        sql(booking_rules.GUARDS).count("!=") + 1


def test_the_guards_are_asked_in_order_the_first_failing_answers(shop):
    # Both the customer and the slot are refused: the customer is asked first.
    change(Account, shop["customer"], active=False)
    with pytest.raises(DomainError) as refused:
        place(shop, quantity=4)
    assert refused.value.code == "auth.unknown_user"


def test_placing_refuses_to_run_inside_an_open_unit_of_work(shop):
    with pytest.raises(NestedUnitOfWork):
        with unit_of_work():
            place(shop)
    assert count(Booking) == 0


def test_a_new_guard_is_asked_when_a_booking_moves(shop, build, monkeypatch):
    placed = place(shop, quantity=2)
    later = build.future_slot(shop["offering"], days=5)
    monkeypatch.setattr(booking_rules, "GUARDS", booking_rules.GUARDS + (NO_PAIRS,))
    with pytest.raises(Conflict) as refused:
        bookings.reschedule_booking(placed.reference, new_slot_id=later,
                                    actor=bookings.Actor(None),
                                    scope=bookings.Scope.all_providers())
    assert refused.value.code == "booking.no_pairs"
    assert db.session.get(Slot, later).booked == 0
