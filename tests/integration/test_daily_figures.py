"""The daily totals the database keeps for platform-wide figures: whatever changes a
booking or slot (the booking services, a bulk UPDATE, a delete), totals plus pending deltas
equal what adding up the rows themselves gives, before and after folding."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Date, String, case, cast, delete, func, inspect, or_, select, update

from app.extensions import db
from app.models import Booking, BookingDayDelta, BookingDayTotal, Slot, SlotDayTotal
from app.models.bookings import HOLDING
from app.services import bookings, daily_figures
from app.services.scopes import SYSTEM, Scope

EVERYONE = Scope.all_providers()
FAR = (datetime(2000, 1, 1).date(), datetime(2100, 1, 1).date())


def _utc_day(column):
    if db.engine.dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return cast(func.date(column), String)


def _live_bookings() -> dict:
    day = _utc_day(Booking.starts_at)
    rows = db.session.execute(
        select(day, Booking.provider_id, Booking.status, Booking.currency, func.count(),
               func.sum(Booking.total_minor))
        .where(Booking.starts_at.is_not(None), Booking.status.in_(HOLDING))
        .group_by(day, Booking.provider_id, Booking.status, Booking.currency))
    return {(str(r[0]), r[1], r[2], r[3]): (r[4], int(r[5])) for r in rows}


def _kept_bookings() -> dict:
    rows = daily_figures.bookings_by(("day", "provider_id", "status", "currency"), *FAR,
                                     statuses=HOLDING)
    return {(str(r.day), r.provider_id, r.status, r.currency): (int(r.bookings), int(r.total))
            for r in rows}


def _live_places() -> dict:
    day = _utc_day(Slot.starts_at)
    offered = case((or_(Slot.retired_at.is_(None), Slot.booked > 0), Slot.capacity), else_=0)
    rows = db.session.execute(
        select(day, Slot.provider_id, func.sum(Slot.booked), func.sum(offered))
        .group_by(day, Slot.provider_id))
    return {(str(r[0]), r[1]): (int(r[2]), int(r[3])) for r in rows if r[3]}


def _kept_places() -> dict:
    return {(str(r.day), r.provider_id): (int(r.booked), int(r.capacity))
            for r in daily_figures.places_by(("day", "provider_id"), *FAR)}


def _assert_kept_equals_live():
    assert _kept_bookings() == _live_bookings()
    assert _kept_places() == _live_places()
    daily_figures.fold_deltas()
    assert db.session.scalar(select(func.count()).select_from(BookingDayDelta)) == 0
    assert _kept_bookings() == _live_bookings()
    assert _kept_places() == _live_places()


def _book(build, offering, slot, quantity=1):
    return bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                  slot_id=slot, quantity=quantity).reference


def test_every_kind_of_change_is_counted_on_its_day(app_ctx, build):
    provider = build.provider(timezone="UTC")
    other = build.provider(timezone="Asia/Tokyo")
    yoga = build.offering(provider, price_minor=2000, pay_at_venue=True)
    tea = build.offering(other, price_minor=900, currency="USD", pay_at_venue=True)
    scope = Scope.of_provider(provider)
    first = build.future_slot(yoga, days=2, capacity=5)
    second = build.future_slot(yoga, days=9, capacity=5)
    late = build.future_slot(tea, days=2.5, capacity=3)
    placed = [_book(build, yoga, first, 2), _book(build, yoga, first), _book(build, tea, late)]
    _assert_kept_equals_live()

    bookings.confirm_booking(placed[0], actor=SYSTEM, scope=scope)
    bookings.cancel_booking(placed[1], actor=SYSTEM, scope=scope)
    bookings.reschedule_booking(placed[0], new_slot_id=second, actor=SYSTEM, scope=scope)
    _assert_kept_equals_live()

    # A bulk UPDATE no ORM event sees, a retired slot, and a deleted booking and slot.
    db.session.execute(update(Booking).where(Booking.reference == placed[2])
                       .values(total_minor=1234))
    db.session.execute(update(Slot).where(Slot.id == first)
                       .values(retired_at=datetime.now(timezone.utc)))
    db.session.commit()
    _assert_kept_equals_live()
    db.session.execute(delete(Booking).where(Booking.reference == placed[1]))
    db.session.execute(delete(Slot).where(Slot.id == first))
    db.session.commit()
    _assert_kept_equals_live()


def test_a_day_that_nets_to_nothing_leaves_no_row(app_ctx, build):
    provider = build.provider(timezone="UTC")
    offering = build.offering(provider, pay_at_venue=True)
    slot = build.future_slot(offering, days=4)
    reference = _book(build, offering, slot)
    daily_figures.fold_deltas()
    db.session.execute(delete(Booking).where(Booking.reference == reference))
    db.session.execute(delete(Slot).where(Slot.id == slot))
    db.session.commit()
    assert daily_figures.fold_deltas() >= 2
    assert db.session.scalar(select(func.count()).select_from(BookingDayTotal)) == 0
    assert db.session.scalar(select(func.count()).select_from(SlotDayTotal)) == 0
    assert daily_figures.fold_deltas() == 0  # nothing twice


def test_the_day_is_the_utc_day_of_the_start(app_ctx, build):
    provider = build.provider(timezone="Pacific/Auckland")
    offering = build.offering(provider, price_minor=500, pay_at_venue=True)
    start = (datetime.now(timezone.utc) + timedelta(days=3)).replace(
        hour=23, minute=30, second=0, microsecond=0)
    slot = build.slot(offering, start)
    _book(build, offering, slot)
    [row] = daily_figures.bookings_by(("day",), *FAR, statuses=HOLDING)
    assert str(row.day) == start.date().isoformat()  # not Auckland's next day


def test_the_triggers_survive_every_migration(app_ctx):
    # A table rebuilt by a later migration (SQLite's batch mode) would lose them silently.
    if db.engine.dialect.name == "postgresql":
        names = {row[0] for row in db.session.execute(db.text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))}
    else:
        names = {row[0] for row in db.session.execute(db.text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
    assert {f"{table}_day_delta_{operation}" for table in ("booking", "slot")
            for operation in ("insert", "update", "delete")} <= names
    assert {"booking_day_total", "slot_day_delta"} <= set(inspect(db.engine).get_table_names())


def test_emptying_the_bookings_with_truncate_empties_their_days(app_ctx, build):
    if db.engine.dialect.name != "postgresql":
        return  # SQLite has no TRUNCATE: a DELETE fires the row triggers
    offering = build.offering(build.provider(), pay_at_venue=True)
    _book(build, offering, build.future_slot(offering))
    assert _kept_bookings() and _kept_places()
    db.session.execute(db.text("TRUNCATE booking, slot CASCADE"))
    db.session.commit()
    assert _kept_bookings() == {} and _kept_places() == {}
