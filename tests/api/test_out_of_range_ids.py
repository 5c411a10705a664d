"""Ids no database row can have are refused as input errors, never a 500.

PostgreSQL integers stop at 2,147,483,647; a larger id in a body, a query or a URL used to
reach the database and fail there.
"""
from __future__ import annotations

from tests.helpers import assert_error_shape, bearer, token_for
from tests.views.console import signed_in

TOO_BIG = 2**31


def test_a_booking_for_an_id_past_the_range_is_a_field_error(app_ctx, client, build):
    headers = bearer(token_for(build.customer()))
    response = client.post("/api/v1/bookings", headers=headers,
                           json={"offering_id": TOO_BIG, "slot_id": TOO_BIG})
    errors = assert_error_shape(response, 422)["errors"]
    assert set(errors) == {"offering_id", "slot_id"}
    assert_error_shape(client.get(f"/api/v1/offerings?category={TOO_BIG}"), 422)


def test_a_url_id_past_the_range_is_not_found(app_ctx, client, build):
    staff = bearer(token_for(build.staff(build.provider())))
    assert_error_shape(client.get(f"/api/v1/provider/payments/{TOO_BIG}", headers=staff), 404)
    assert_error_shape(client.get(f"/api/v1/offerings/{TOO_BIG}"), 404)


def test_any_other_value_the_database_cannot_hold_is_a_422(app_ctx, client, build):
    staff = bearer(token_for(build.staff(build.provider())))
    response = client.post("/api/v1/provider/offerings", headers=staff, json={
        "kind": "service", "name": "Yoga", "price_minor": 1000, "currency": "EUR",
        "duration_minutes": 60, "category_id": TOO_BIG})
    assert_error_shape(response, 422)  # a field rule (SQLite) or the database's range


def test_the_console_answers_a_pk_past_the_range_with_not_found(app, app_ctx, build):
    admin = signed_in(app, build.email_of(build.admin()))
    for screen in ("paymentview", "bookingview", "offeringview"):
        assert admin.get(f"/{screen}/show/{TOO_BIG}").status_code == 404, screen
