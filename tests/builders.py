"""Small builders for test data. Each commits and returns ids."""
from __future__ import annotations

import itertools

from app.extensions import db
from app.models import Provider
from app.services.roles import ADMIN, CUSTOMER, PROVIDER
from app.services.users import ensure_user
from app.services.scopes import Scope

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def provider(**fields) -> int:
    n = next(_counter)
    values = dict(name=f"Provider {n}", slug=f"provider-{n}", timezone="Europe/Berlin",
                  currency="EUR", contact_email=f"p{n}@example.com")
    values.update(fields)
    row = Provider(**values)
    db.session.add(row)
    db.session.commit()
    return row.id


def _user(role: str, provider_id: int | None = None, email: str | None = None) -> int:
    n = next(_counter)
    user, _ = ensure_user(
        email=email or f"{role.lower()}{n}@example.com", password=PASSWORD, role=role,
        first_name=role, last_name=str(n), provider_id=provider_id,
    )
    return user.id


def admin(email: str | None = None) -> int:
    return _user(ADMIN, email=email)


def staff(provider_id: int, email: str | None = None) -> int:
    return _user(PROVIDER, provider_id=provider_id, email=email)


def customer(email: str | None = None) -> int:
    return _user(CUSTOMER, email=email)


def email_of(user_id: int) -> str:
    from app.models import Account

    return db.session.get(Account, user_id).email


def _add(row) -> int:
    db.session.add(row)
    db.session.commit()
    return row.id


def location(provider_id: int, *, lat: float | None = 52.52, lng: float | None = 13.405,
             **fields) -> int:
    from app.models import Location

    n = next(_counter)
    values = dict(name=f"Location {n}", address=f"Street {n}", lat=lat, lng=lng)
    values.update(fields)
    return _add(Location(provider_id=provider_id, **values))


def category(provider_id: int, *, parent_id: int | None = None, **fields) -> int:
    from app.models import Category

    values = dict(name=f"Category {next(_counter)}", parent_id=parent_id)
    values.update(fields)
    return _add(Category(provider_id=provider_id, **values))


def offering(provider_id: int, *, kind: str = "service", **fields) -> int:
    from app.models import Offering

    n = next(_counter)
    # Test data lives at fixed dates years ahead (2030, 2031): bookable that far unless a
    # test sets the horizon (the app's default is 60 days).
    values = dict(name=f"Offering {n}", description="", price_minor=2500, currency="EUR",
                  duration_minutes=60 if kind == "service" else None,
                  booking_horizon_days=3650)
    values.update(fields)
    return _add(Offering(provider_id=provider_id, kind=kind, **values))


def variant(offering_id: int, **fields) -> int:
    from app.models import Offering, Variant

    offering_row = db.session.get(Offering, offering_id)
    values = dict(name=f"Variant {next(_counter)}", sku=f"SKU-{next(_counter)}", stock=10)
    values.update(fields)
    return _add(Variant(provider_id=offering_row.provider_id, offering_id=offering_id,
                        **values))


def rule(offering_id: int, *, weekday: int, start: str = "09:00", end: str = "12:00",
         slot_minutes: int = 60, capacity: int = 1, valid_from=None, valid_to=None) -> int:
    from datetime import date, time

    from app.models import AvailabilityRule, Offering

    offering_row = db.session.get(Offering, offering_id)
    return _add(AvailabilityRule(
        provider_id=offering_row.provider_id, offering_id=offering_id, weekday=weekday,
        start_time=time.fromisoformat(start), end_time=time.fromisoformat(end),
        slot_minutes=slot_minutes, capacity=capacity,
        valid_from=valid_from or date(2020, 1, 1), valid_to=valid_to))


def closed_day(provider_id: int, day, *, offering_id: int | None = None,
               reason: str = "") -> int:
    from app.models import ClosedDay

    return _add(ClosedDay(provider_id=provider_id, offering_id=offering_id, day=day,
                          reason=reason))


