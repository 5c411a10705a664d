"""The waiting list through the API: join a full time (refused while places are free),
see your place, take or decline an offer, leave; staff read the line of their own times
only. Errors in the documented JSON shape; a refusal changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, WaitlistEntry
from app.services import bookings
from app.services.scopes import Actor, Scope
from tests.helpers import api_login, assert_error_shape, bearer
from tests.notifications.conftest import run_jobs


@pytest.fixture
def world(build, client):
    provider = build.provider(timezone="America/New_York")
    offering = build.offering(provider, name="Fade", price_minor=3500, currency="USD")
    slot = build.future_slot(offering, capacity=1)
    taken = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                   slot_id=slot)

    def headers_of(account_id):
        return bearer(api_login(client, build.email_of(account_id))["access_token"])

    customer = build.customer()
    return {"provider": provider, "offering": offering, "slot": slot, "taken": taken,
            "customer": customer, "headers": headers_of(customer), "headers_of": headers_of}


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(WaitlistEntry))


def test_join_see_and_leave(client, world, build):
    joined = client.post("/api/v1/waitlist", json={"slot_id": world["slot"]},
                         headers=world["headers"])
    assert joined.status_code == 201, joined.json
    body = joined.json
    assert (body["status"], body["status_label"], body["position"]) == (
        "waiting", "Waiting", 1)
    assert body["offering_name"] == "Fade" and body["timezone"] == "America/New_York"
    assert body["booking_reference"] is None

    mine = client.get("/api/v1/waitlist", headers=world["headers"])
    assert [entry["id"] for entry in mine.json] == [body["id"]]
    other = world["headers_of"](build.customer())
    assert client.get("/api/v1/waitlist", headers=other).json == []
    refused = client.post(f"/api/v1/waitlist/{body['id']}/leave", headers=other)
    assert_error_shape(refused, 404, "waitlist.not_found")

    left = client.post(f"/api/v1/waitlist/{body['id']}/leave", headers=world["headers"])
    assert left.status_code == 200 and left.json["status"] == "left"
    again = client.post(f"/api/v1/waitlist/{body['id']}/leave", headers=world["headers"])
    assert_error_shape(again, 409, "waitlist.not_in_line")


@pytest.mark.parametrize("body", [
    {}, {"slot_id": "x"}, {"slot_id": 1, "quantity": 0}, {"slot_id": 1, "quantity": 101},
    {"slot_id": 2_147_483_648},
])
def test_bad_input_is_a_clear_422_and_changes_nothing(client, world, body):
    answer = client.post("/api/v1/waitlist", json=body, headers=world["headers"])
    assert_error_shape(answer, 422)
    assert entries() == 0


def test_a_time_with_free_places_is_refused_and_an_unknown_time_is_404(client, world):
    bookings.cancel_booking(world["taken"].reference, actor=Actor(None, "test"),
                            scope=Scope.all_providers())
    free = client.post("/api/v1/waitlist", json={"slot_id": world["slot"]},
                       headers=world["headers"])
    body = assert_error_shape(free, 409, "waitlist.places_free")
    assert body["errors"] == {"remaining": ["1"]}
    missing = client.post("/api/v1/waitlist", json={"slot_id": world["slot"] + 999},
                          headers=world["headers"])
    assert_error_shape(missing, 404, "slot.not_found")
    assert client.post("/api/v1/waitlist", json={"slot_id": world["slot"]}).status_code == 401
    assert entries() == 0


def test_an_offer_shows_its_booking_and_is_paid_not_accepted(app, client, world):
    joined = client.post("/api/v1/waitlist", json={"slot_id": world["slot"]},
                         headers=world["headers"]).json
    bookings.cancel_booking(world["taken"].reference, actor=Actor(None, "test"),
                            scope=Scope.all_providers())
    run_jobs(app)
    (offered,) = client.get("/api/v1/waitlist", headers=world["headers"]).json
    assert offered["status"] == "offered" and offered["position"] is None
    assert offered["booking_reference"] and offered["offer_expires_at"]
    booking = client.get(f"/api/v1/bookings/{offered['booking_reference']}",
                         headers=world["headers"])
    assert booking.status_code == 200 and booking.json["status"] == "pending"
    accept = client.post(f"/api/v1/waitlist/{joined['id']}/accept", headers=world["headers"])
    assert_error_shape(accept, 409, "waitlist.pay_to_accept")
    assert db.session.scalar(select(Booking.status).where(
        Booking.reference == offered["booking_reference"])) == "pending"


def test_staff_read_the_line_of_their_own_times_only(client, world, build):
    client.post("/api/v1/waitlist", json={"slot_id": world["slot"]}, headers=world["headers"])
    staff = world["headers_of"](build.staff(world["provider"]))
    line = client.get(f"/api/v1/waitlist/times/{world['slot']}", headers=staff)
    assert line.status_code == 200
    (entry,) = line.json
    assert entry["position"] == 1 and entry["customer_email"] == build.email_of(
        world["customer"])
    stranger = world["headers_of"](build.staff(build.provider()))
    hidden = client.get(f"/api/v1/waitlist/times/{world['slot']}", headers=stranger)
    assert_error_shape(hidden, 404, "slot.not_found")
    customer = client.get(f"/api/v1/waitlist/times/{world['slot']}",
                          headers=world["headers"])
    assert customer.status_code == 403
