"""Providers manage their catalog: categories, locations, offerings and variants.

One generic create/update/delete path per row, each with its model's rule check; the
service owns the commit. The search index learns of the change through the outbox
(``offering.changed``, published in the same transaction); the cache and geocoding
catch up only after the commit succeeded.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict
from app.extensions import db
from app.models import (
    AvailabilityRule,
    Category,
    ClosedDay,
    Location,
    Offering,
    TimeOff,
    Variant,
)
from app.services import (
    availability,
    catalog_rules,
    geocoding,
    resource_time,
    search_indexing,
    tenancy,
)
from app.services.cache import bump_catalog_generation
from app.services.scopes import Scope, require_scope
from app.services.transactions import unit_of_work


@dataclass(frozen=True)
class RowKind:
    model: type
    check: Callable
    label: str


CATEGORY = RowKind(Category, catalog_rules.check_category, "category")
LOCATION = RowKind(Location, catalog_rules.check_location, "location")
OFFERING = RowKind(Offering, catalog_rules.check_offering, "offering")
VARIANT = RowKind(Variant, catalog_rules.check_variant, "variant")
RULE = RowKind(AvailabilityRule, availability.check_rule, "availability_rule")
CLOSED_DAY = RowKind(ClosedDay, availability.check_closed_day, "closed_day")
TIME_OFF = RowKind(TimeOff, availability.check_time_off, "time_off")
# Changing these changes which slots exist: regenerate the affected offerings' slots.
SLOT_SHAPING = (RULE, CLOSED_DAY, TIME_OFF)


def create(kind: RowKind, *, scope: Scope, data: dict):
    """A new row of the scope's provider; an all-providers scope names none to own it."""
    if require_scope(scope).every_provider:
        raise TypeError("a new catalog row belongs to one provider: pass its scope")
    row = kind.model(provider_id=scope.provider_id, **data)
    return _save(kind, row, added=True)


def update(kind: RowKind, *, row_id: int, scope: Scope, changes: dict):
    require_scope(scope)
    row = tenancy.get_owned(kind.model, row_id, scope=scope, label=kind.label)
    for name, value in changes.items():
        setattr(row, name, value)
    return _save(kind, row, added=False)


def delete(kind: RowKind, *, row_id: int, scope: Scope) -> None:
    require_scope(scope)
    row = tenancy.get_owned(kind.model, row_id, scope=scope, label=kind.label)
    gone = footprint(kind, row)
    code, message = (f"{kind.label}.in_use",
                     f"This {kind.label} is still used and cannot be deleted.")
    with _conflict_on_constraint(code, message), unit_of_work():
        db.session.delete(row)
        db.session.flush()
        before_commit(kind, gone)
    after_deleted(kind)


def list_rows(kind: RowKind, *, scope: Scope, page: int, page_size: int,
              where=None) -> tuple[list, int]:
    require_scope(scope)
    query = tenancy.scoped(db.select(kind.model), kind.model, scope=scope)
    if where is not None:
        query = query.where(where)
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(kind.model.id).limit(page_size)
                              .offset((page - 1) * page_size))
    return list(rows), total


# --- the steps every save takes, shared with the console's save hooks -----------------

def prepare(kind: RowKind, row) -> None:
    """Defaults and rule checks before a row is saved; raises ValidationFailed.

    The checks' queries must not flush the unchecked row: a reference to no row would
    fail there as a foreign-key error instead of being answered as a field error."""
    with db.session.no_autoflush:
        if kind is OFFERING and not row.currency:
            row.currency = catalog_rules.provider_currency(row.provider_id)
        kind.check(row)
        if kind is OFFERING and row.id is not None and not row.resources_shared:
            # Said before the save, next to the form; the save checks it again.
            resource_time.check_unsharable(db.session, row.id)
        if kind is LOCATION:
            _locate(row)