def slot(offering_id: int, starts_at, *, minutes: int = 60, capacity: int = 5,
         booked: int = 0) -> int:
    from datetime import timedelta

    from app.models import Offering, Slot

    from app.services.resource_time import slot_bounds

    offering_row = db.session.get(Offering, offering_id)
    ends_at = starts_at + timedelta(minutes=minutes)
    resource_from, resource_until = slot_bounds(
        starts_at, ends_at, offering_row.buffer_before_minutes or 0,
        offering_row.buffer_after_minutes or 0)
    return _add(Slot(provider_id=offering_row.provider_id, offering_id=offering_id,
                     starts_at=starts_at, ends_at=ends_at, capacity=capacity, booked=booked,
                     resource_from=resource_from, resource_until=resource_until))


def future_slot(offering_id: int, *, days: float = 3, capacity: int = 5, booked: int = 0,
                minutes: int = 60) -> int:
    """A slot ``days`` from now (whole minutes), in the future whatever the clock says."""
    from datetime import datetime, timedelta, timezone

    start = (datetime.now(timezone.utc) + timedelta(days=days)).replace(second=0,
                                                                         microsecond=0)
    return slot(offering_id, start, capacity=capacity, booked=booked, minutes=minutes)


def past_booking(offering_id: int, slot_id: int, *, status: str = "cancelled",
                 customer_id: int | None = None) -> str:
    """A booking of ``slot_id`` that gave its place back (``cancelled`` or ``expired``),
    made through the booking services; its reference."""
    from datetime import timedelta

    from app.services import bookings

    placed = bookings.place_booking(customer_id=customer_id or customer(),
                                    offering_id=offering_id, slot_id=slot_id)
    if status == "cancelled":
        bookings.cancel_booking(placed.reference, actor=bookings.Actor(None, "test"),
                                scope=bookings.Scope.all_providers())
    elif status == "expired":
        bookings.expire_holds(scope=bookings.Scope.all_providers(),
                              now=placed.hold_expires_at + timedelta(seconds=1))
    else:
        raise ValueError(f"not a past status: {status}")
    return placed.reference


def service_with_past_bookings(*, slot_days: int, provider_id: int | None = None) -> dict:
    """A service whose rule (09:00-11:00, two places, on the weekday three days from now)
    made ``slot_days`` of slots; on that ``day`` the 09:00 slot (``nine``) held a
    booking that was cancelled and the 10:00 one (``ten``) one that expired: no place is
    taken on either, but a booking refers to each. Ids, and the day."""
    from datetime import datetime, time, timedelta, timezone

    from sqlalchemy import select

    from app.models import Slot
    from app.services.availability import generate_slots

    provider_id = provider_id or provider(timezone="UTC")
    offering_id = offering(provider_id, price_minor=2000)
    day = datetime.now(timezone.utc).date() + timedelta(days=3)
    rule_id = rule(offering_id, weekday=day.weekday(), start="09:00", end="11:00",
                   capacity=2)
    generate_slots(offering_id=offering_id, days=slot_days, scope=Scope.all_providers())
    nine, ten = (db.session.scalar(select(Slot.id).where(
        Slot.offering_id == offering_id,
        Slot.starts_at == datetime.combine(day, time(hour), tzinfo=timezone.utc)))
        for hour in (9, 10))
    past_booking(offering_id, nine, status="cancelled")
    past_booking(offering_id, ten, status="expired")
    return {"provider": provider_id, "offering": offering_id, "rule": rule_id, "day": day,
            "nine": nine, "ten": ten}


def api_key(provider_id: int, *scopes: str, name: str | None = None, **fields) -> tuple[int, str]:
    """A provider API key with ``scopes``: its id and the whole key (shown only once)."""
    from app.services import api_keys

    row, key = api_keys.create_key(scope=Scope.of_provider(provider_id),
                                   provider_id=provider_id, name=name or f"Key {next(_counter)}",
                                   scopes=scopes or ("catalog:read",), **fields)
    return row.id, key
