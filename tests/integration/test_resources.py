"""Staff, rooms and equipment: a resource is never booked twice at once, across every
offering that uses it; "any available" spreads bookings fairly; buffers, time off,
cancellations and moves change its time; lists show only times with someone free. The
races run on PostgreSQL, whose exclusion constraint decides."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Booking, Offering, ResourceBooking, Slot
from app.services import (
    booking_lifecycle,
    booking_terms,
    bookings,
    free_times,
    resource_time,
    resources,
)
from app.services.scopes import Actor, Scope

STAFF = Actor(None, "test")
ALL = Scope.all_providers()
TEN = datetime(2030, 6, 4, 8, 0, tzinfo=timezone.utc)  # 10:00 in Berlin


@pytest.fixture
def shop(build):
    """A barbershop in Berlin: two services both done by Ada (and a chair each time)."""
    provider = build.provider(timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada", kind="staff").id
    chair = resources.create_resource(scope=scope, name="Chair 1", kind="room").id
    cut = build.offering(provider, name="Cut", price_minor=3000)
    beard = build.offering(provider, name="Beard trim", price_minor=1500)
    for offering in (cut, beard):
        resources.set_offering_resources(offering, [ada, chair], scope=scope)
    return {"provider": provider, "scope": scope, "ada": ada, "chair": chair, "cut": cut,
            "beard": beard, "cut_at_ten": build.slot(cut, TEN, capacity=5),
            "beard_at_ten": build.slot(beard, TEN, capacity=5)}


def book(build, offering, slot, **fields):
    return bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                  slot_id=slot, **fields)


def taken_by(reference) -> list[int]:
    db.session.expire_all()
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    return sorted(db.session.scalars(select(ResourceBooking.resource_id).where(
        ResourceBooking.booking_id == booking.id)))


def resource_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ResourceBooking))


def booking_in_background(app, customer: int, offering: int, slot: int):
    """A thread that books ``slot`` for ``customer`` once started; the bookings it placed
    and the errors it met."""
    placed, errors = [], []

    def request():
        with app.app_context():
            try:
                placed.append(bookings.place_booking(customer_id=customer,
                                                     offering_id=offering, slot_id=slot))
            except Exception as exc:  # pragma: no cover - reported by the test
                errors.append(exc)

    return threading.Thread(target=request), placed, errors


def locks_awaited(thread) -> list[str]:
    """The kinds of lock (pg_locks.locktype) someone waits for, once anyone does (or the
    thread ended)."""
    waits = []
    for _ in range(100):
        waits = db.session.execute(text(
            "SELECT locktype FROM pg_locks WHERE NOT granted")).scalars().all()
        db.session.rollback()
        if waits or not thread.is_alive():
            break
        time.sleep(0.05)
    return waits


def test_one_barber_two_services_the_same_time_is_booked_once(build, shop):
    first = book(build, shop["cut"], shop["cut_at_ten"])
    assert taken_by(first.reference) == sorted([shop["ada"], shop["chair"]])
    with pytest.raises(Conflict) as refused:
        book(build, shop["beard"], shop["beard_at_ten"])
    assert refused.value.code == "booking.resource_busy"
    assert db.session.get(Slot, shop["beard_at_ten"]).booked == 0  # nothing half-applied
    assert resource_rows() == 2
    with pytest.raises(Conflict):  # the same service too: capacity 5, but one Ada
        book(build, shop["cut"], shop["cut_at_ten"])


def test_a_remembered_service_refused_for_its_people_leaves_nothing(build, shop,
                                                                    is_postgres):
    """On PostgreSQL the second booking of an offering is placed by the statement, then
    its people are taken in the same transaction: a refusal takes the statement's rows
    and places back with it."""
    beard_at_one = build.slot(shop["beard"], TEN + timedelta(hours=3), capacity=5)
    book(build, shop["beard"], beard_at_one)
    first = book(build, shop["cut"], shop["cut_at_ten"])
    if is_postgres:
        assert booking_terms.remembered(shop["cut"]).needs_resources
    counted = (db.session.scalar(select(func.count()).select_from(Booking)), resource_rows())
    for _ in range(2):  # the second time from the remembered terms
        with pytest.raises(Conflict) as refused:
            book(build, shop["beard"], shop["beard_at_ten"])
        assert refused.value.code == "booking.resource_busy"
    with pytest.raises(Conflict):
        book(build, shop["cut"], shop["cut_at_ten"])
    db.session.expire_all()
    assert (db.session.scalar(select(func.count()).select_from(Booking)),
            resource_rows()) == counted
    assert db.session.get(Slot, shop["beard_at_ten"]).booked == 0
    assert db.session.get(Slot, shop["cut_at_ten"]).booked == 1
    assert db.session.get(Slot, beard_at_one).booked == 1
    assert taken_by(first.reference) == sorted([shop["ada"], shop["chair"]])


def test_lists_show_only_the_times_someone_is_free(build, shop):
    eleven = build.slot(shop["beard"], TEN + timedelta(hours=1), capacity=5)
    now = TEN - timedelta(days=2)
    day = TEN.astimezone(timezone(timedelta(hours=2))).date()
    listed = [t.slot_id for t in free_times.free_times_on(shop["beard"], day=day,
                                                          now=now).times]
    assert listed == [shop["beard_at_ten"], eleven]
    # Five places, but one Ada and one chair: one more booking at a time.
    assert [t.remaining for t in free_times.free_times_on(shop["beard"], day=day,
                                                          now=now).times] == [1, 1]
    book(build, shop["cut"], shop["cut_at_ten"])
    listed = [t.slot_id for t in free_times.free_times_on(shop["beard"], day=day,
                                                          now=now).times]
    assert listed == [eleven]


def test_cancelling_or_expiring_gives_the_time_back(build, shop):
    first = book(build, shop["cut"], shop["cut_at_ten"])
    bookings.cancel_booking(first.reference, actor=STAFF, scope=ALL)
    assert resource_rows() == 0
    second = book(build, shop["beard"], shop["beard_at_ten"])
    assert taken_by(second.reference) == sorted([shop["ada"], shop["chair"]])
    expired = booking_lifecycle.expire_holds(scope=ALL,
                                             now=datetime.now(timezone.utc) + timedelta(days=1))
    assert expired == 1 and resource_rows() == 0


def test_any_available_spreads_the_day_and_a_choice_is_kept(build, shop):
    bob = resources.create_resource(scope=shop["scope"], name="Bob", kind="staff").id
    chair2 = resources.create_resource(scope=shop["scope"], name="Chair 2", kind="room").id
    resources.set_offering_resources(shop["cut"], [shop["ada"], bob, shop["chair"], chair2],
                                     scope=shop["scope"])
    # Ada has a booking that day already: "any" gives Bob first.
    earlier = build.slot(shop["cut"], TEN - timedelta(hours=2), capacity=5)
    assert shop["ada"] in taken_by(book(build, shop["cut"], earlier,
                                        resource_id=shop["ada"]).reference)
    first = book(build, shop["cut"], shop["cut_at_ten"])
    assert bob in taken_by(first.reference)
    second = book(build, shop["cut"], shop["cut_at_ten"])
    assert shop["ada"] in taken_by(second.reference)
    with pytest.raises(Conflict) as nobody:
        book(build, shop["cut"], shop["cut_at_ten"])
    assert nobody.value.code == "booking.resource_busy"


def test_any_available_counts_the_provider_s_day_on_a_day_of_25_hours(build, shop):
    """Berlin's clocks go back on 27 October 2030: that day ends at 23:00 UTC, 25 hours
    after it began. Ada's booking at 23:15 that evening is hers that day; Bob's at 00:15
    the next morning is not."""
    bob = resources.create_resource(scope=shop["scope"], name="Bob", kind="staff").id
    resources.set_offering_resources(shop["cut"], [shop["ada"], bob, shop["chair"]],
                                     scope=shop["scope"])
    late_evening = datetime(2030, 10, 27, 22, 15, tzinfo=timezone.utc)  # 23:15 CET
    next_morning = datetime(2030, 10, 27, 23, 15, tzinfo=timezone.utc)  # 00:15 CET
    for who, at in ((shop["ada"], late_evening), (bob, next_morning)):
        book(build, shop["cut"], build.slot(shop["cut"], at, capacity=5), resource_id=who)
    morning = build.slot(shop["cut"], datetime(2030, 10, 27, 9, 0, tzinfo=timezone.utc),
                         capacity=5)
    for _ in range(2):  # the second time from the remembered terms, on PostgreSQL
        placed = book(build, shop["cut"], morning)
        assert bob in taken_by(placed.reference)
        bookings.cancel_booking(placed.reference, actor=STAFF, scope=ALL)


def test_nobody_of_one_kind_free_takes_nothing_and_rolls_nothing_back(build, shop,
                                                                       is_postgres):
    """A second chair is free at ten but Ada is not: the booking is refused, naming the
    staff, and nobody's time is taken. On PostgreSQL the refusal has written nothing,
    so its transaction ends with COMMIT: a ROLLBACK would make the driver forget the
    statements it prepared on the connection."""
    from sqlalchemy import event

    chair2 = resources.create_resource(scope=shop["scope"], name="Chair 2", kind="room").id
    resources.set_offering_resources(shop["beard"], [shop["ada"], shop["chair"], chair2],
                                     scope=shop["scope"])
    book(build, shop["beard"], build.slot(shop["beard"], TEN + timedelta(hours=3)))
    book(build, shop["cut"], shop["cut_at_ten"])
    counted = (db.session.scalar(select(func.count()).select_from(Booking)), resource_rows())
    customer = build.customer()
    db.session.commit()  # the session holds no transaction: only the booking's counts
    ended = []
    listeners = {"commit": lambda conn: ended.append("commit"),
                 "rollback": lambda conn: ended.append("rollback")}
    for name, listener in listeners.items():
        event.listen(db.engine, name, listener)
    try:
        with pytest.raises(Conflict) as refused:
            bookings.place_booking(customer_id=customer, offering_id=shop["beard"],
                                   slot_id=shop["beard_at_ten"])
    finally:
        for name, listener in listeners.items():
            event.remove(db.engine, name, listener)
    assert refused.value.code == "booking.resource_busy"
    assert refused.value.errors == {"resource_id": ["No staff is free at that time."]}
    if is_postgres:
        assert "commit" in ended and "rollback" not in ended
    db.session.expire_all()
    assert (db.session.scalar(select(func.count()).select_from(Booking)),
            resource_rows()) == counted
    assert db.session.get(Slot, shop["beard_at_ten"]).booked == 0


def test_people_linked_or_stopped_since_the_last_booking_count_at_once(build, shop):
    """The offering's needs may be remembered between bookings (PostgreSQL): a person
    linked since is given the next booking as the least booked, and one made inactive
    is not given it."""
    book(build, shop["cut"], build.slot(shop["cut"], TEN - timedelta(hours=2)))
    bob = resources.create_resource(scope=shop["scope"], name="Bob", kind="staff").id
    resources.set_offering_resources(shop["cut"], [shop["ada"], bob, shop["chair"]],
                                     scope=shop["scope"])
    assert bob in taken_by(book(build, shop["cut"], shop["cut_at_ten"]).reference)
    resources.update_resource(shop["ada"], scope=shop["scope"], active=False)
    later = build.slot(shop["cut"], TEN + timedelta(hours=2))
    assert taken_by(book(build, shop["cut"], later).reference) == sorted(
        [bob, shop["chair"]])


def test_a_chosen_person_busy_then_is_refused_not_swapped(build, shop):
    bob = resources.create_resource(scope=shop["scope"], name="Bob", kind="staff").id
    resources.set_offering_resources(shop["cut"], [shop["ada"], bob, shop["chair"]],
                                     scope=shop["scope"])
    noon = build.slot(shop["cut"], TEN + timedelta(hours=2), capacity=5)
    book(build, shop["cut"], noon, resource_id=bob)
    with pytest.raises(Conflict):
        book(build, shop["cut"], noon, resource_id=bob)
    with pytest.raises(ValidationFailed) as stranger:
        book(build, shop["cut"], noon, resource_id=bob + 999)
    assert stranger.value.code == "resource.not_of_offering"


def test_buffers_block_the_resource_across_a_clock_change(build, shop):
    # Berlin's clocks go forward at 02:00 on 31 March 2030: a 30-minute slot at 01:00
    # (CET, 00:00 UTC) with an hour of clean-up ends its resource time at 01:30 UTC,
    # which is 03:30 CEST; an 03:00 CEST slot (01:00 UTC) overlaps it, 03:30 does not.
    db.session.execute(db.text("UPDATE offering SET buffer_after_minutes = 60 "
                               "WHERE id = :id"), {"id": shop["cut"]})
    db.session.commit()
    night = datetime(2030, 3, 31, 0, 0, tzinfo=timezone.utc)
    late = build.slot(shop["cut"], night, minutes=30)
    assert db.session.get(Slot, late).resource_until == night + timedelta(minutes=90)
    three = build.slot(shop["beard"], night + timedelta(hours=1))
    half_past = build.slot(shop["beard"], night + timedelta(minutes=90))
    book(build, shop["cut"], late)
    with pytest.raises(Conflict):
        book(build, shop["beard"], three)
    assert book(build, shop["beard"], half_past).reference


def test_changing_buffers_moves_the_future_slots_resource_time(build, shop):
    resources_scope = shop["scope"]
    from app.services import catalog
    catalog.update(catalog.OFFERING, row_id=shop["cut"], scope=resources_scope,
                   changes={"buffer_before_minutes": 15})
    slot = db.session.get(Slot, shop["cut_at_ten"])
    assert (slot.resource_from, slot.resource_until) == (TEN - timedelta(minutes=15),
                                                        TEN + timedelta(hours=1))
    with pytest.raises(ValidationFailed) as refused:
        catalog.update(catalog.OFFERING, row_id=shop["cut"], scope=resources_scope,
                       changes={"buffer_after_minutes": 2000})
    assert refused.value.code == "catalog.invalid_buffer"


def test_time_off_hides_and_refuses_the_time(build, shop):
    resources.add_time_off(shop["ada"], scope=shop["scope"], starts_at=TEN - timedelta(hours=1),
                           ends_at=TEN + timedelta(minutes=30), reason="Dentist")
    with pytest.raises(Conflict):
        book(build, shop["cut"], shop["cut_at_ten"])
    day = datetime(2030, 6, 4).date()
    assert free_times.free_times_on(shop["cut"], day=day,
                                    now=TEN - timedelta(days=1)).times == []


def test_a_move_takes_the_people_along_or_nothing_moves(build, shop):
    placed = book(build, shop["cut"], shop["cut_at_ten"])
    later = build.slot(shop["cut"], TEN + timedelta(hours=3), capacity=5)
    bookings.reschedule_booking(placed.reference, new_slot_id=later, actor=STAFF, scope=ALL)
    row = db.session.scalar(select(ResourceBooking).where(
        ResourceBooking.resource_id == shop["ada"]))
    assert row.starts_at == TEN + timedelta(hours=3)
    other = book(build, shop["beard"], shop["beard_at_ten"])  # Ada is free at ten again
    with pytest.raises(Conflict):  # and moving back onto her is refused
        bookings.reschedule_booking(placed.reference, new_slot_id=shop["cut_at_ten"],
                                    actor=STAFF, scope=ALL)
    db.session.expire_all()
    assert db.session.get(Booking, placed.id).slot_id == later
    assert taken_by(other.reference) == sorted([shop["ada"], shop["chair"]])
    assert resource_rows() == 4


def test_a_move_to_a_time_that_is_not_the_offering_s_says_so_and_keeps_the_people(
        build, shop):
    placed = book(build, shop["cut"], shop["cut_at_ten"])
    for slot in (shop["beard_at_ten"] + 10_000, shop["beard_at_ten"]):  # none; another's
        with pytest.raises(ValidationFailed) as refused:
            bookings.reschedule_booking(placed.reference, new_slot_id=slot, actor=STAFF,
                                        scope=ALL)
        assert refused.value.code == "booking.unknown_slot"
    assert taken_by(placed.reference) == sorted([shop["ada"], shop["chair"]])


def test_resources_are_the_providers_own(build, shop):
    other = Scope.of_provider(build.provider())
    with pytest.raises(NotFound):
        resources.get_resource(shop["ada"], scope=other)
    with pytest.raises(NotFound):
        resources.set_offering_resources(shop["cut"], [shop["ada"]], scope=other)
    stranger = resources.create_resource(scope=other, name="Eve").id
    with pytest.raises(ValidationFailed):
        resources.set_offering_resources(shop["cut"], [stranger], scope=shop["scope"])
    with pytest.raises(Conflict):
        resources.create_resource(scope=shop["scope"], name="Ada")
    resources.update_resource(shop["ada"], scope=shop["scope"], active=False)
    # Nobody active of her kind: the offering's times are not offered, not bookable.
    with pytest.raises(Conflict):
        book(build, shop["cut"], shop["cut_at_ten"])


def test_a_remembered_offering_linked_to_resources_since_takes_their_time(build, is_postgres):
    provider = build.provider()
    scope = Scope.of_provider(provider)
    offering = build.offering(provider)
    slot = build.slot(offering, TEN, capacity=5)
    book(build, offering, slot)  # remembered without resources (PostgreSQL's statement)
    assert booking_terms.remembered(offering) is None or \
        not booking_terms.remembered(offering).needs_resources
    ada = resources.create_resource(scope=scope, name="Ada").id
    resources.set_offering_resources(offering, [ada], scope=scope)
    placed = book(build, offering, slot)
    assert taken_by(placed.reference) == [ada]
    with pytest.raises(Conflict):
        book(build, offering, slot)


@pytest.mark.postgres
@pytest.mark.parametrize("people", [1, 3])
def test_concurrent_requests_across_offerings_take_each_person_once(app, build, shop,
                                                                    is_postgres, people):
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")
    staff = [shop["ada"]] + [resources.create_resource(scope=shop["scope"], name=f"P{n}").id
                             for n in range(people - 1)]
    chairs = [shop["chair"]] + [resources.create_resource(
        scope=shop["scope"], name=f"C{n}", kind="room").id for n in range(people - 1)]
    for offering in (shop["cut"], shop["beard"]):
        resources.set_offering_resources(offering, staff + chairs, scope=shop["scope"])
    customers = [build.customer() for _ in range(20)]
    start = threading.Barrier(20)
    placed, refused, errors = [], [], []

    def request(n):
        offering, slot = ((shop["cut"], shop["cut_at_ten"]) if n % 2 else
                          (shop["beard"], shop["beard_at_ten"]))
        with app.app_context():
            start.wait()
            try:
                placed.append(bookings.place_booking(customer_id=customers[n],
                                                     offering_id=offering, slot_id=slot))
            except Conflict as exc:
                refused.append(exc.code)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=request, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(placed) == people and len(refused) == 20 - people
    assert set(refused) <= {"booking.resource_busy", "booking.busy"}
    taken = db.session.execute(select(ResourceBooking.resource_id, func.count())
                               .group_by(ResourceBooking.resource_id)).all()
    assert sorted(taken) == sorted((rid, 1) for rid in staff + chairs)
    booked = db.session.execute(select(func.sum(Slot.booked)).where(
        Slot.id.in_([shop["cut_at_ten"], shop["beard_at_ten"]]))).scalar()
    assert booked == people


@pytest.mark.postgres
def test_a_person_taken_while_the_booking_looked_leaves_it_the_next_one(app, build, shop,
                                                                       is_postgres):
    """"Any available" picks Ada, free when its statement began; a concurrent booking
    holding her then commits first: the exclusion constraint leaves her out, and the
    booking takes the next person instead of failing."""
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")
    bea = resources.create_resource(scope=shop["scope"], name="Bea").id
    resources.set_offering_resources(shop["cut"], [shop["ada"], bea], scope=shop["scope"])
    # One booking each earlier that day: Ada (by name) comes first for the next.
    other = book(build, shop["cut"], build.slot(shop["cut"], TEN - timedelta(hours=2)))
    book(build, shop["cut"], build.slot(shop["cut"], TEN - timedelta(hours=1)))
    other_id = db.session.scalar(select(Booking.id).where(
        Booking.reference == other.reference))
    thread, placed, errors = booking_in_background(app, build.customer(), shop["cut"],
                                                   shop["cut_at_ten"])
    db.session.commit()
    with db.engine.connect() as concurrent:  # a writer that does not wait its turn
        concurrent.execute(ResourceBooking.__table__.insert().values(
            resource_id=shop["ada"], booking_id=other_id, provider_id=shop["provider"],
            starts_at=TEN, ends_at=TEN + timedelta(hours=1), share_key=f"booking:{other_id}"))
        thread.start()
        waits = locks_awaited(thread)  # the booking's insert waits for this row
        concurrent.commit()
        thread.join()
    assert errors == [] and waits == ["transactionid"]
    assert taken_by(placed[0].reference) == [bea]


def test_a_provider_s_bookings_take_their_people_one_at_a_time(app, build, shop,
                                                                is_postgres):
    """A booking of the shop holds its turn (and Ada) while it is not committed: the next
    one waits for the turn, not for Ada's row, then sees her taken and has Bea. Nobody
    holds one person while waiting for another, so two bookings never deadlock."""
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")
    bea = resources.create_resource(scope=shop["scope"], name="Bea").id
    resources.set_offering_resources(shop["cut"], [shop["ada"], bea], scope=shop["scope"])
    first = book(build, shop["cut"], build.slot(shop["cut"], TEN - timedelta(hours=2)))
    first_id = db.session.scalar(select(Booking.id).where(
        Booking.reference == first.reference))
    thread, placed, errors = booking_in_background(app, build.customer(), shop["cut"],
                                                   shop["cut_at_ten"])
    db.session.commit()
    with db.engine.connect() as concurrent:
        taken = resource_time.assign(
            concurrent, booking_id=first_id, provider_id=shop["provider"],
            offering_id=shop["cut"], slot_id=shop["cut_at_ten"], chosen=shop["ada"],
            zone_name="Europe/Berlin")
        thread.start()
        waits = locks_awaited(thread)
        concurrent.commit()
        thread.join()
    assert taken == [shop["ada"]] and errors == []
    assert waits == ["advisory"]
    assert taken_by(placed[0].reference) == [bea]


# --- a class shares its teacher ---------------------------------------------------------

@pytest.fixture
def studio(build):
    """A yoga studio in Berlin: Ada and Bob teach the 10:00 class (8 places, shared), and
    Ada also gives private sessions (her own time each)."""
    provider = build.provider(timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada").id
    bob = resources.create_resource(scope=scope, name="Bob").id
    yoga = build.offering(provider, name="Yoga class", price_minor=1500)
    private = build.offering(provider, name="Private session", price_minor=6000)
    resources.set_offering_resources(yoga, [ada, bob], scope=scope)
    resources.set_offering_resources(private, [ada], scope=scope)
    db.session.get(Offering, yoga).resources_shared = True
    db.session.commit()
    return {"scope": scope, "ada": ada, "bob": bob, "yoga": yoga, "private": private,
            "class": build.slot(yoga, TEN, capacity=8),
            "session": build.slot(private, TEN + timedelta(minutes=30), capacity=1)}


def test_everyone_in_a_class_has_its_one_teacher(build, studio):
    first = book(build, studio["yoga"], studio["class"])
    teacher = taken_by(first.reference)
    assert len(teacher) == 1
    for _ in range(3):
        assert taken_by(book(build, studio["yoga"], studio["class"]).reference) == teacher
    other = ({studio["ada"], studio["bob"]} - set(teacher)).pop()
    with pytest.raises(Conflict) as someone_else:
        book(build, studio["yoga"], studio["class"], resource_id=other)
    assert someone_else.value.errors == {"resource_id": ["That time is with someone else."]}
    assert taken_by(book(build, studio["yoga"], studio["class"],
                         resource_id=teacher[0]).reference) == teacher
    assert db.session.get(Slot, studio["class"]).booked == 5
    day = TEN.astimezone(timezone(timedelta(hours=2))).date()
    now = TEN - timedelta(days=2)

    def listed_with(person):
        return [t.slot_id for t in free_times.free_times_on(
            studio["yoga"], day=day, now=now, resource_id=person).times]
    assert listed_with(teacher[0]) == [studio["class"]]
    [open_class] = free_times.free_times_on(studio["yoga"], day=day, now=now).times
    assert open_class.remaining == 3  # a class's places: its teacher is everyone's
    assert listed_with(other) == []  # free, but the class is someone else's


def test_a_teacher_in_class_is_not_free_for_a_private_session(build, studio):
    book(build, studio["yoga"], studio["class"], resource_id=studio["ada"])
    book(build, studio["yoga"], studio["class"])
    day = TEN.astimezone(timezone(timedelta(hours=2))).date()
    now = TEN - timedelta(days=2)
    assert free_times.free_times_on(studio["private"], day=day, now=now).parts == []
    with pytest.raises(Conflict):
        book(build, studio["private"], studio["session"])
    listed = [t.slot_id for t in free_times.free_times_on(studio["yoga"], day=day,
                                                          now=now).times]
    assert listed == [studio["class"]]  # the class itself is still open


def test_a_private_session_first_keeps_the_class_to_the_other_teacher(build, studio):
    book(build, studio["private"], studio["session"])
    assert taken_by(book(build, studio["yoga"], studio["class"]).reference) == [studio["bob"]]
    with pytest.raises(Conflict):
        book(build, studio["yoga"], studio["class"], resource_id=studio["ada"])


@pytest.mark.postgres
def test_concurrent_class_and_private_bookings_never_share_a_teacher(app, build, studio,
                                                                     is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL "
                    "(TEST_DATABASE_URL), where CI runs it")
    resources.set_offering_resources(studio["yoga"], [studio["ada"]], scope=studio["scope"])
    customers = [build.customer() for _ in range(16)]
    start = threading.Barrier(16)
    placed, refused, errors = [], [], []

    def request(n):
        offering, slot = ((studio["yoga"], studio["class"]) if n % 2 else
                          (studio["private"], studio["session"]))
        with app.app_context():
            start.wait()
            try:
                placed.append((offering, bookings.place_booking(
                    customer_id=customers[n], offering_id=offering, slot_id=slot)))
            except Conflict as exc:
                refused.append(exc.code)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=request, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    kinds = {offering for offering, _ in placed}
    assert len(kinds) == 1  # the class or the session, never both
    if kinds == {studio["yoga"]}:
        assert len(placed) == 8  # the whole class, all with Ada
    else:
        assert len(placed) == 1
    rows = db.session.execute(select(ResourceBooking.share_key)).scalars().all()
    assert len(rows) == len(placed) and len(set(rows)) == 1
