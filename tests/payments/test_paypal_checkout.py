"""Paying a booking with PayPal through the API: PayPal's SDK against the local stand-in.

The order is created when the customer starts paying, approved on the stand-in's page (as
a browser would), and captured when the customer comes back; the booking is confirmed
only from the capture PayPal reports.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Booking
from app.models.payments import Payment
from tests.fakes.paypal import approve
from tests.helpers import assert_error_shape, bearer, token_for
from tests.payments.conftest import place


def _headers(user_id):
    return bearer(token_for(user_id))


def _state(reference):
    db.session.expire_all()
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking.id))
    return booking, payment


def start(client, reference, customer, **body):
    return client.post(f"/api/v1/bookings/{reference}/payment", headers=_headers(customer),
                       json={"method": "paypal", **body})


def come_back(client, reference, customer, order_id):
    return client.post(f"/api/v1/bookings/{reference}/payment/paypal-return",
                       headers=_headers(customer), json={"order_id": order_id})


def test_order_approve_return_captures_and_confirms(app, app_ctx, client, build, shop,
                                                    paypal_on):
    reference = place(build, shop, quantity=2)
    started = start(client, reference, shop["customer"])

    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    assert (body["gateway"], body["amount_minor"], body["currency"]) == ("paypal", 8400, "EUR")
    assert body["status"] == "requires_payment" and body["approval_url"]
    booking, payment = _state(reference)
    assert body["order_id"] == payment.provider_reference
    order = paypal_on.ledger.order(payment.provider_reference)
    unit = paypal_on.ledger.order_json(order)["purchase_units"][0]
    assert unit["custom_id"] == str(payment.id)
    assert unit["invoice_id"] == (app.config["PAYPAL_INVOICE_PREFIX"]
                                  + f"{payment.id}-{payment.created_at:%Y%m%d%H%M%S%f}")
    assert unit["amount"] == {"currency_code": "EUR", "value": "84.00"}

    back = approve(body["approval_url"])
    assert back["token"] == payment.provider_reference
    assert _state(reference)[0].status == "pending"  # approval alone pays nothing

    returned = come_back(client, reference, shop["customer"], back["token"])
    assert returned.status_code == 200, returned.get_json()
    assert returned.get_json()["status"] == "succeeded"
    booking, payment = _state(reference)
    assert (booking.status, payment.status, payment.received_minor, payment.method) == (
        "confirmed", "succeeded", 8400, "paypal")

    again = come_back(client, reference, shop["customer"], back["token"])
    assert again.status_code == 200 and again.get_json()["status"] == "succeeded"
    assert [c.order_id for c in paypal_on.ledger.captures.values()].count(
        payment.provider_reference) == 1  # captured once


def test_starting_twice_makes_one_order(app_ctx, client, build, shop, paypal_on):
    reference = place(build, shop)
    first = start(client, reference, shop["customer"]).get_json()
    again = start(client, reference, shop["customer"]).get_json()
    assert again["payment_id"] == first["payment_id"]
    assert again["approval_url"] == first["approval_url"]
    assert db.session.query(Payment).count() == 1


def test_a_return_before_approval_never_confirms(app_ctx, client, build, shop, paypal_on):
    reference = place(build, shop)
    start(client, reference, shop["customer"])
    order_id = _state(reference)[1].provider_reference

    returned = come_back(client, reference, shop["customer"], order_id)
    assert returned.status_code == 200 and returned.get_json()["status"] == "requires_payment"
    booking, payment = _state(reference)
    assert (booking.status, payment.status, payment.received_minor) == (
        "pending", "requires_payment", None)


def test_an_approval_without_a_return_never_confirms(app_ctx, client, build, shop, paypal_on):
    reference = place(build, shop)
    approve(start(client, reference, shop["customer"]).get_json()["approval_url"])
    booking, payment = _state(reference)
    assert (booking.status, payment.status) == ("pending", "requires_payment")


def test_a_declined_capture_leaves_the_booking_unpaid(app_ctx, client, build, shop, paypal_on):
    reference = place(build, shop)
    body = start(client, reference, shop["customer"]).get_json()
    back = approve(body["approval_url"], decline=True)

    returned = come_back(client, reference, shop["customer"], back["token"])
    assert returned.status_code == 200 and returned.get_json()["status"] == "requires_payment"
    booking, payment = _state(reference)
    assert (booking.status, payment.status) == ("pending", "requires_payment")
    assert payment.failure_code == "INSTRUMENT_DECLINED"
    assert returned.get_json()["failure_code"] == "INSTRUMENT_DECLINED"

    # Approved again with another funding source: the next return pays.
    back = approve(returned.get_json()["approval_url"])
    assert come_back(client, reference, shop["customer"], back["token"]).get_json()[
        "status"] == "succeeded"
    assert _state(reference)[0].status == "confirmed"


def test_an_unknown_method_is_refused_in_the_documented_shape(app_ctx, client, build, shop,
                                                               paypal_on):
    reference = place(build, shop)
    response = client.post(f"/api/v1/bookings/{reference}/payment",
                           headers=_headers(shop["customer"]), json={"method": "bitcoin"})
    body = assert_error_shape(response, 422)
    assert "method" in str(body["errors"])
    assert db.session.query(Payment).count() == 0


def test_a_return_address_off_this_site_is_refused(app_ctx, client, build, shop, paypal_on):
    reference = place(build, shop)
    response = start(client, reference, shop["customer"],
                     return_url="https://evil.example/steal")
    assert_error_shape(response, 422, "payment.foreign_return_url")
    assert db.session.query(Payment).count() == 0  # nothing stored
    assert start(client, reference, shop["customer"]).status_code == 201  # nor held


def test_paypal_not_set_up_is_a_conflict(app, app_ctx, client, build, shop, monkeypatch):
    monkeypatch.setitem(app.config, "PAYPAL_CLIENT_ID", None)
    reference = place(build, shop)
    assert_error_shape(start(client, reference, shop["customer"]), 409,
                       "payment.not_configured")


def test_an_unreachable_paypal_is_503_and_keeps_the_stored_payment(
        app, app_ctx, client, build, shop, paypal_on, monkeypatch):
    reference = place(build, shop)
    monkeypatch.setitem(app.config, "PAYPAL_API_BASE", "http://127.0.0.1:9")
    app.extensions.pop("bookwell_payment_gateways", None)
    assert_error_shape(start(client, reference, shop["customer"]), 503,
                       "payment.gateway_unavailable")
    _, stored = _state(reference)
    assert (stored.gateway, stored.status, stored.provider_reference) == (
        "paypal", "created", None)

    monkeypatch.setitem(app.config, "PAYPAL_API_BASE", paypal_on.url)
    app.extensions.pop("bookwell_payment_gateways", None)
    again = start(client, reference, shop["customer"])
    assert again.status_code == 201 and again.get_json()["payment_id"] == stored.id


def test_another_customer_can_neither_start_nor_return(app_ctx, client, build, shop,
                                                       paypal_on):
    reference = place(build, shop)
    stranger = build.customer()
    assert_error_shape(start(client, reference, stranger), 404, "booking.not_found")
    assert db.session.query(Payment).count() == 0

    back = approve(start(client, reference, shop["customer"]).get_json()["approval_url"])
    assert_error_shape(come_back(client, reference, stranger, back["token"]), 404,
                       "booking.not_found")
    # The stranger's own booking cannot take this order either.
    theirs = place(build, shop, customer=stranger)
    start(client, theirs, stranger)
    assert_error_shape(come_back(client, theirs, stranger, back["token"]), 409,
                       "payment.order_mismatch")
    assert _state(reference)[0].status == "pending"
    assert _state(theirs)[0].status == "pending"


def test_a_card_payment_cannot_be_returned_as_paypal(app_ctx, client, build, shop, paypal_on):
    reference = place(build, shop)
    start(client, reference, shop["customer"])
    response = client.post(f"/api/v1/bookings/{reference}/payment",
                           headers=_headers(shop["customer"]), json={"method": "card"})
    assert response.status_code == 409  # started with PayPal (or no card gateway here)


def _paid_with_paypal(client, build, shop):
    reference = place(build, shop)
    back = approve(start(client, reference, shop["customer"]).get_json()["approval_url"])
    assert come_back(client, reference, shop["customer"], back["token"]).get_json()[
        "status"] == "succeeded"
    return reference, _state(reference)[1]


def test_a_paypal_payment_is_refunded_at_paypal_up_to_its_capture(app, app_ctx, client, build,
                                                                  shop, paypal_on):
    from app.errors import ValidationFailed
    from app.services import refunds
    from app.services.scopes import Scope

    reference, payment = _paid_with_paypal(client, build, shop)
    scope = Scope.of_provider(shop["a"]["provider"])
    staff = shop["a"]["staff"]
    part = refunds.request_refund(payment.id, amount_minor=1000, reason="late start",
                                  actor_id=staff, scope=scope)
    assert part.status == "succeeded" and part.provider_reference
    with pytest.raises(ValidationFailed):  # refused here, before PayPal is asked
        refunds.request_refund(payment.id, amount_minor=3201, reason="", actor_id=staff,
                               scope=scope)
    rest = refunds.request_refund(payment.id, amount_minor=None, reason="cancelled by us",
                                  actor_id=staff, scope=scope)
    assert rest.status == "succeeded" and rest.amount_minor == 3200

    capture_id = paypal_on.ledger.order(payment.provider_reference).capture_id
    assert paypal_on.ledger.capture_of(capture_id).refund_ids == [
        part.provider_reference, rest.provider_reference]
    booking, payment = _state(reference)
    assert (payment.refunded_minor, booking.status) == (4200, "refunded")


def _aged(app, reference):
    """The payment as reconciliation finds it: left alone for longer than it waits."""
    from datetime import timedelta

    from app.models.types import utcnow
    old = utcnow() - timedelta(minutes=app.config["PAYMENT_RECONCILE_AFTER_MINUTES"] + 1)
    payment_id = _state(reference)[1].id
    db.session.query(Payment).filter_by(id=payment_id).update(
        {"updated_at": old, "checked_at": None})
    db.session.commit()


def test_reconciliation_captures_an_order_approved_without_return_or_webhook(
        app, app_ctx, client, build, shop, paypal_on):
    from app.services import payment_reconciliation

    reference = place(build, shop)
    approve(start(client, reference, shop["customer"]).get_json()["approval_url"])
    assert payment_reconciliation.reconcile()["checked"] == 0  # too recent to chase
    _aged(app, reference)

    counts = payment_reconciliation.reconcile()

    assert (counts["checked"], counts["settled"], counts["errors"]) == (1, 1, 0)
    booking, payment = _state(reference)
    assert (booking.status, payment.status, payment.received_minor) == (
        "confirmed", "succeeded", 4200)
    assert [c.order_id for c in paypal_on.ledger.captures.values()].count(
        payment.provider_reference) == 1


def test_reconciliation_leaves_the_approved_order_of_an_expired_booking_uncaptured(
        app, app_ctx, client, build, shop, paypal_on):
    from app.services import bookings, payment_reconciliation

    reference = place(build, shop)
    approve(start(client, reference, shop["customer"]).get_json()["approval_url"])
    booking, _ = _state(reference)
    bookings.transition(booking, "expired", bookings.Actor(None, "hold expired"))
    db.session.commit()
    _aged(app, reference)

    counts = payment_reconciliation.reconcile()

    assert (counts["checked"], counts["settled"]) == (1, 1)
    booking, payment = _state(reference)
    assert (booking.status, payment.status, payment.received_minor) == (
        "expired", "canceled", None)
    assert payment.failure_code == "order_left_uncaptured"
    assert not [c for c in paypal_on.ledger.captures.values()
                if c.order_id == payment.provider_reference]  # nothing taken
    assert paypal_on.ledger.order(payment.provider_reference).status == "APPROVED"
    _aged(app, reference)
    assert payment_reconciliation.reconcile()["checked"] == 0  # not re-read forever
