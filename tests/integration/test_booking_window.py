"""An offering's booking rules on every surface: the minimum notice and the horizon are
refused through the API, the storefront and the console alike, and the times outside
them are not offered; the per-customer limits (upcoming bookings, unpaid places held)
refuse the booking after the limit and free up again when a booking goes."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Booking, Offering
from app.models.types import utcnow
from app.services import free_times
from tests.helpers import api_login, assert_error_shape, bearer, console_login
from tests.storefront.conftest import sign_in


@pytest.fixture
def world(build, client):
    provider = build.provider(timezone="Europe/Berlin")
    offering = build.offering(provider, name="Haircut", price_minor=3000)
    db.session.execute(update(Offering).where(Offering.id == offering).values(
        min_notice_minutes=240, booking_horizon_days=10))
    db.session.commit()
    customer = build.customer()
    return {
        "provider": provider, "offering": offering, "customer": customer,
        "customer_email": build.email_of(customer),
        "soon": build.future_slot(offering, days=2 / 24, capacity=3),     # in 2 hours
        "fine": build.future_slot(offering, days=1, capacity=3),
        "far": build.future_slot(offering, days=12, capacity=3),
        "headers": bearer(api_login(client, build.email_of(customer))["access_token"]),
    }


def _book(client, world, slot, quantity=1):
    return client.post("/api/v1/bookings", headers=world["headers"], json={
        "offering_id": world["offering"], "slot_id": world[slot], "quantity": quantity})


def _bookings() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def test_the_api_refuses_too_soon_and_too_far_ahead(client, world):
    body = assert_error_shape(_book(client, world, "soon"), 409, "booking.too_soon")
    assert body["message"] == "This is booked at least 4 hours ahead."
    body = assert_error_shape(_book(client, world, "far"), 409, "booking.too_far_ahead")
    assert body["message"] == "This is booked at most 10 days ahead."
    assert _bookings() == 0
    assert _book(client, world, "fine").status_code == 201


def test_times_outside_the_window_are_not_offered(client, world, app_ctx):
    listed = client.get(f"/api/v1/offerings/{world['offering']}/slots").get_json()
    assert [slot["id"] for slot in listed] == [world["fine"]]
    detail = client.get(f"/api/v1/offerings/{world['offering']}").get_json()
    assert (detail["min_notice_minutes"], detail["booking_horizon_days"]) == (240, 10)
    assert [s["id"] for s in detail["next_slots"]] == [world["fine"]]
    assert free_times.first_free_day(world["offering"]) is not None
    months = {(utcnow() + timedelta(days=d)).strftime("%Y-%m") for d in (0, 1, 12)}
    offered = set()
    for month in months:
        answer = client.get(f"/api/v1/offerings/{world['offering']}/free-days?month={month}")
        offered.update(day["date"] for day in answer.get_json()["days"])
    assert len(offered) == 1  # only the day of "fine"


def test_the_storefront_refuses_and_explains(client, world):
    sign_in(client, world["customer_email"])
    page = client.get(f"/shop/offerings/{world['offering']}").get_data(as_text=True)
    assert "Book at least 4 hours ahead, up to 10 days ahead." in page
    review = client.get(f"/shop/offerings/{world['offering']}/review?slot_id="
                        f"{world['soon']}&quantity=1").get_data(as_text=True)
    token = re.search(r'name="submission" value="([0-9a-f]+)"', review)
    form = {"slot_id": world["soon"], "quantity": 1,
            "submission": token.group(1) if token else ""}
    answer = client.post(f"/shop/offerings/{world['offering']}/book", data=form)
    assert answer.status_code in (409, 422)
    assert "too soon to book" in answer.get_data(as_text=True)
    assert _bookings() == 0


def test_the_console_cannot_move_a_booking_inside_the_notice(app, client, world, build):
    placed = _book(client, world, "fine").get_json()["reference"]
    staff = app.test_client()
    console_login(staff, build.email_of(build.staff(world["provider"])))
    answer = staff.post(f"/calendar/move/{placed}", data={"slot_id": world["soon"]})
    assert answer.status_code in (302, 409, 422)
    db.session.expire_all()
    booking = db.session.scalar(select(Booking).where(Booking.reference == placed))
    assert booking.slot_id == world["fine"]  # not moved
    with staff.session_transaction() as session:
        messages = " ".join(text for _, text in session.get("_flashes", []))
    assert "at least 4 hours ahead" in messages


def test_a_customer_may_have_so_many_upcoming_bookings(client, world, build):
    db.session.execute(update(Offering).where(Offering.id == world["offering"]).values(
        max_active_bookings_per_customer=1))
    db.session.commit()
    first = _book(client, world, "fine")
    assert first.status_code == 201
    another = build.future_slot(world["offering"], days=2, capacity=3)
    world["another"] = another
    assert_error_shape(_book(client, world, "another"), 409, "booking.customer_limit")
    reference = first.get_json()["reference"]
    assert client.post(f"/api/v1/bookings/{reference}/cancel",
                       headers=world["headers"]).status_code == 200
    assert _book(client, world, "another").status_code == 201  # the cancelled one is gone


def test_one_customer_cannot_hold_a_whole_class_unpaid(client, world):
    db.session.execute(update(Offering).where(Offering.id == world["offering"]).values(
        max_held_places_per_customer=2))
    db.session.commit()
    assert _book(client, world, "fine", quantity=2).status_code == 201
    body = assert_error_shape(_book(client, world, "fine", quantity=1), 409,
                              "booking.hold_limit")
    assert body["errors"] == {"quantity": ["At most 0."]}


def test_the_rules_are_set_per_offering_and_checked(client, world, build):
    staff = bearer(api_login(client, build.email_of(build.staff(world["provider"])))[
        "access_token"])
    url = f"/api/v1/provider/offerings/{world['offering']}"
    assert_error_shape(client.patch(url, headers=staff, json={"min_notice_minutes": -5}), 422)
    assert_error_shape(client.patch(url, headers=staff, json={"booking_horizon_days": 0}), 422)
    changed = client.patch(url, headers=staff, json={
        "min_notice_minutes": 0, "booking_horizon_days": 30,
        "max_active_bookings_per_customer": 3, "max_held_places_per_customer": None})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["min_notice_minutes"],
            changed.get_json()["max_active_bookings_per_customer"]) == (0, 3)
    assert _book(client, world, "soon").status_code == 201  # no notice any more