def _locate(row: Location) -> None:
    """Coordinates typed in by staff win; otherwise a changed address is geocoded."""
    state = inspect(row)
    typed = (state.attrs.lat.history.has_changes() or state.attrs.lng.history.has_changes()) \
        and row.lat is not None
    if typed:
        row.geocode_status, row.geocode_error = geocoding.MANUAL, None
        return
    if state.persistent and state.attrs.address.history.has_changes():
        row.lat = row.lng = row.place_id = row.geocoded_at = None  # stale for the new address
    geocoding.request_geocoding(row)  # it decides whether Google is asked


def reshape_slots(kind: RowKind, *, scope: Scope, offering_id: int | None) -> None:
    """Before the commit of a rule or closed-day change (flushed): bring the slots it
    shapes in line, in the same transaction, so both commit together or not at all."""
    require_scope(scope)
    if kind in SLOT_SHAPING:
        availability.generate_slots(
            scope=scope, offering_id=offering_id,
            days=current_app.config["SLOT_DAYS_AHEAD"], commit=False)


def before_commit(kind: RowKind, footprint: Footprint) -> None:
    """A save or deletion, flushed, before its commit: the slots it shapes, and the
    announcement of the offerings it changed, commit with it or not at all."""
    reshape_slots(kind, scope=Scope.of_provider(footprint.provider_id),
                  offering_id=footprint.offering_id)
    if kind is OFFERING:  # its buffers may have changed the time its slots take
        for offering_id in footprint.offering_ids:
            availability.refresh_resource_bounds(offering_id)
            resource_time.rekey_offering(db.session, offering_id)  # shared or not
    if footprint.offering_ids:
        search_indexing.announce_changed(footprint.offering_ids,
                                         provider_id=footprint.provider_id)


def finish_console_change(kind: RowKind, footprint_of: Callable[[], Footprint], *,
                          commit: bool = True) -> None:
    """The console's save or deletion, which Flask-AppBuilder has made on the session
    without committing: its slots and its announcement commit with it, or nothing does.
    ``footprint_of`` is called after the flush (a new row has its id by then)."""
    if not commit:
        db.session.flush()
        before_commit(kind, footprint_of())
        return
    with unit_of_work():
        db.session.flush()
        before_commit(kind, footprint_of())


def after_saved(kind: RowKind, row) -> None:
    """After the commit: the cache and geocoding catch up."""
    bump_catalog_generation()
    if kind is LOCATION and row.geocode_status == "pending":
        geocoding.enqueue_geocoding(row.id)


@dataclass(frozen=True)
class Footprint:
    """What a saved or deleted row changes (for a deletion, taken before it is gone)."""

    provider_id: int
    offering_id: int | None
    offering_ids: list


def footprint(kind: RowKind, row) -> Footprint:
    return Footprint(row.provider_id, getattr(row, "offering_id", None),
                     _affected_offerings(kind, row))


def after_deleted(kind: RowKind) -> None:
    """After the commit: the cache catches up."""
    bump_catalog_generation()


def _save(kind: RowKind, row, *, added: bool):
    code, message = (f"{kind.label}.conflict",
                     f"This {kind.label} clashes with an existing one.")
    with _conflict_on_constraint(code, message), unit_of_work():
        prepare(kind, row)
        if added:
            db.session.add(row)
        db.session.flush()
        before_commit(kind, footprint(kind, row))
    after_saved(kind, row)
    return row


@contextmanager
def _conflict_on_constraint(code: str, message: str):
    """A constraint the checks could not foresee (a race), at a flush or at the commit,
    becomes a 409; the unit of work inside has rolled everything back."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(code, message) from exc


def _affected_offerings(kind: RowKind, row) -> list[int]:
    if kind is OFFERING:
        return [row.id]
    if kind is VARIANT:
        return [row.offering_id]
    if kind is LOCATION:
        return list(db.session.scalars(
            db.select(Offering.id).where(Offering.location_id == row.id)))
    if kind is CATEGORY:
        return list(db.session.scalars(
            db.select(Offering.id).where(Offering.category_id == row.id)))
    return []

