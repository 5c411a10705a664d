"""Geocoding of locations: the real googlemaps client against a local Google stand-in."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.errors import NotFound
from app.extensions import db
from app.models import AuditLog, Location
from app.models.types import utcnow
from app.services import geocoding
from app.services.scopes import Scope
from tests.fakes.google_maps import (
    TEST_KEY,
    google_maps_for,
    GEOCODE_PATH,
    geocoded,
    http_error,
    maps_settings,
    request_denied,
    slow,
    zero_results,
)

KEY = TEST_KEY
ADDRESS = "Alexanderplatz 1, 10178 Berlin"


@pytest.fixture
def google_maps(app):
    """The stand-in, with the app pointed at it; jobs inline (no Redis)."""
    with google_maps_for(app, REDIS_URL=None) as fake:
        yield fake


def saved_location(provider_id: int, address: str = ADDRESS) -> int:
    """What the location save path does: request in the transaction, enqueue after it."""
    location = Location(provider_id=provider_id, name="Studio", address=address)
    requested = geocoding.request_geocoding(location)
    db.session.add(location)
    db.session.commit()
    if requested:
        geocoding.enqueue_geocoding(location.id)
    return location.id


def pending_location(provider_id: int, address: str = ADDRESS) -> int:
    """A location waiting for its job (which is not run)."""
    row = Location(provider_id=provider_id, name="Studio", address=address,
                   geocode_status="pending")
    db.session.add(row)
    db.session.commit()
    return row.id


def location(location_id: int) -> Location:
    db.session.expire_all()
    return db.session.get(Location, location_id)


def test_an_address_is_geocoded_and_stored(google_maps, build):
    google_maps.answer_geocode(ADDRESS, geocoded(52.5219, 13.4132, place_id="ChIJ-alex"))
    before = utcnow()
    row = location(saved_location(build.provider()))
    assert (row.lat, row.lng, row.place_id) == (52.5219, 13.4132, "ChIJ-alex")
    assert row.geocode_status == "ok" and row.geocode_error is None
    assert before <= row.geocoded_at <= utcnow()
    [request] = google_maps.requests_to(GEOCODE_PATH)
    assert request.params["address"] == ADDRESS
    assert request.params["key"] == KEY


def test_the_stored_result_is_audited(google_maps, build):
    google_maps.answer_geocode(ADDRESS, geocoded(52.5, 13.4))
    location_id = saved_location(build.provider())
    entry = db.session.scalars(select(AuditLog).where(
        AuditLog.action == "location.updated", AuditLog.entity_id == str(location_id))).one()
    assert entry.changes["geocode_status"] == ["pending", "ok"]
    assert entry.actor_id is None


def test_zero_results_is_recorded_without_raising(google_maps, build):
    google_maps.answer_geocode(ADDRESS, zero_results())
    row = location(saved_location(build.provider()))
    assert row.geocode_status == "zero_results"
    assert ADDRESS in row.geocode_error
    assert row.lat is None and row.geocoded_at is None


def test_a_denied_request_is_recorded_with_googles_message(google_maps, build):
    google_maps.answer_geocode(ADDRESS, request_denied("This API project is not authorized"))
    row = location(saved_location(build.provider()))
    assert row.geocode_status == "denied"
    assert row.geocode_error == "REQUEST_DENIED: This API project is not authorized"


def test_a_wrong_key_is_denied(app, google_maps, build):
    with maps_settings(app, GOOGLE_MAPS_API_KEY="AIzaSomeoneElsesKey"):
        row = location(saved_location(build.provider()))
    assert row.geocode_status == "denied"
    assert "API key is invalid" in row.geocode_error


def test_a_malformed_key_is_denied_not_a_crash(app, google_maps, build):
    with maps_settings(app, GOOGLE_MAPS_API_KEY="not-a-maps-key"):
        row = location(saved_location(build.provider()))
    assert row.geocode_status == "denied"
    assert google_maps.requests == []


@pytest.mark.parametrize("reply", [http_error(500), slow(geocoded(1.0, 2.0), seconds=2)],
                         ids=["server-error", "timeout"])
def test_a_transient_failure_inline_is_recorded_as_error(google_maps, build, reply):
    google_maps.answer_geocode(ADDRESS, reply)
    row = location(saved_location(build.provider()))
    assert row.geocode_status == "error"
    assert "did not answer within 0.5 s" in row.geocode_error
    assert row.lat is None


def test_a_transient_failure_with_retries_left_stays_pending(google_maps, build):
    google_maps.answer_geocode(ADDRESS, http_error(503))
    location_id = pending_location(build.provider())
    outcome = geocoding.geocode_location(location_id, final_attempt=False)
    assert outcome.retry_later and outcome.status == "pending"
    row = location(location_id)
    assert row.geocode_status == "pending" and "did not answer" in row.geocode_error


def test_a_duplicate_job_does_not_call_google_again(google_maps, build):
    google_maps.answer_geocode(ADDRESS, geocoded(52.5, 13.4))
    location_id = saved_location(build.provider())
    outcome = geocoding.geocode_location(location_id)
    assert outcome.status == "skipped"
    assert len(google_maps.requests_to(GEOCODE_PATH)) == 1
    assert location(location_id).geocode_status == "ok"


def test_only_a_changed_address_is_geocoded_again(google_maps, build):
    google_maps.answer_geocode(ADDRESS, geocoded(52.5, 13.4))
    row = location(saved_location(build.provider()))
    row.name = "Renamed"
    assert geocoding.request_geocoding(row) is False
    row.address = "Karl-Marx-Allee 1, Berlin"
    assert geocoding.request_geocoding(row) is True
    assert row.geocode_status == "pending"
    db.session.rollback()


def test_without_a_key_nothing_is_called(app, google_maps, build):
    with maps_settings(app, GOOGLE_MAPS_API_KEY=None):
        row = location(saved_location(build.provider()))
    assert row.geocode_status == "manual"
    assert google_maps.requests == []


def test_no_transaction_is_open_during_the_call(app, google_maps, build):
    """The address changes while Google answers: that write is not blocked by the job,
    and the stale answer is not stored over the new pending request."""
    engine = db.engine

    def change_address_meanwhile(request):
        with engine.begin() as conn:
            conn.execute(update(Location).values(address="Elsewhere 2"))
        return geocoded(52.5, 13.4)

    google_maps.route(GEOCODE_PATH, change_address_meanwhile)
    row = location(saved_location(build.provider()))
    assert google_maps.errors == []
    assert (row.address, row.geocode_status, row.lat) == ("Elsewhere 2", "pending", None)


def test_regeocoding_tries_again(google_maps, build):
    provider_id = build.provider()
    google_maps.answer_geocode(ADDRESS, zero_results())
    location_id = saved_location(provider_id)
    google_maps.answer_geocode(ADDRESS, geocoded(52.5, 13.4))
    assert geocoding.regeocode_location(location_id, scope=Scope.of_provider(provider_id)) is True
    row = location(location_id)
    assert row.geocode_status == "ok" and row.geocode_error is None


def test_regeocoding_a_foreign_location_is_not_found(google_maps, build):
    location_id = saved_location(build.provider())
    with pytest.raises(NotFound):
        geocoding.regeocode_location(location_id, scope=Scope.of_provider(build.provider()))
