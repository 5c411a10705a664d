"""A new booking that draws a reference already taken draws again instead of failing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, OutboxEvent, Slot
from app.models.types import utcnow
from app.services import booking_rows, bookings


@pytest.fixture
def drawn(monkeypatch):
    """Replaces the random draw (our own randomness, no outside service) with a script:
    the references in ``drawn.queue`` come out first, then random ones again."""
    queue: list[str] = []
    real = bookings.new_reference
    monkeypatch.setattr(booking_rows, "new_reference",
                        lambda: queue.pop(0) if queue else real())
    return queue


def _service(build):
    provider = build.provider()
    offering = build.offering(provider, price_minor=2000)
    slot = build.slot(offering, utcnow() + timedelta(days=2), capacity=5)
    return offering, slot, build.customer()


def test_a_taken_reference_is_drawn_again(app_ctx, build, drawn):
    offering, slot, customer = _service(build)
    first = bookings.place_booking(customer_id=customer, offering_id=offering, slot_id=slot)
    drawn.extend([first.reference, first.reference])  # twice taken, then a fresh one

    second = bookings.place_booking(customer_id=customer, offering_id=offering, slot_id=slot)

    assert second.reference != first.reference
    assert not drawn
    db.session.expire_all()
    # The attempts that clashed left nothing behind: two bookings, two places, two events.
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 2
    assert db.session.get(Slot, slot).booked == 2
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.topic == "booking.created")) == 2


def test_a_product_booking_draws_again_too(app_ctx, build, drawn):
    provider = build.provider()
    product = build.offering(provider, kind="product", price_minor=900)
    variant = build.variant(product, stock=3)
    customer = build.customer()
    first = bookings.place_booking(customer_id=customer, offering_id=product,
                                   variant_id=variant)
    drawn.append(first.reference)

    second = bookings.place_booking(customer_id=customer, offering_id=product,
                                    variant_id=variant)

    assert second.reference != first.reference
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 2


def test_gives_up_after_a_few_draws(app_ctx, build, drawn):
    from sqlalchemy.exc import IntegrityError

    offering, slot, customer = _service(build)
    first = bookings.place_booking(customer_id=customer, offering_id=offering, slot_id=slot)
    drawn.extend([first.reference] * bookings.REFERENCE_ATTEMPTS)

    with pytest.raises(IntegrityError):
        bookings.place_booking(customer_id=customer, offering_id=offering, slot_id=slot)
    db.session.expire_all()
    assert db.session.get(Slot, slot).booked == 1


def test_references_are_six_characters_of_the_alphabet_all_used():
    drawn = [bookings.new_reference() for _ in range(2000)]
    assert all(len(r) == 9 and r.startswith("BW-") for r in drawn)
    characters = {c for r in drawn for c in r[3:]}
    assert characters == set(bookings.REFERENCE_ALPHABET)
    for position in range(3, 9):  # every position varies (no bits reused or left out)
        assert len({r[position] for r in drawn}) == len(bookings.REFERENCE_ALPHABET)
