"""Google Maps geocoding through the official ``googlemaps`` client.

One small interface: ``geocode(address) -> GeocodeResult`` or a ``GeocodeError`` that says
whether trying again later can help. ``GOOGLE_MAPS_BASE_URL`` points the client at a
stand-in server (tests, local development).
"""
from __future__ import annotations

from dataclasses import dataclass

import googlemaps
from googlemaps import exceptions as gm_errors

DEFAULT_BASE_URL = "https://maps.googleapis.com"
# Answers that no later attempt will change without a human (key, billing, bad input).
DENIED_STATUSES = {"REQUEST_DENIED", "OVER_DAILY_LIMIT"}
PERMANENT_STATUSES = {"INVALID_REQUEST"}


@dataclass(frozen=True)
class GeocodeResult:
    lat: float
    lng: float
    place_id: str | None
    formatted_address: str | None


class GeocodeError(Exception):
    """Geocoding failed. ``status`` is zero_results | denied | error."""

    def __init__(self, status: str, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retryable = retryable


class GoogleGeocoder:
    """The Geocoding API. The client retries 5xx answers itself for ``retry_timeout``
    seconds only (its default is a minute); longer back-off is the job queue's work."""

    def __init__(self, api_key: str, base_url: str | None = None, timeout: float = 5,
                 *, retry_timeout: float | None = None) -> None:
        try:
            self._client = googlemaps.Client(
                key=api_key,
                base_url=(base_url or DEFAULT_BASE_URL).rstrip("/"),
                timeout=timeout,
                retry_timeout=retry_timeout if retry_timeout is not None else timeout,
                retry_over_query_limit=False,
            )
        except ValueError as exc:  # a key that cannot be a Maps key ("AIza…")
            raise GeocodeError("denied", f"Google Maps API key refused: {exc}", False) from exc
        self._timeout = timeout

    def geocode(self, address: str) -> GeocodeResult:
        try:
            results = self._client.geocode(address)
        except gm_errors.ApiError as exc:  # includes OVER_QUERY_LIMIT
            raise _api_error(exc) from exc
        except gm_errors.HTTPError as exc:
            retryable = exc.status_code >= 500 or exc.status_code == 429
            raise GeocodeError("error", f"Google Maps answered HTTP {exc.status_code}",
                               retryable) from exc
        except gm_errors.Timeout as exc:
            raise GeocodeError(
                "error",
                f"Google Maps did not answer within {self._timeout} s "
                "(timeout or repeated server errors)",
                True,
            ) from exc
        except gm_errors.TransportError as exc:
            raise GeocodeError("error", f"Google Maps unreachable: {exc}", True) from exc
        if not results:
            raise GeocodeError("zero_results", f"Google Maps found no place for {address!r}",
                               False)
        first = results[0]
        location = first["geometry"]["location"]
        return GeocodeResult(
            lat=float(location["lat"]),
            lng=float(location["lng"]),
            place_id=first.get("place_id"),
            formatted_address=first.get("formatted_address"),
        )

    def close(self) -> None:
        self._client.session.close()


def _api_error(exc: gm_errors.ApiError) -> GeocodeError:
    message = f"{exc.status}: {exc.message}" if exc.message else str(exc.status)
    if exc.status in DENIED_STATUSES:
        return GeocodeError("denied", message, False)
    if exc.status == "ZERO_RESULTS":
        return GeocodeError("zero_results", message, False)
    if exc.status in PERMANENT_STATUSES:
        return GeocodeError("error", message, False)
    return GeocodeError("error", message, True)  # OVER_QUERY_LIMIT, UNKNOWN_ERROR


def geocoder_from_config(config) -> GoogleGeocoder | None:
    """The configured geocoder, or None when no Maps key is set (coordinates by hand)."""
    key = config.get("GOOGLE_MAPS_API_KEY")
    if not key:
        return None
    return GoogleGeocoder(
        key,
        base_url=config.get("GOOGLE_MAPS_BASE_URL"),
        timeout=config.get("GOOGLE_MAPS_TIMEOUT") or 5,
    )
