"""On PostgreSQL a booking is placed from the offering's terms as this process last read
them: whatever changed since is caught by the placing statement, so the booking follows
the change (or is refused for it), never the memory. The same answers hold on SQLite,
which reads the offering every time."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.errors import Conflict, NotFound, Unauthorized
from app.extensions import db
from app.models import Account, Booking, Offering, OutboxEvent, Provider, Slot
from app.services import booking_terms, bookings


@pytest.fixture
def paid(build):
    provider = build.provider()
    offering = build.offering(provider, price_minor=2000)
    return {"provider": provider, "offering": offering,
            "slot": build.future_slot(offering, capacity=5),
            "customer": build.customer()}


def place(paid, **fields):
    values = {"customer_id": paid["customer"], "offering_id": paid["offering"],
              "slot_id": paid["slot"]}
    values.update(fields)
    return bookings.place_booking(**values)


def change(model, row_id, **values):
    db.session.execute(update(model).where(model.id == row_id).values(**values))
    db.session.commit()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_terms_of_an_offering_are_remembered_after_a_booking(paid, is_postgres):
    place(paid)
    remembered = booking_terms.remembered(paid["offering"])
    if is_postgres:  # SQLite places row by row and reads the offering every time
        assert remembered == (paid["offering"], "service", 2000, "EUR", paid["provider"],
                              False, remembered.tax_rate_bp, remembered.tax_inclusive,
                              None, None, False, remembered.provider_timezone)
        assert remembered.provider_timezone  # "any available" counts in the provider's day


def test_limits_lifted_since_are_forgotten_by_the_next_booking(paid, is_postgres):
    change(Offering, paid["offering"], max_active_bookings_per_customer=3)
    place(paid)
    assert booking_terms.remembered(paid["offering"]).limits_customers
    change(Offering, paid["offering"], max_active_bookings_per_customer=None)
    place(paid)  # placed row by row on what was remembered, which it refreshes
    assert not booking_terms.remembered(paid["offering"]).limits_customers
    placed = place(paid)
    assert db.session.get(Slot, paid["slot"]).booked == 3 and placed.quantity == 1


def test_a_new_price_is_charged_by_the_next_booking(paid):
    assert place(paid).unit_price_minor == 2000
    change(Offering, paid["offering"], price_minor=2500)
    placed = place(paid)
    assert (placed.unit_price_minor, placed.total_minor) == (2500, 2500)
    assert db.session.get(Booking, placed.id).unit_price_minor == 2500
    assert db.session.get(Slot, paid["slot"]).booked == 2


def test_a_new_tax_is_charged_by_the_next_booking(paid):
    place(paid)
    change(Provider, paid["provider"], tax_rate_bp=2000, tax_inclusive=False)
    assert place(paid).total_minor == 2400  # 20 % on top


def test_pay_at_venue_switched_on_drops_the_hold(paid):
    assert place(paid).hold_expires_at is not None
    change(Offering, paid["offering"], pay_at_venue=True)
    placed = place(paid)
    assert placed.pay_at_venue and placed.hold_expires_at is None


def test_an_offering_switched_off_since_is_not_found_and_nothing_is_written(paid):
    place(paid)
    change(Offering, paid["offering"], active=False)
    with pytest.raises(NotFound):
        place(paid)
    assert (count(Booking), count(OutboxEvent)) == (1, 1)
    assert db.session.get(Slot, paid["slot"]).booked == 1


def test_an_account_deactivated_since_is_refused_and_nothing_is_written(paid):
    place(paid)
    change(Account, paid["customer"], active=False)
    with pytest.raises(Unauthorized):
        place(paid)
    assert count(Booking) == 1 and db.session.get(Slot, paid["slot"]).booked == 1


def test_a_full_slot_is_refused_with_its_reason_not_as_busy(paid):
    place(paid, quantity=4)
    with pytest.raises(Conflict) as refused:
        place(paid, quantity=2)
    assert refused.value.code == "booking.slot_full"
    assert db.session.get(Slot, paid["slot"]).booked == 4


def test_the_memory_keeps_at_most_its_size(build, paid, is_postgres, monkeypatch):
    monkeypatch.setattr(booking_terms, "REMEMBERED_OFFERINGS", 2)
    monkeypatch.setattr(booking_terms, "_remembered_terms", {})
    offerings = [build.offering(paid["provider"], price_minor=100 * n) for n in (1, 2, 3)]
    for offering in offerings:
        place(paid, offering_id=offering, slot_id=build.future_slot(offering))
    if is_postgres:
        assert list(booking_terms._remembered_terms) == offerings[1:]
