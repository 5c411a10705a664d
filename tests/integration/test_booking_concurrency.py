"""The overbooking proof: 50 concurrent requests race for 5 places, on PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Slot
from app.models.bookings import HOLDING
from tests.helpers import api_login, bearer

RACERS = 50
CAPACITY = 5


@pytest.fixture
def race(app, build, client, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")
    offering = build.offering(build.provider(), price_minor=1000)
    slot = build.future_slot(offering, capacity=CAPACITY)
    tokens = []
    for _ in range(5):
        customer = build.customer()
        tokens.append(api_login(client, build.email_of(customer))["access_token"])
    return {"offering": offering, "slot": slot, "tokens": tokens}


def test_fifty_concurrent_requests_never_oversell_five_places(app, race):
    barrier = threading.Barrier(RACERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def racer(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/bookings", headers=bearer(race["tokens"][n % 5]),
                               json={"offering_id": race["offering"], "slot_id": race["slot"]})
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201] * CAPACITY + [409] * (RACERS - CAPACITY)
    db.session.expire_all()
    slot = db.session.get(Slot, race["slot"])
    held = db.session.scalar(select(func.coalesce(func.sum(Booking.quantity), 0)).where(
        Booking.slot_id == race["slot"], Booking.status.in_(HOLDING)))
    assert slot.booked == held == CAPACITY
