"""Customers book, list, cancel and reschedule; capacity is never oversold."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Account,
    Attribution,
    AuditLog,
    Booking,
    BookingHistory,
    OutboxEvent,
    Slot,
    Variant,
)
from tests.helpers import api_login, assert_error_shape, bearer


@pytest.fixture
def world(build, client):
    provider = build.provider(timezone="Europe/Berlin")
    service = build.offering(provider, name="Massage", price_minor=6000)
    product = build.offering(provider, kind="product", name="Oil", price_minor=1500)
    customer = build.customer()
    return {
        "provider": provider, "service": service, "product": product,
        "slot": build.future_slot(service, capacity=3),
        "other_slot": build.future_slot(service, days=4, capacity=2),
        "variant": build.variant(product, stock=2, price_minor=1800),
        "customer": customer,
        "headers": bearer(api_login(client, build.email_of(customer))["access_token"]),
    }


def book(client, world, **fields):
    body = {"offering_id": world["service"], "slot_id": world["slot"], "quantity": 1}
    body.update(fields)
    return client.post("/api/v1/bookings", json=body, headers=world["headers"])


def _slot(slot_id: int) -> Slot:
    db.session.expire_all()
    return db.session.get(Slot, slot_id)


def test_booking_a_slot_holds_places_and_records_everything(client, world):
    response = book(client, world, quantity=2, notes="Window seat", utm_source="tiktok",
                    utm_campaign="spring", ttclid="E.C.P.abc", consent=True,
                    landing_url="https://shop.example/?utm_source=tiktok")

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["reference"].startswith("BW-") and len(body["reference"]) == 9
    assert (body["status"], body["quantity"], body["total_minor"], body["currency"]) == (
        "pending", 2, 12000, "EUR")
    assert body["hold_expires_at"] is not None
    assert body["attribution"]["utm_source"] == "tiktok"
    assert _slot(world["slot"]).booked == 2
    attribution = db.session.scalar(select(Attribution))
    assert attribution.ttclid == "E.C.P.abc" and attribution.consent is True
    assert attribution.ip == "127.0.0.1"
    (history,) = db.session.scalars(select(BookingHistory)).all()
    assert (history.from_status, history.to_status, history.actor_id) == (
        None, "pending", world["customer"])
    assert [e.topic for e in db.session.scalars(select(OutboxEvent))] == ["booking.created"]


def test_a_full_slot_answers_409_and_changes_nothing(client, world):
    assert book(client, world, quantity=3).status_code == 201
    body = assert_error_shape(book(client, world), 409, "booking.slot_full")
    assert "quantity" in body["errors"]
    assert _slot(world["slot"]).booked == 3
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


@pytest.mark.parametrize("fields, status, code", [
    ({"slot_id": None}, 422, None),
    ({"slot_id": 999999}, 422, "booking.unknown_slot"),
    ({"quantity": 0}, 422, None),
    ({"offering_id": 999999}, 404, "offering.not_found"),
])
def test_bad_booking_requests_are_refused(client, world, fields, status, code):
    body = {k: v for k, v in fields.items() if v is not None}
    if fields.get("slot_id", 1) is None:
        response = client.post("/api/v1/bookings", headers=world["headers"],
                               json={"offering_id": world["service"]})
    else:
        response = book(client, world, **body)
    assert_error_shape(response, status, code)
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_a_slot_of_another_offering_is_refused(client, world, build):
    foreign = build.future_slot(build.offering(build.provider()))
    assert_error_shape(book(client, world, slot_id=foreign), 422, "booking.unknown_slot")


def test_a_started_slot_cannot_be_booked(client, world, build):
    past = build.future_slot(world["service"], days=-0.1)
    assert_error_shape(book(client, world, slot_id=past), 409, "booking.slot_started")


def test_products_take_variant_stock_at_the_variant_price(client, world):
    response = book(client, world, offering_id=world["product"], slot_id=None,
                    variant_id=world["variant"], quantity=2)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["total_minor"] == 3600
    db.session.expire_all()
    assert db.session.get(Variant, world["variant"]).stock == 0
    out = book(client, world, offering_id=world["product"], variant_id=world["variant"])
    assert_error_shape(out, 409, "booking.out_of_stock")


def test_free_offerings_are_confirmed_at_once(client, world, build):
    free = build.offering(world["provider"], name="Open day", price_minor=0)
    response = book(client, world, offering_id=free, slot_id=build.future_slot(free))
    assert response.get_json()["status"] == "confirmed"
    assert response.get_json()["hold_expires_at"] is None
    topics = sorted(e.topic for e in db.session.scalars(select(OutboxEvent)))
    assert topics == ["booking.confirmed", "booking.created"]


def test_list_and_get_only_your_own(client, world, build):
    mine = book(client, world).get_json()["reference"]
    other = bearer(api_login(client, build.email_of(build.customer()))["access_token"])
    theirs = client.post("/api/v1/bookings", headers=other, json={
        "offering_id": world["service"], "slot_id": world["other_slot"]}).get_json()["reference"]

    listed = client.get("/api/v1/bookings", headers=world["headers"])
    assert [b["reference"] for b in listed.get_json()] == [mine]
    assert '"total": 1' in listed.headers["X-Pagination"]
    detail = client.get(f"/api/v1/bookings/{mine}", headers=world["headers"]).get_json()
    assert [h["to_status"] for h in detail["history"]] == ["pending"]
    assert_error_shape(client.get(f"/api/v1/bookings/{theirs}", headers=world["headers"]),
                       404, "booking.not_found")
    assert_error_shape(client.post(f"/api/v1/bookings/{theirs}/cancel",
                                   headers=world["headers"]), 404)
    assert_error_shape(client.post(f"/api/v1/bookings/{theirs}/reschedule",
                                   headers=world["headers"],
                                   json={"slot_id": world["slot"]}), 404)
    filtered = client.get("/api/v1/bookings?status=cancelled", headers=world["headers"])
    assert filtered.get_json() == []


def test_cancel_releases_places_and_cannot_happen_twice(client, world):
    reference = book(client, world, quantity=2).get_json()["reference"]

    response = client.post(f"/api/v1/bookings/{reference}/cancel", headers=world["headers"])

    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert _slot(world["slot"]).booked == 0
    again = client.post(f"/api/v1/bookings/{reference}/cancel", headers=world["headers"])
    body = assert_error_shape(again, 409, "booking.invalid_transition")
    assert body["errors"]["status"] == ["cancelled"]
    assert _slot(world["slot"]).booked == 0


def test_customers_cannot_cancel_a_confirmed_booking_after_the_window(client, world, build):
    free = build.offering(world["provider"], price_minor=0, free_cancellation_hours=48)
    reference = book(client, world, offering_id=free,
                     slot_id=build.future_slot(free, days=1)).get_json()["reference"]
    assert_error_shape(client.post(f"/api/v1/bookings/{reference}/cancel",
                                   headers=world["headers"]), 409,
                       "booking.cancellation_window_passed")


def test_reschedule_moves_the_places_atomically(client, world):
    reference = book(client, world, quantity=2).get_json()["reference"]

    moved = client.post(f"/api/v1/bookings/{reference}/reschedule", headers=world["headers"],
                        json={"slot_id": world["other_slot"]})

    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["slot_id"] == world["other_slot"]
    assert (_slot(world["slot"]).booked, _slot(world["other_slot"]).booked) == (0, 2)
    topics = [e.topic for e in db.session.scalars(select(OutboxEvent))]
    assert "booking.rescheduled" in topics


def test_a_failed_reschedule_keeps_the_old_place(client, world, build):
    reference = book(client, world, quantity=2).get_json()["reference"]
    tiny = build.future_slot(world["service"], days=5, capacity=1)

    refused = client.post(f"/api/v1/bookings/{reference}/reschedule",
                          headers=world["headers"], json={"slot_id": tiny})

    assert_error_shape(refused, 409, "booking.slot_full")
    assert (_slot(world["slot"]).booked, _slot(tiny).booked) == (2, 0)
    detail = client.get(f"/api/v1/bookings/{reference}", headers=world["headers"]).get_json()
    assert detail["slot_id"] == world["slot"]


def test_idempotent_create_returns_the_first_answer(client, world):
    headers = {**world["headers"], "Idempotency-Key": "order-42"}
    body = {"offering_id": world["service"], "slot_id": world["slot"], "quantity": 1}

    first = client.post("/api/v1/bookings", json=body, headers=headers)
    second = client.post("/api/v1/bookings", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    assert _slot(world["slot"]).booked == 1
    other_body = client.post("/api/v1/bookings", json={**body, "quantity": 2}, headers=headers)
    assert_error_shape(other_body, 422, "idempotency.key_reused")
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_an_idempotent_refusal_is_replayed_too(client, world):
    headers = {**world["headers"], "Idempotency-Key": "too-many"}
    body = {"offering_id": world["service"], "slot_id": world["slot"], "quantity": 50}
    first = client.post("/api/v1/bookings", json=body, headers=headers)
    assert_error_shape(first, 409, "booking.slot_full")
    # A 409 may change (places free up), so it is not stored: the retry runs again.
    again = client.post("/api/v1/bookings", json=body, headers=headers)
    assert "Idempotent-Replayed" not in again.headers
    invalid = {**world["headers"], "Idempotency-Key": "bad-body"}
    assert client.post("/api/v1/bookings", json={"quantity": 1}, headers=invalid).status_code \
        == 422
    replay = client.post("/api/v1/bookings", json={"quantity": 1}, headers=invalid)
    assert replay.status_code == 422 and replay.headers["Idempotent-Replayed"] == "true"


def test_the_audit_entry_names_the_customer(client, world):
    reference = book(client, world).get_json()["reference"]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "booking.created"))
    assert entry.actor_id == world["customer"] and entry.changes["reference"] == reference
    booking_id = db.session.scalar(select(Booking.id).where(Booking.reference == reference))
    assert entry.entity_id == str(booking_id)


def test_a_full_slot_found_only_when_taking_the_places_writes_nothing(client, world,
                                                                     monkeypatch):
    # Another booking filled the slot between the first look and the conditional UPDATE.
    from app.services import booking_placing

    assert book(client, world, quantity=3).status_code == 201
    monkeypatch.setattr(booking_placing, "_check_slot", lambda *args: None)
    assert_error_shape(book(client, world, utm_source="x"), 409, "booking.slot_full")
    assert _slot(world["slot"]).booked == 3
    for model in (Booking, BookingHistory, Attribution, OutboxEvent):
        assert db.session.scalar(select(func.count()).select_from(model)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "booking.created")) == 1


def test_an_inactive_account_cannot_book_with_a_token_it_holds(client, world):
    db.session.get(Account, world["customer"]).active = False
    db.session.commit()
    assert_error_shape(book(client, world), 401, "auth.unknown_user")
    assert_error_shape(client.get("/api/v1/bookings", headers=world["headers"]), 401,
                       "auth.unknown_user")
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


@pytest.mark.parametrize("fields", [
    {},  # a service slot
    {"offering_id": "product", "slot_id": None, "variant": True},
    {"offering_id": 2**31 - 1},  # no such offering: still the account's 401, not a 404
], ids=["slot", "variant", "unknown-offering"])
def test_the_booking_service_refuses_an_inactive_account_on_every_path(client, world, fields):
    # The endpoint takes the customer from the token; the service checks the account.
    db.session.get(Account, world["customer"]).active = False
    db.session.commit()
    fields = dict(fields)
    if fields.get("offering_id") == "product":
        fields["offering_id"] = world["product"]
    if fields.pop("variant", False):
        fields["variant_id"] = world["variant"]
    assert_error_shape(book(client, world, **fields), 401, "auth.unknown_user")
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
    assert db.session.get(Variant, world["variant"]).stock == 2
    assert _slot(world["slot"]).booked == 0


def test_a_token_for_an_account_that_no_longer_exists_cannot_book(client, world):
    from flask_jwt_extended import create_access_token

    token = create_access_token(identity=str(2**31 - 7))  # signed, but names no account
    assert_error_shape(client.post("/api/v1/bookings", headers=bearer(token),
                                   json={"offering_id": world["service"],
                                         "slot_id": world["slot"]}), 401, "auth.unknown_user")


def test_a_refresh_token_cannot_book(client, world, build):
    tokens = api_login(client, build.email_of(world["customer"]))
    response = client.post("/api/v1/bookings", headers=bearer(tokens["refresh_token"]),
                           json={"offering_id": world["service"], "slot_id": world["slot"]})
    assert_error_shape(response, 401)


def test_bookings_need_a_token(client, world):
    assert_error_shape(client.post("/api/v1/bookings", json={}), 401)
    assert_error_shape(client.get("/api/v1/bookings"), 401)


def test_hold_times_out_via_the_expiry_service(client, world, app_ctx):
    from app.models.types import utcnow
    from app.services.bookings import Scope, expire_holds

    reference = book(client, world, quantity=2).get_json()["reference"]
    assert expire_holds(scope=Scope.all_providers(), now=utcnow()) == 0
    assert expire_holds(scope=Scope.all_providers(),
                        now=utcnow() + timedelta(minutes=16)) == 1
    detail = client.get(f"/api/v1/bookings/{reference}", headers=world["headers"]).get_json()
    assert detail["status"] == "expired" and _slot(world["slot"]).booked == 0
    assert [h["to_status"] for h in detail["history"]] == ["pending", "expired"]
