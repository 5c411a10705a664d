"""Resources through the API: staff add people and rooms, say who does which service, and
give them time off; customers see who can do a service, choose one when booking, and see
who their booking is with. Errors in the documented shape; another provider's rows are
never found."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Resource, ResourceBooking
from tests.helpers import api_login, assert_error_shape, bearer

TEN = datetime(2030, 6, 4, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def shop(build, client):
    provider = build.provider(timezone="Europe/Berlin")

    def headers_of(account_id):
        return bearer(api_login(client, build.email_of(account_id))["access_token"])

    cut = build.offering(provider, name="Cut", price_minor=3000)
    return {"provider": provider, "cut": cut, "slot": build.slot(cut, TEN, capacity=5),
            "staff": headers_of(build.staff(provider)),
            "customer": headers_of(build.customer()), "headers_of": headers_of}


def add(client, shop, name, kind="staff"):
    answer = client.post("/api/v1/provider/resources", json={"name": name, "kind": kind},
                         headers=shop["staff"])
    assert answer.status_code == 201, answer.json
    return answer.json


def test_staff_set_up_people_and_customers_book_one(client, shop, build):
    ada, bob = add(client, shop, "Ada"), add(client, shop, "Bob")
    assert (ada["kind"], ada["kind_label"], ada["active"]) == ("staff", "Staff member", True)
    linked = client.put(f"/api/v1/provider/offerings/{shop['cut']}/resources",
                        json={"resource_ids": [bob["id"], ada["id"]]}, headers=shop["staff"])
    assert [r["name"] for r in linked.json] == ["Ada", "Bob"]

    public = client.get(f"/api/v1/offerings/{shop['cut']}/resources")
    assert [(r["name"], r["kind_label"]) for r in public.json] == [
        ("Ada", "Staff member"), ("Bob", "Staff member")]

    booked = client.post("/api/v1/bookings", json={
        "offering_id": shop["cut"], "slot_id": shop["slot"], "resource_id": bob["id"]},
        headers=shop["customer"])
    assert booked.status_code == 201, booked.json
    detail = client.get(f"/api/v1/bookings/{booked.json['reference']}",
                        headers=shop["customer"]).json
    assert detail["resources"] == [{"id": bob["id"], "name": "Bob", "kind": "staff"}]

    other = shop["headers_of"](build.customer())
    busy = client.post("/api/v1/bookings", json={
        "offering_id": shop["cut"], "slot_id": shop["slot"], "resource_id": bob["id"]},
        headers=other)
    assert_error_shape(busy, 409, "booking.resource_busy")
    anyone = client.post("/api/v1/bookings", json={
        "offering_id": shop["cut"], "slot_id": shop["slot"]}, headers=other)
    assert anyone.status_code == 201  # Ada is free
    assert db.session.scalar(select(func.count()).select_from(ResourceBooking)) == 2


def test_time_off_is_listed_and_blocks_the_time(client, shop):
    ada = add(client, shop, "Ada")
    client.put(f"/api/v1/provider/offerings/{shop['cut']}/resources",
               json={"resource_ids": [ada["id"]]}, headers=shop["staff"])
    off = client.post(f"/api/v1/provider/resources/{ada['id']}/time-off", json={
        "starts_at": "2030-06-04T09:30:00+02:00", "ends_at": "2030-06-04T12:00:00+02:00",
        "reason": "Dentist"}, headers=shop["staff"])
    assert off.status_code == 201, off.json
    listed = client.get(f"/api/v1/provider/resources/{ada['id']}/time-off",
                        headers=shop["staff"]).json
    assert [entry["reason"] for entry in listed] == ["Dentist"]
    refused = client.post("/api/v1/bookings", json={
        "offering_id": shop["cut"], "slot_id": shop["slot"]}, headers=shop["customer"])
    assert_error_shape(refused, 409, "booking.resource_busy")
    gone = client.delete(f"/api/v1/provider/resources/time-off/{off.json['id']}",
                         headers=shop["staff"])
    assert gone.status_code == 204
    assert client.post("/api/v1/bookings", json={
        "offering_id": shop["cut"], "slot_id": shop["slot"]},
        headers=shop["customer"]).status_code == 201


@pytest.mark.parametrize("body", [
    {}, {"name": ""}, {"name": "x" * 121}, {"name": "Ada", "kind": "robot"},
])
def test_bad_resources_are_422_and_nothing_is_added(client, shop, body):
    assert_error_shape(client.post("/api/v1/provider/resources", json=body,
                                   headers=shop["staff"]), 422)
    assert db.session.scalar(select(func.count()).select_from(Resource)) == 0


def test_names_are_unique_and_rows_are_the_providers_own(client, shop, build):
    ada = add(client, shop, "Ada")
    assert_error_shape(client.post("/api/v1/provider/resources", json={"name": "Ada"},
                                   headers=shop["staff"]), 409, "resource.name_taken")
    stranger = shop["headers_of"](build.staff(build.provider()))
    assert_error_shape(client.patch(f"/api/v1/provider/resources/{ada['id']}",
                                    json={"active": False}, headers=stranger), 404)
    assert_error_shape(client.put(f"/api/v1/provider/offerings/{shop['cut']}/resources",
                                  json={"resource_ids": [ada["id"]]}, headers=stranger), 404)
    assert_error_shape(client.get(f"/api/v1/provider/resources/{ada['id']}/time-off",
                                  headers=stranger), 404)
    assert client.get("/api/v1/provider/resources", headers=stranger).json == []
    assert client.get("/api/v1/provider/resources",
                      headers=shop["customer"]).status_code == 403
    bad_time = client.post(f"/api/v1/provider/resources/{ada['id']}/time-off", json={
        "starts_at": "2030-06-04T12:00:00+02:00", "ends_at": "2030-06-04T09:00:00+02:00"},
        headers=shop["staff"])
    assert_error_shape(bad_time, 422, "resource.time_off_order")
    switched = client.patch(f"/api/v1/provider/resources/{ada['id']}",
                            json={"active": False}, headers=shop["staff"])
    assert switched.status_code == 200 and switched.json["active"] is False


def test_a_class_shares_its_teacher_once_staff_say_so(client, shop, build):
    ada = add(client, shop, "Ada")
    client.put(f"/api/v1/provider/offerings/{shop['cut']}/resources",
               json={"resource_ids": [ada["id"]]}, headers=shop["staff"])
    first = client.post("/api/v1/bookings", json={
        "offering_id": shop["cut"], "slot_id": shop["slot"]}, headers=shop["customer"])
    assert first.status_code == 201
    second = shop["headers_of"](build.customer())
    busy = client.post("/api/v1/bookings", json={
        "offering_id": shop["cut"], "slot_id": shop["slot"]}, headers=second)
    assert_error_shape(busy, 409, "booking.resource_busy")  # an appointment: Ada's own

    shared = client.patch(f"/api/v1/provider/offerings/{shop['cut']}",
                          json={"resources_shared": True}, headers=shop["staff"])
    assert shared.status_code == 200 and shared.json["resources_shared"] is True
    joined = client.post("/api/v1/bookings", json={
        "offering_id": shop["cut"], "slot_id": shop["slot"]}, headers=second)
    assert joined.status_code == 201, joined.json
    detail = client.get(f"/api/v1/bookings/{joined.json['reference']}", headers=second).json
    assert [r["name"] for r in detail["resources"]] == ["Ada"]
    assert client.patch(f"/api/v1/provider/offerings/{shop['cut']}",
                        json={"resources_shared": "sometimes"},
                        headers=shop["staff"]).status_code == 422
    back = client.patch(f"/api/v1/provider/offerings/{shop['cut']}",
                        json={"resources_shared": False, "name": "Group cut"},
                        headers=shop["staff"])
    assert_error_shape(back, 409, "resource.shared_in_use")  # two people share Ada
    offering = client.get(f"/api/v1/provider/offerings/{shop['cut']}",
                          headers=shop["staff"]).json
    assert (offering["resources_shared"], offering["name"]) == (True, "Cut")  # unchanged
    client.post(f"/api/v1/bookings/{joined.json['reference']}/cancel", headers=second)
    assert client.patch(f"/api/v1/provider/offerings/{shop['cut']}",
                        json={"resources_shared": False},
                        headers=shop["staff"]).status_code == 200
    third = shop["headers_of"](build.customer())
    assert_error_shape(client.post("/api/v1/bookings", json={
        "offering_id": shop["cut"], "slot_id": shop["slot"]}, headers=third), 409,
        "booking.resource_busy")  # Ada's own time again
