"""The waiting list of a full time: who may join, who is offered freed places and in
which order, what happens to an offer nobody takes, and that two releases at once never
offer the same place twice (PostgreSQL)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import AvailabilityRule, Booking, OutboxEvent, Slot, WaitlistEntry
from app.models.bookings import CANCELLED, CONFIRMED, EXPIRED, PENDING
from app.models.types import utcnow
from app.models.waitlist import BOOKED, LEFT, OFFER_EXPIRED, OFFERED, WAITING
from app.services import booking_lifecycle, bookings, waitlist
from app.services.scopes import Actor, Scope
from app.services.transactions import unit_of_work
from tests.notifications.conftest import run_jobs

STAFF = Actor(None, "test")
ALL = Scope.all_providers()


@pytest.fixture
def full(build):
    """A time with 2 places, both booked by one customer (one booking of 2)."""
    provider = build.provider(timezone="Europe/Berlin")
    offering = build.offering(provider, price_minor=3000, currency="EUR")
    slot = build.future_slot(offering, capacity=2)
    holder = build.customer()
    placed = bookings.place_booking(customer_id=holder, offering_id=offering, slot_id=slot,
                                    quantity=2)
    return {"provider": provider, "offering": offering, "slot": slot, "holder": holder,
            "reference": placed.reference}


def entry(entry_id: int) -> WaitlistEntry:
    db.session.expire_all()
    return db.session.get(WaitlistEntry, entry_id)


def booked(slot_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Slot, slot_id).booked


def topics(prefix: str) -> list[str]:
    return list(db.session.scalars(select(OutboxEvent.topic).where(
        OutboxEvent.topic.like(prefix + "%")).order_by(OutboxEvent.created_at)))


def cancel(reference: str, app) -> None:
    bookings.cancel_booking(reference, actor=STAFF, scope=ALL)
    run_jobs(app)


def test_joining_a_full_time_puts_customers_in_line_in_order(build, full):
    first = waitlist.join(customer_id=build.customer(), slot_id=full["slot"])
    second = waitlist.join(customer_id=build.customer(), slot_id=full["slot"], quantity=2)
    assert (first.position, second.position) == (1, 2)
    assert first.entry.status == WAITING and first.entry.provider_id == full["provider"]
    assert topics("waitlist.") == ["waitlist.joined", "waitlist.joined"]


def test_a_time_with_places_free_is_booked_not_waited_for(build, full):
    bookings.cancel_booking(full["reference"], actor=STAFF, scope=ALL)
    with pytest.raises(Conflict) as refused:
        waitlist.join(customer_id=build.customer(), slot_id=full["slot"])
    assert refused.value.code == "waitlist.places_free"
    assert db.session.scalar(select(func.count()).select_from(WaitlistEntry)) == 0


def test_joining_twice_more_than_the_time_holds_or_a_past_time_is_refused(build, full):
    customer = build.customer()
    waitlist.join(customer_id=customer, slot_id=full["slot"])
    with pytest.raises(Conflict) as twice:
        waitlist.join(customer_id=customer, slot_id=full["slot"])
    assert twice.value.code == "waitlist.already_in_line"
    with pytest.raises(ValidationFailed) as too_many:
        waitlist.join(customer_id=build.customer(), slot_id=full["slot"], quantity=3)
    assert too_many.value.code == "waitlist.more_than_capacity"
    with pytest.raises(Conflict) as started:
        waitlist.join(customer_id=build.customer(), slot_id=full["slot"],
                      now=utcnow() + timedelta(days=30))
    assert started.value.code == "waitlist.time_started"
    with pytest.raises(NotFound):
        waitlist.join(customer_id=customer, slot_id=full["slot"] + 1000)
    assert db.session.scalar(select(func.count()).select_from(WaitlistEntry)) == 1


def test_a_move_elsewhere_offers_the_places_it_left(app, build, full):
    first = waitlist.join(customer_id=build.customer(), slot_id=full["slot"],
                          quantity=2).entry.id
    second = waitlist.join(customer_id=build.customer(), slot_id=full["slot"]).entry.id
    bookings.reschedule_booking(full["reference"], new_slot_id=build.future_slot(
        full["offering"], days=5, capacity=5), actor=STAFF, scope=ALL)
    run_jobs(app)
    assert (entry(first).status, entry(second).status) == (OFFERED, WAITING)
    offer = db.session.get(Booking, entry(first).booking_id)
    assert (offer.status, offer.quantity, offer.slot_id) == (PENDING, 2, full["slot"])
    assert offer.customer_id == entry(first).customer_id
    held_for = offer.hold_expires_at - offer.created_at
    assert held_for == timedelta(minutes=app.config["WAITLIST_OFFER_MINUTES"])
    assert entry(first).offer_expires_at == offer.hold_expires_at
    assert booked(full["slot"]) == 2
    assert topics("waitlist.")[-1] == "waitlist.offered"


def test_only_the_places_that_came_back_are_offered(app, build):
    provider = build.provider()
    offering = build.offering(provider, price_minor=1000)
    slot = build.future_slot(offering, capacity=3)
    references = [bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                         slot_id=slot).reference for _ in range(3)]
    wants_two = waitlist.join(customer_id=build.customer(), slot_id=slot, quantity=2).entry.id
    wants_one = waitlist.join(customer_id=build.customer(), slot_id=slot).entry.id
    cancel(references[0], app)
    assert (entry(wants_two).status, entry(wants_one).status) == (WAITING, OFFERED)
    assert booked(slot) == 3
    cancel(references[1], app)
    assert entry(wants_two).status == WAITING  # one place free: still not two
    cancel(references[2], app)
    assert entry(wants_two).status == OFFERED and booked(slot) == 3


def test_an_offer_nobody_takes_expires_and_moves_on(app, build, full):
    first = waitlist.join(customer_id=build.customer(), slot_id=full["slot"],
                          quantity=2).entry.id
    second = waitlist.join(customer_id=build.customer(), slot_id=full["slot"],
                           quantity=2).entry.id
    cancel(full["reference"], app)
    offer_id = entry(first).booking_id
    later = utcnow() + timedelta(minutes=app.config["WAITLIST_OFFER_MINUTES"] + 1)
    assert booking_lifecycle.expire_holds(scope=ALL, now=later) == 1
    run_jobs(app)
    assert db.session.get(Booking, offer_id).status == EXPIRED
    assert entry(first).status == OFFER_EXPIRED
    assert entry(second).status == OFFERED and booked(full["slot"]) == 2
    assert topics("waitlist.").count("waitlist.expired") == 1
    assert topics("waitlist.").count("waitlist.offered") == 2


def test_leaving_with_an_offer_declines_it_and_the_next_is_offered(app, build, full):
    leaving_customer = build.customer()
    leaving = waitlist.join(customer_id=leaving_customer, slot_id=full["slot"],
                            quantity=2).entry.id
    next_in_line = waitlist.join(customer_id=build.customer(), slot_id=full["slot"]).entry.id
    cancel(full["reference"], app)
    offer_id = entry(leaving).booking_id
    with pytest.raises(NotFound):  # someone else's entry
        waitlist.leave(leaving, customer_id=build.customer(), actor=STAFF)
    waitlist.leave(leaving, customer_id=leaving_customer, actor=STAFF)
    run_jobs(app)
    assert entry(leaving).status == LEFT
    assert db.session.get(Booking, offer_id).status == CANCELLED
    assert entry(next_in_line).status == OFFERED
    with pytest.raises(Conflict) as again:
        waitlist.leave(leaving, customer_id=leaving_customer, actor=STAFF)
    assert again.value.code == "waitlist.not_in_line"


def test_an_offer_to_pay_online_is_taken_by_paying_it(app, build, full):
    customer = build.customer()
    waiting = waitlist.join(customer_id=customer, slot_id=full["slot"], quantity=2).entry.id
    cancel(full["reference"], app)
    with pytest.raises(Conflict) as refused:
        waitlist.accept(waiting, customer_id=customer, actor=STAFF)
    assert refused.value.code == "waitlist.pay_to_accept"
    offer = db.session.get(Booking, entry(waiting).booking_id)
    with unit_of_work():  # what a successful payment does to its booking
        booking_lifecycle.confirm_paid(db.session.get(Booking, offer.id), actor=STAFF)
    run_jobs(app)
    assert entry(waiting).status == BOOKED
    assert db.session.get(Booking, offer.id).status == CONFIRMED


@pytest.mark.parametrize("pay_at_venue, price, status, held", [
    (True, 2500, PENDING, False),  # waits for staff, as any pay-at-venue booking
    (False, 0, CONFIRMED, False),  # nothing to pay
])
def test_an_offer_with_nothing_to_pay_online_is_accepted(app, build, pay_at_venue, price,
                                                         status, held):
    offering = build.offering(build.provider(), price_minor=price, pay_at_venue=pay_at_venue)
    slot = build.future_slot(offering, capacity=1)
    taken = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                   slot_id=slot)
    customer = build.customer()
    waiting = waitlist.join(customer_id=customer, slot_id=slot).entry.id
    cancel(taken.reference, app)
    offer = db.session.get(Booking, entry(waiting).booking_id)
    assert offer.status == PENDING and offer.hold_expires_at is not None
    accepted = waitlist.accept(waiting, customer_id=customer, actor=STAFF)
    run_jobs(app)
    db.session.expire_all()
    offer = db.session.get(Booking, accepted.id)
    assert offer.status == status and (offer.hold_expires_at is not None) == held
    assert entry(waiting).status == BOOKED


def test_more_capacity_from_the_rules_offers_the_new_places(app, build):
    from app.services import availability
    provider = build.provider(timezone="Europe/Berlin")
    offering = build.offering(provider, price_minor=1000)
    for weekday in range(7):
        build.rule(offering, weekday=weekday, start="10:00", end="11:00", capacity=1)
    availability.generate_slots(scope=ALL, days=3)
    slot = db.session.scalar(select(Slot.id).where(
        Slot.offering_id == offering, Slot.starts_at > utcnow() + timedelta(days=1))
        .order_by(Slot.starts_at))
    bookings.place_booking(customer_id=build.customer(), offering_id=offering, slot_id=slot)
    waiting = waitlist.join(customer_id=build.customer(), slot_id=slot).entry.id
    rules = db.session.scalars(select(AvailabilityRule).where(
        AvailabilityRule.offering_id == offering)).all()
    for rule in rules:
        rule.capacity = 2
    db.session.commit()
    assert availability.generate_slots(scope=ALL, days=3).resized >= 1
    run_jobs(app)
    assert entry(waiting).status == OFFERED and booked(slot) == 2
    assert "slot.capacity_raised" in topics("slot.")


def test_a_customer_who_may_no_longer_book_leaves_the_line(app, build, full):
    from app.models import Account
    customer = build.customer()
    waiting = waitlist.join(customer_id=customer, slot_id=full["slot"]).entry.id
    following = waitlist.join(customer_id=build.customer(), slot_id=full["slot"]).entry.id
    db.session.get(Account, customer).active = False
    db.session.commit()
    cancel(full["reference"], app)
    assert entry(waiting).status == LEFT and entry(waiting).booking_id is None
    assert entry(following).status == OFFERED


def test_staff_see_the_line_of_their_own_times_only(build, full):
    waitlist.join(customer_id=build.customer(), slot_id=full["slot"])
    assert len(waitlist.line_of_slot(full["slot"], scope=Scope.of_provider(
        full["provider"]))) == 1
    with pytest.raises(NotFound):
        waitlist.line_of_slot(full["slot"], scope=Scope.of_provider(build.provider()))


@pytest.mark.postgres
def test_concurrent_releases_offer_each_freed_place_exactly_once(app, build, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")
    offering = build.offering(build.provider(), price_minor=1000)
    slot = build.future_slot(offering, capacity=5)
    references = [bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                         slot_id=slot).reference for _ in range(5)]
    line = [waitlist.join(customer_id=build.customer(), slot_id=slot).entry.id
            for _ in range(10)]
    errors = []
    start = threading.Barrier(10)

    def release(reference):
        with app.app_context():
            try:
                start.wait()
                bookings.cancel_booking(reference, actor=STAFF, scope=ALL)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    def offer():
        with app.app_context():
            try:
                start.wait()
                for _ in range(5):
                    waitlist.offer_freed_places(slot)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=release, args=(r,)) for r in references]
    threads += [threading.Thread(target=offer) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    run_jobs(app)  # the cancellations' own events offer whatever is left
    db.session.expire_all()
    statuses = [entry(entry_id).status for entry_id in line]
    assert statuses == [OFFERED] * 5 + [WAITING] * 5  # first come, first offered
    offers = db.session.scalars(select(Booking).where(
        Booking.id.in_([entry(entry_id).booking_id for entry_id in line[:5]]))).all()
    assert len({offer.customer_id for offer in offers}) == 5
    assert booked(slot) == 5
    assert db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.slot_id == slot, Booking.status == PENDING)) == 5


def test_an_erased_customer_leaves_every_line_and_their_offer_passes_on(app, build, full):
    from app.services import customer_data, customer_erasure
    erased = build.customer()
    offered = waitlist.join(customer_id=erased, slot_id=full["slot"], quantity=2).entry.id
    following = waitlist.join(customer_id=build.customer(), slot_id=full["slot"]).entry.id
    cancel(full["reference"], app)
    offer_id = entry(offered).booking_id
    (exported,) = customer_data.export_customer_data(erased)["waiting_lists"]
    assert (exported["status"], exported["quantity"]) == (OFFERED, 2)
    assert exported["booking_reference"] == db.session.get(Booking, offer_id).reference

    customer_erasure.erase_customer(erased)
    run_jobs(app)
    assert entry(offered).status == LEFT
    assert db.session.get(Booking, offer_id).status == CANCELLED
    assert entry(following).status == OFFERED and booked(full["slot"]) == 1


# --- waiting for a person, not only a place ----------------------------------------------

@pytest.fixture
def one_barber(build):
    """Ada alone does cuts and beard trims; a beard trim has her at the time of a cut."""
    from app.services import resources
    provider = build.provider(timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada").id
    cut = build.offering(provider, name="Cut", price_minor=3000, currency="EUR")
    beard = build.offering(provider, name="Beard trim", price_minor=1500, currency="EUR")
    for offering in (cut, beard):
        resources.set_offering_resources(offering, [ada], scope=scope)
    cut_slot = build.future_slot(cut, capacity=3)
    starts = db.session.get(Slot, cut_slot).starts_at
    beard_slot = build.slot(beard, starts + timedelta(minutes=30), capacity=3)
    trim = bookings.place_booking(customer_id=build.customer(), offering_id=beard,
                                  slot_id=beard_slot)
    return {"cut": cut, "cut_slot": cut_slot, "beard_slot": beard_slot,
            "trim": trim.reference}


def test_a_time_with_places_but_nobody_free_can_be_waited_for(app, build, one_barber):
    from app.services import free_times
    from app.services.agenda import zone_of
    starts = db.session.get(Slot, one_barber["cut_slot"]).starts_at
    month = starts.astimezone(zone_of("Europe/Berlin")).date()
    days = free_times.free_days(one_barber["cut"], month=month, with_full=True)
    assert one_barber["cut_slot"] in [t.slot_id for t in days.full_times]  # to wait for

    waiting = waitlist.join(customer_id=build.customer(), slot_id=one_barber["cut_slot"])
    assert waiting.position == 1
    waitlist.offer_freed_places(one_barber["cut_slot"])  # Ada still busy: no offer...
    assert entry(waiting.entry.id).status == WAITING  # ...and no place lost in line

    cancel(one_barber["trim"], app)  # Ada is free: the cut's line hears of it
    offered = entry(waiting.entry.id)
    assert offered.status == OFFERED and offered.booking_id is not None
    assert booked(one_barber["cut_slot"]) == 1
