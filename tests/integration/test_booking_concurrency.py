"""The overbooking proof: 50 concurrent requests race for 5 places, on PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Slot
from app.models.bookings import HOLDING
from tests.helpers import bearer, token_for

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
        tokens.append(token_for(build.customer()))
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


def test_reschedules_racing_for_the_last_place_never_oversell(app, race, build, client):
    """Five customers holding places elsewhere race to move into one free place."""
    from app.services.bookings import place_booking

    target = build.future_slot(race["offering"], days=5, capacity=1)
    holders = []
    for n in range(5):
        customer = build.customer()
        origin = build.future_slot(race["offering"], days=6 + n, capacity=1)
        reference = place_booking(customer_id=customer, offering_id=race["offering"],
                                  slot_id=origin).reference
        token = token_for(customer)
        holders.append((reference, origin, token))
    barrier = threading.Barrier(len(holders))
    statuses = []

    def move(reference: str, token: str) -> None:
        barrier.wait()
        response = app.test_client().post(f"/api/v1/bookings/{reference}/reschedule",
                                          headers=bearer(token), json={"slot_id": target})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=move, args=(ref, tok)) for ref, _, tok in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] + [409] * 4
    db.session.expire_all()
    assert db.session.get(Slot, target).booked == 1
    origins_held = [db.session.get(Slot, origin).booked for _, origin, _ in holders]
    assert sorted(origins_held) == [0, 1, 1, 1, 1]  # the mover's old place came back


def test_a_slot_locked_longer_than_the_lock_timeout_answers_busy(app, race, client):
    """Another transaction holds the slot's row: the booking waits at most the configured
    lock timeout, then answers 409 busy and takes nothing. (Were the timeout lost, the
    request would wait for the holder, released here after 20 s, and book.)"""
    from sqlalchemy import create_engine, text

    holder = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    conn = holder.connect()
    transaction = conn.begin()
    conn.execute(text("SELECT id FROM slot WHERE id = :id FOR UPDATE"), {"id": race["slot"]})
    release = threading.Timer(20, transaction.rollback)
    release.start()
    try:
        response = client.post("/api/v1/bookings", headers=bearer(race["tokens"][0]),
                               json={"offering_id": race["offering"], "slot_id": race["slot"]})
    finally:
        release.cancel()
        if transaction.is_active:
            transaction.rollback()
        conn.close()
        holder.dispose()
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["code"] == "booking.busy"
    db.session.expire_all()
    assert db.session.get(Slot, race["slot"]).booked == 0
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_one_customer_racing_themselves_gets_no_more_than_the_limit(app, race, build):
    """20 requests of one customer at once, for an offering that allows 2 upcoming
    bookings per customer: exactly 2 are placed (the account row orders them)."""
    from sqlalchemy import update

    from app.models import Offering

    db.session.execute(update(Offering).where(Offering.id == race["offering"]).values(
        max_active_bookings_per_customer=2))
    db.session.commit()
    slot = build.future_slot(race["offering"], days=5, capacity=50)
    token = race["tokens"][0]
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def racer() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/bookings", headers=bearer(token),
                               json={"offering_id": race["offering"], "slot_id": slot})
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=racer) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201] * 2 + [409] * 18
    db.session.expire_all()
    assert db.session.get(Slot, slot).booked == 2
