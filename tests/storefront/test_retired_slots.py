"""A retired slot (its time no longer offered) is not shown on the offering page, and a
form posted for it before it was retired answers a page with 409, booking nothing."""
from __future__ import annotations

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Booking, Slot
from app.models.types import utcnow


def test_a_retired_slot_is_not_offered_nor_booked(shopper, store):
    page = shopper.get(f"/shop/offerings/{store.offering_id}").get_data(as_text=True)
    assert f"review?slot_id={store.slot_id}&" in page
    db.session.execute(update(Slot).where(Slot.id == store.slot_id).values(retired_at=utcnow()))
    db.session.commit()

    page = shopper.get(f"/shop/offerings/{store.offering_id}").get_data(as_text=True)
    response = shopper.post(f"/shop/offerings/{store.offering_id}/book",
                            data={"slot_id": store.slot_id, "quantity": 1})

    assert f"slot_id={store.slot_id}&" not in page
    assert response.status_code == 409
    assert "That time is no longer offered." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
