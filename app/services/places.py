"""A place typed into the storefront's search ("Berlin", "Hafenstraße 1, Hamburg") as a
point to search near, through the geocoding gateway.

Answers are kept in Redis for a day (when configured): the same few city names are
typed again and again, and each look-up costs a request to Google. No transaction is
open during the call.
"""
from __future__ import annotations

import hashlib
import json
import logging
from contextlib import closing
from dataclasses import dataclass

from flask import current_app

from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.gateways import maps
from app.redis import redis_client

log = logging.getLogger(__name__)

MAX_LENGTH = 200
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Place:
    lat: float
    lng: float
    label: str  # what Google calls it ("Berlin, Germany"), else what was typed


class PlaceNotFound(DomainError):
    status = 422


class PlaceSearchUnavailable(DomainError):
    status = 503


def place_search_available() -> bool:
    return bool(current_app.config.get("GOOGLE_MAPS_API_KEY"))


def find_place(text: str) -> Place:
    """The point of a typed place; ``PlaceNotFound`` when Google knows none, and
    ``PlaceSearchUnavailable`` without a Maps key or when Google cannot answer now."""
    typed = " ".join((text or "").split())[:MAX_LENGTH]
    if not typed:
        raise ValidationFailed("place.empty", "Type a city or an address.",
                               {"place": ["Type a city or an address."]})
    if not place_search_available():
        raise PlaceSearchUnavailable(
            "place.not_configured",
            "Searching by a typed place is not available here; use your location instead.")
    cached = _cached(typed)
    if cached is not None:
        return cached
    _end_read_transaction()
    try:
        geocoder = maps.geocoder_from_config(current_app.config)
        with closing(geocoder):
            result = geocoder.geocode(typed)
    except maps.GeocodeError as exc:
        if exc.status == "zero_results":
            raise PlaceNotFound("place.not_found",
                                f"We could not find “{typed}”. Try a city or a street "
                                "address.") from exc
        log.warning("looking up a typed place failed: %s (%s)", exc.status, exc.message)
        raise PlaceSearchUnavailable(
            "place.unavailable",
            "Finding places is not working right now; try again in a moment, or use your "
            "location.") from exc
    place = Place(result.lat, result.lng, result.formatted_address or typed)
    _remember(typed, place)
    return place


def _end_read_transaction() -> None:
    """Nothing may wait on Google holding a transaction (a storefront search only read)."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a place is looked up outside of any change")
    session.rollback()


def _key(typed: str) -> str:
    return "bookwell:places:" + hashlib.sha256(typed.casefold().encode()).hexdigest()[:32]


def _cached(typed: str) -> Place | None:
    if not current_app.config.get("REDIS_URL"):
        return None
    try:
        hit = redis_client().get(_key(typed))
    except Exception:  # a cache outage only costs a look-up
        log.warning("place cache unavailable", exc_info=True)
        return None
    return Place(**json.loads(hit)) if hit else None


def _remember(typed: str, place: Place) -> None:
    if not current_app.config.get("REDIS_URL"):
        return
    try:
        redis_client().set(_key(typed), json.dumps(place.__dict__), ex=CACHE_SECONDS)
    except Exception:
        log.warning("place cache unavailable", exc_info=True)
