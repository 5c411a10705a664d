"""The provider API's bookings: a provider's own only (staff token or a key holding
``bookings:read``), filtered and paginated, in the webhooks' booking shape."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select, update

from api.bookings.provider_schemas import ProviderBookingSchema
from api.webhooks.payloads import WebhookBookingDataSchema
from app.extensions import db
from app.models import Account, Booking, Payment
from app.services import bookings, event_payloads, provider_booking_queries, webhook_payloads
from app.services.scopes import Scope
from tests.helpers import assert_error_shape, bearer, token_for

URL = "/api/v1/provider/bookings"
# Berlin is UTC+1 in March: 22:30 UTC is 23:30 on 1 March there, 23:30 UTC already 2 March.
LATE_ON_THE_FIRST = datetime(2031, 3, 1, 22, 30, tzinfo=timezone.utc)
EARLY_ON_THE_SECOND = datetime(2031, 3, 1, 23, 30, tzinfo=timezone.utc)
LATER = datetime(2031, 3, 10, 9, 0, tzinfo=timezone.utc)


@dataclass
class Shop:
    provider: int
    staff: int
    massage: int
    sauna: int


def _shop(build, name: str) -> Shop:
    provider = build.provider(name=name, timezone="Europe/Berlin")
    return Shop(provider, build.staff(provider),
                build.offering(provider, name=f"{name} massage", price_minor=4200),
                build.offering(provider, name=f"{name} sauna", price_minor=1500))


def _customer(build, email: str) -> int:
    account_id = build.customer(email=email)
    account = db.session.get(Account, account_id)
    account.first_name, account.last_name, account.phone = "Ada", "Lovelace", "+4915112345678"
    db.session.commit()
    return account_id


def _book(build, offering: int, starts_at: datetime, customer: int, *,
          status: str | None = None) -> str:
    slot = build.slot(offering, starts_at, capacity=50)
    reference = bookings.place_booking(customer_id=customer, offering_id=offering,
                                       slot_id=slot).reference
    if status is not None:  # test data: the state a booking's life would have led it to
        db.session.execute(update(Booking).where(Booking.reference == reference)
                           .values(status=status))
        db.session.commit()
    return reference


@pytest.fixture
def shops(build):
    """Alpha with three bookings (one a day later than the first in Berlin, though the
    same UTC date), Beta with one."""
    alpha, beta = _shop(build, "Alpha"), _shop(build, "Beta")
    ada, bob = _customer(build, "ada@example.com"), _customer(build, "Bob@Example.com")
    refs = {
        "late_first": _book(build, alpha.massage, LATE_ON_THE_FIRST, ada, status="confirmed"),
        "early_second": _book(build, alpha.massage, EARLY_ON_THE_SECOND, bob),
        "sauna": _book(build, alpha.sauna, LATER, ada, status="cancelled"),
        "beta": _book(build, beta.massage, LATE_ON_THE_FIRST, ada, status="confirmed"),
    }
    return {"alpha": alpha, "beta": beta, "refs": refs,
            "token": bearer(token_for(alpha.staff))}


def _references(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [row["reference"] for row in response.get_json()]


def _listed(client, headers, **query) -> list[str]:
    return _references(client.get(URL, query_string=query, headers=headers))


def test_staff_list_only_their_providers_bookings_newest_first(client, shops):
    refs = shops["refs"]
    assert _listed(client, shops["token"]) == [refs["sauna"], refs["early_second"],
                                               refs["late_first"]]


def test_a_key_with_bookings_read_lists_its_providers_bookings_only(client, build, shops):
    refs = shops["refs"]
    _, key = build.api_key(shops["beta"].provider, "bookings:read")
    assert _listed(client, bearer(key)) == [refs["beta"]]
    assert client.get(f"{URL}/{refs['beta']}", headers=bearer(key)).status_code == 200
    assert_error_shape(client.get(f"{URL}/{refs['sauna']}", headers=bearer(key)), 404,
                       "booking.not_found")


def test_a_key_without_bookings_read_is_refused(client, build, shops):
    _, key = build.api_key(shops["alpha"].provider, "bookings:write", "payments:read")
    for url in (URL, f"{URL}/{shops['refs']['sauna']}"):
        body = assert_error_shape(client.get(url, headers=bearer(key)), 403,
                                  "auth.scope_missing")
        assert body["errors"] == {"scope": ["bookings:read"]}


def test_a_customer_is_refused(client, build, shops):
    customer = bearer(token_for(build.customer()))
    assert_error_shape(client.get(URL, headers=customer), 403)


def test_status_narrows_to_any_of_the_given(client, shops):
    refs, token = shops["refs"], shops["token"]
    assert _listed(client, token, status="confirmed") == [refs["late_first"]]
    assert _listed(client, token, status=["confirmed", "pending"]) == [
        refs["early_second"], refs["late_first"]]
    assert _listed(client, token, status="no_show") == []


def test_an_unknown_status_is_refused_with_the_field_named(client, shops):
    body = assert_error_shape(client.get(URL, query_string={"status": ["confirmed", "paid"]},
                                         headers=shops["token"]), 422, "validation_error")
    assert "status" in body["errors"], body


def test_a_start_date_means_midnight_in_the_providers_zone(client, shops):
    refs, token = shops["refs"], shops["token"]
    assert _listed(client, token, starts_from="2031-03-02", starts_before="2031-03-03") == [
        refs["early_second"]]
    assert _listed(client, token, starts_before="2031-03-02") == [refs["late_first"]]
    # A time without an offset is the provider's wall clock; with one, it is exact.
    assert _listed(client, token, starts_from="2031-03-02T00:00") == [
        refs["sauna"], refs["early_second"]]
    assert _listed(client, token, starts_from="2031-03-01T23:00:00Z",
                   starts_before="2031-03-10T09:00:00+00:00") == [refs["early_second"]]


def test_offering_narrows_to_its_bookings(client, shops):
    assert _listed(client, shops["token"], offering_id=shops["alpha"].sauna) == [
        shops["refs"]["sauna"]]
    assert _listed(client, shops["token"], offering_id=shops["beta"].massage) == []


def test_created_since_returns_what_was_made_since(client, shops):
    refs = shops["refs"]
    long_ago = datetime(2020, 1, 1, tzinfo=timezone.utc)
    db.session.execute(update(Booking).where(
        Booking.reference.in_([refs["late_first"], refs["early_second"]]))
        .values(created_at=long_ago))
    db.session.commit()
    assert _listed(client, shops["token"], created_since="2021-06-01") == [refs["sauna"]]
    assert _listed(client, shops["token"],
                   created_since=(long_ago - timedelta(seconds=1)).isoformat()) == [
        refs["sauna"], refs["early_second"], refs["late_first"]]


def test_customer_email_matches_the_whole_address_in_any_case(client, shops):
    refs, token = shops["refs"], shops["token"]
    assert _listed(client, token, customer_email="bob@example.COM") == [refs["early_second"]]
    assert _listed(client, token, customer_email="ADA@example.com") == [
        refs["sauna"], refs["late_first"]]
    assert _listed(client, token, customer_email="example.com") == []


def test_sort_by_start(client, shops):
    refs = shops["refs"]
    assert _listed(client, shops["token"], sort="starts_at") == [
        refs["late_first"], refs["early_second"], refs["sauna"]]
    assert_error_shape(client.get(URL, query_string={"sort": "price"},
                                  headers=shops["token"]), 422, "validation_error")


def test_pages_carry_the_pagination_header(client, shops):
    refs = shops["refs"]
    first = client.get(URL, query_string={"page_size": 2}, headers=shops["token"])
    assert _references(first) == [refs["sauna"], refs["early_second"]]
    assert json.loads(first.headers["X-Pagination"]) == {
        "total": 3, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 1,
        "next_page": 2}
    second = client.get(URL, query_string={"page_size": 2, "page": 2},
                        headers=shops["token"])
    assert _references(second) == [refs["late_first"]]
    assert json.loads(second.headers["X-Pagination"])["previous_page"] == 1


@pytest.mark.parametrize("field, value", [
    ("starts_from", "yesterday"),
    ("starts_from", "2031-02-30"),
    ("starts_before", "2031-03-01T25:00"),
    ("starts_before", "0001-01-01"),
    ("created_since", "9999-12-31T23:59:59+14:00"),
    ("created_since", "2031-03-01T09:00:00+99:00"),
    ("offering_id", "3.5"),
    ("offering_id", "99999999999"),
    ("customer_email", ""),
    ("page_size", "500"),
])
def test_garbled_input_is_refused_with_the_field_named(client, shops, field, value):
    body = assert_error_shape(client.get(URL, query_string={field: value},
                                         headers=shops["token"]), 422, "validation_error")
    assert field in body["errors"], body


def test_a_midnight_the_zone_skips_is_refused(client, build):
    # Santiago moved its clocks from 00:00 to 01:00 on 7 September 2031.
    provider = build.provider(timezone="America/Santiago")
    token = bearer(token_for(build.staff(provider)))
    body = assert_error_shape(client.get(URL, query_string={"starts_from": "2031-09-07"},
                                         headers=token), 422, "validation_error")
    assert "starts_from" in body["errors"], body


def test_one_booking_by_reference(client, shops):
    reference = shops["refs"]["early_second"]
    response = client.get(f"{URL}/{reference}", headers=shops["token"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["reference"] == reference
    assert body["status"] == "pending"
    assert body["customer"]["email"] == "bob@example.com"
    assert body["starts_at"] == "2031-03-01T23:30:00Z"
    assert body["time_zone"] == "Europe/Berlin"


def test_another_providers_booking_answers_as_a_missing_one(client, shops):
    foreign = assert_error_shape(client.get(f"{URL}/{shops['refs']['beta']}",
                                            headers=shops["token"]), 404)
    missing = assert_error_shape(client.get(f"{URL}/BKNOTHERE", headers=shops["token"]),
                                 404)
    assert foreign["code"] == missing["code"] == "booking.not_found"


def test_the_body_is_the_webhook_data_plus_updated_at_and_payment(client, shops):
    reference = shops["refs"]["late_first"]
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    db.session.add(Payment(provider_id=booking.provider_id, booking_id=booking.id,
                           gateway="manual", amount_minor=4200, currency="EUR",
                           status="succeeded", received_minor=4200))
    db.session.commit()
    webhook_data = webhook_payloads.data_for("booking.confirmed",
                                             event_payloads.booking(booking))

    one = client.get(f"{URL}/{reference}", headers=shops["token"]).get_json()
    listed = next(row for row in client.get(URL, headers=shops["token"]).get_json()
                  if row["reference"] == reference)
    assert one == listed
    assert ProviderBookingSchema().validate(one) == {}
    payment, updated_at = one.pop("payment"), one.pop("updated_at")
    assert one == webhook_data
    assert WebhookBookingDataSchema().validate(one) == {}
    assert datetime.fromisoformat(updated_at) >= datetime.fromisoformat(one["created_at"])
    assert payment["status"] == "succeeded" and payment["method"] == "manual"
    assert payment["received"] == {"amount_minor": 4200, "currency": "EUR",
                                   "amount": "42.00"}


def test_a_booking_without_a_payment_says_so(client, shops):
    body = client.get(f"{URL}/{shops['refs']['sauna']}", headers=shops["token"]).get_json()
    assert body["payment"] is None


def test_the_schema_is_documented_with_the_webhook_shapes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    listing = spec["paths"]["/api/v1/provider/bookings"]["get"]
    assert {"apiKey": ["bookings:read"]} in listing["security"]
    item = spec["components"]["schemas"]["ProviderBooking"]
    assert set(item["properties"]) == set(WebhookBookingDataSchema().fields) - {
        "previous_starts_at"} | {"updated_at", "payment"}
    assert {"$ref": "#/components/schemas/WebhookMoney"} in item["properties"]["total"]["anyOf"]


def _statements_for_a_page(provider_id: int) -> tuple[int, int]:
    """(rows on the first page, statements it took) with nothing in the session."""
    db.session.expunge_all()
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        rows, _ = provider_booking_queries.list_provider_bookings(
            scope=Scope.of_provider(provider_id), page=1, page_size=50)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(rows), len(statements)


def test_a_page_takes_the_same_few_statements_however_many_rows(build):
    shop = _shop(build, "Gamma")
    small = _statements_for_a_page(shop.provider)
    for n in range(12):
        offering = build.offering(shop.provider, name=f"Class {n}")
        _book(build, offering, LATER + timedelta(hours=n), _customer(build, f"c{n}@e.com"))
    db.session.add(Payment(provider_id=shop.provider, booking_id=db.session.scalar(
        select(Booking.id).where(Booking.provider_id == shop.provider).limit(1)),
        gateway="manual", amount_minor=2500, currency="EUR", status="created"))
    db.session.commit()
    rows, statements = _statements_for_a_page(shop.provider)
    assert rows == 12
    # The zone, the count, the rows; the page's offerings, variants (none here), customers,
    # provider and payments: no statement per row.
    assert statements <= 8, statements
    assert small == (0, 3), small


def test_a_garbled_date_answers_the_documented_error(client, shops):
    body = assert_error_shape(client.get(URL, query_string={"starts_from": "1.3.2031"},
                                         headers=shops["token"]), 422, "validation_error")
    assert body["errors"] == {"starts_from": [
        "Not an ISO 8601 date (2031-03-01) or date and time (2031-03-01T09:00:00Z)."]}


@pytest.mark.parametrize("reference", ["X" * 300, "BK%00ZZ", "%F0%9F%92%A9"])
def test_an_odd_reference_is_simply_missing(client, shops, reference):
    assert_error_shape(client.get(f"{URL}/{reference}", headers=shops["token"]), 404)
