"""Geocoding of locations through Google Maps, as a small state machine on the row.

``manual`` (coordinates by hand, no Maps key) | ``pending`` (a job will geocode it) →
``ok`` | ``zero_results`` | ``denied`` | ``error``. The location save path calls
:func:`request_geocoding` inside its transaction and :func:`enqueue_geocoding` after its
commit; the job calls :func:`geocode_location`, which acts only on a ``pending`` row, so
a duplicate job does not call Google again. No transaction is open during the call.

A transient failure (timeout, 5xx, rate limit) keeps the row ``pending`` with the message
in ``geocode_error`` while the job queue has attempts left, so the retry still finds
something to do; the last attempt (and every inline run) records ``error``.
"""
from __future__ import annotations

import logging
from contextlib import closing
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import inspect

from app import jobqueue
from app.extensions import db
from app.gateways import maps
from app.models import Location
from app.models.types import utcnow
from app.services import audit
from app.services.scopes import SYSTEM, Scope, require_scope
from app.services.tenancy import get_owned
from app.services.transactions import after_commit, unit_of_work

log = logging.getLogger(__name__)

MANUAL, PENDING, OK = "manual", "pending", "ok"
ZERO_RESULTS, DENIED, ERROR = "zero_results", "denied", "error"
SKIPPED = "skipped"  # an outcome only: nothing to do, the row is left alone
JOB = "geocoding.geocode_location"
RETRY_INTERVALS = [10, 60, 300]  # seconds before each retry of the job
MESSAGE_LENGTH = 500  # Location.geocode_error


@dataclass(frozen=True)
class GeocodeOutcome:
    """What one attempt did. ``retry_later``: a transient failure with attempts left."""

    status: str
    message: str | None = None
    retry_later: bool = False


def maps_configured() -> bool:
    return bool(current_app.config.get("GOOGLE_MAPS_API_KEY"))


def request_geocoding(location: Location) -> bool:
    """Mark ``location`` for geocoding in the caller's open transaction.

    True when the caller must call :func:`enqueue_geocoding` after its commit. Without a
    Maps key, or without an address, the row is left as it is (coordinates by hand); a
    row already geocoded for this very address is not sent to Google again.
    """
    if not maps_configured() or not (location.address or "").strip():
        return False
    state = inspect(location)
    if (state.persistent and location.geocode_status == OK
            and not state.attrs.address.history.has_changes()):
        return False
    location.geocode_status = PENDING
    location.geocode_error = None
    return True


def enqueue_geocoding(location_id: int):
    """Hand the location to the job queue; call only after the commit that set pending.

    With Redis the job is retried by RQ with back-off; inline (embedded mode) it runs now,
    once, and a transient failure stays recorded as ``error``.
    """
    return jobqueue.enqueue(JOB, location_id)


def regeocode_location(location_id: int, *, scope: Scope) -> bool:
    """Geocode a location again (console action): a row outside ``scope`` is NotFound;
    False when there is no Maps key or no address."""
    require_scope(scope)
    _refuse_open_changes()
    with unit_of_work():
        location = get_owned(Location, location_id, scope=scope, label="location")
        requested = request_geocoding(location)
        if requested:
            after_commit(enqueue_geocoding, location_id)
    return requested


def geocode_location(location_id: int, *, final_attempt: bool = True) -> GeocodeOutcome:
    """Geocode a pending location and record the outcome on it; never raises for what
    Google answers. ``final_attempt=False`` (the job queue will retry) keeps a transient
    failure ``pending``."""
    _refuse_open_changes()
    with unit_of_work():  # a read: no transaction stays open during the call
        location = db.session.get(Location, location_id, populate_existing=True)
        if location is None or location.geocode_status != PENDING:
            return GeocodeOutcome(SKIPPED)
        address = location.address
    try:
        geocoder = maps.geocoder_from_config(current_app.config)
        if geocoder is None:
            return _record(location_id, address, MANUAL, None)
        with closing(geocoder):
            result = geocoder.geocode(address)
    except maps.GeocodeError as exc:
        log.warning("geocoding location %s failed: %s (%s)", location_id, exc.status,
                    exc.message)
        if exc.retryable and not final_attempt:
            return _record(location_id, address, PENDING, exc.message, retry_later=True)
        return _record(location_id, address, ERROR if exc.retryable else exc.status,
                       exc.message)
    return _record(location_id, address, OK, None, result=result)


def _record(location_id: int, address: str, status: str, message: str | None, *,
            result: maps.GeocodeResult | None = None, retry_later: bool = False
            ) -> GeocodeOutcome:
    """Store the outcome, unless the row changed meanwhile (a new address is pending
    again with its own job; this answer would belong to the old one)."""
    with audit.acting_as(SYSTEM), unit_of_work():
        location = db.session.get(Location, location_id, with_for_update=True,
                                  populate_existing=True)
        if location is None or location.geocode_status != PENDING or location.address != address:
            return GeocodeOutcome(SKIPPED)
        if result is not None:
            location.lat, location.lng = result.lat, result.lng
            location.place_id = result.place_id
            location.geocoded_at = utcnow()
        location.geocode_status = status
        location.geocode_error = message[:MESSAGE_LENGTH] if message else None
    return GeocodeOutcome(status, message, retry_later)


def _refuse_open_changes() -> None:
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("geocoding runs after the caller's commit, not inside its changes")
