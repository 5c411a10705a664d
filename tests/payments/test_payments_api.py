"""The payment endpoints: customers pay their own bookings; staff see and refund their own."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Booking
from app.models.payments import Payment, Refund
from app.services import payments
from tests.helpers import assert_error_shape, bearer, token_for
from tests.payments.conftest import pay, place, run_payment_jobs


def _headers(user_id, **extra):
    return {**bearer(token_for(user_id)), **extra}


def _paid(build, shop, name="a"):
    customer = shop["customer"]
    reference = place(build, shop, name)
    intent_id = pay(reference, customer)
    payment_id = db.session.scalar(select(Payment.id).join(Booking).where(
        Booking.reference == reference))
    payments.settle_by_id(payment_id, payments.stripe_gateway().retrieve_intent(intent_id),
                          reason="paid")
    return reference, payment_id


def test_customer_starts_a_payment_and_the_same_key_answers_the_same(app_ctx, client, build,
                                                                     shop, stripe_on):
    reference = place(build, shop)
    headers = _headers(shop["customer"], **{"Idempotency-Key": "pay-1"})

    first = client.post(f"/api/v1/bookings/{reference}/payment", headers=headers)
    again = client.post(f"/api/v1/bookings/{reference}/payment", headers=headers)
    fresh = client.post(f"/api/v1/bookings/{reference}/payment",
                        headers=_headers(shop["customer"]))

    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert set(body) == {"payment_id", "gateway", "status", "amount_minor", "currency",
                         "client_secret", "publishable_key", "approval_url", "order_id"}
    # PayPal's; Stripe's customers stay on the page
    assert body["approval_url"] is None and body["order_id"] is None
    assert (body["amount_minor"], body["currency"], body["gateway"]) == (4200, "EUR", "stripe")
    assert body["client_secret"].startswith("pi_") and body["publishable_key"] == "pk_test_local"
    assert again.get_json() == body
    assert fresh.get_json()["payment_id"] == body["payment_id"]
    assert db.session.query(Payment).count() == 1

    status = client.get(f"/api/v1/bookings/{reference}/payment",
                        headers=_headers(shop["customer"]))
    assert status.status_code == 200 and status.get_json()["status"] == "requires_payment"


def test_another_customers_booking_is_not_found_and_nothing_is_created(app_ctx, client, build,
                                                                       shop, stripe_on):
    reference = place(build, shop)
    stranger = build.customer()
    response = client.post(f"/api/v1/bookings/{reference}/payment", headers=_headers(stranger))
    assert_error_shape(response, 404, "booking.not_found")
    assert_error_shape(client.get(f"/api/v1/bookings/{reference}/payment",
                                  headers=_headers(stranger)), 404)
    assert_error_shape(client.post(f"/api/v1/bookings/{reference}/payment"), 401)
    assert db.session.query(Payment).count() == 0


def test_without_a_gateway_configured_online_payment_is_refused_cleanly(app_ctx, client,
                                                                        build, shop):
    reference = place(build, shop)
    response = client.post(f"/api/v1/bookings/{reference}/payment",
                           headers=_headers(shop["customer"]))
    assert_error_shape(response, 409, "payment.not_configured")
    assert db.session.query(Payment).count() == 0


def test_the_demo_test_card_pays_and_confirms_and_a_declined_card_keeps_the_hold(
        app, app_ctx, client, build, shop, stripe_on):
    paid = place(build, shop)
    response = client.post(f"/api/v1/bookings/{paid}/payment/test-card",
                           headers=_headers(shop["customer"]), json={})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "succeeded"
    run_payment_jobs(app)
    db.session.expire_all()
    assert db.session.scalar(select(Booking.status).where(Booking.reference == paid)) == \
        "confirmed"

    declined = place(build, shop)
    response = client.post(f"/api/v1/bookings/{declined}/payment/test-card",
                           headers=_headers(shop["customer"]),
                           json={"card": "pm_card_chargeCustomerFail"})
    assert response.get_json()["status"] == "requires_payment"
    db.session.expire_all()
    assert db.session.scalar(select(Booking.status).where(Booking.reference == declined)) == \
        "pending"
    retried = client.post(f"/api/v1/bookings/{declined}/payment/test-card",
                          headers=_headers(shop["customer"]), json={})
    assert retried.get_json()["status"] == "succeeded"

    assert_error_shape(client.post(f"/api/v1/bookings/{declined}/payment/test-card",
                                   headers=_headers(shop["customer"]),
                                   json={"card": "4242424242424242"}), 422)


def test_test_cards_are_off_against_a_real_gateway(app, app_ctx, client, build, shop,
                                                   stripe_on, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_TEST_CARDS", False)
    reference = place(build, shop)
    assert_error_shape(client.post(f"/api/v1/bookings/{reference}/payment/test-card",
                                   headers=_headers(shop["customer"]), json={}), 404,
                       "payment.test_cards_off")


def test_staff_list_and_refund_only_their_own_payments(app_ctx, client, build, shop,
                                                       stripe_on):
    _, own = _paid(build, shop, "a")
    _, foreign = _paid(build, shop, "b")
    staff = _headers(shop["a"]["staff"])

    listed = client.get("/api/v1/provider/payments", headers=staff)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.get_json()] == [own]
    assert '"total": 1' in listed.headers["X-Pagination"]
    assert_error_shape(client.get(f"/api/v1/provider/payments/{foreign}", headers=staff), 404)
    assert_error_shape(client.post(f"/api/v1/provider/payments/{foreign}/refunds",
                                   headers=staff, json={"amount_minor": 100}), 404)

    refund = client.post(f"/api/v1/provider/payments/{own}/refunds",
                         headers={**staff, "Idempotency-Key": "r-1"},
                         json={"amount_minor": 1500, "reason": "late start"})
    repeat = client.post(f"/api/v1/provider/payments/{own}/refunds",
                         headers={**staff, "Idempotency-Key": "r-1"},
                         json={"amount_minor": 1500, "reason": "late start"})
    assert refund.status_code == 201, refund.get_json()
    assert refund.get_json()["status"] == "succeeded" and repeat.get_json() == refund.get_json()
    assert db.session.query(Refund).count() == 1

    over = client.post(f"/api/v1/provider/payments/{own}/refunds", headers=staff,
                       json={"amount_minor": 2701})
    assert assert_error_shape(over, 422, "refund.exceeds_paid")["errors"] == {
        "amount_minor": ["At most 2700."]}
    assert_error_shape(client.post(f"/api/v1/provider/payments/{own}/refunds", headers=staff,
                                   json={"amount_minor": -5}), 422)

    detail = client.get(f"/api/v1/provider/payments/{own}", headers=staff).get_json()
    assert detail["refunded_minor"] == 1500 and detail["refundable_minor"] == 2700
    assert [r["amount_minor"] for r in detail["refunds"]] == [1500]
    assert [r["payment_id"] for r in client.get("/api/v1/provider/refunds",
                                                headers=staff).get_json()] == [own]
    assert client.get("/api/v1/provider/refunds",
                      headers=_headers(shop["b"]["staff"])).get_json() == []


def test_customers_cannot_use_the_staff_payment_endpoints(app_ctx, client, build, shop,
                                                          stripe_on):
    _, own = _paid(build, shop, "a")
    customer = _headers(shop["customer"])
    assert_error_shape(client.get("/api/v1/provider/payments", headers=customer), 403)
    assert_error_shape(client.post(f"/api/v1/provider/payments/{own}/refunds",
                                   headers=customer, json={}), 403)


def test_staff_mark_a_pay_at_venue_booking_paid_through_the_api(app_ctx, client, build, shop):
    from app.services import bookings

    venue = build.offering(shop["a"]["provider"], price_minor=2000, pay_at_venue=True)
    reference = bookings.place_booking(customer_id=shop["customer"], offering_id=venue,
                                       slot_id=build.future_slot(venue)).reference
    assert_error_shape(client.post(f"/api/v1/provider/bookings/{reference}/mark-paid",
                                   headers=_headers(shop["b"]["staff"]), json={}), 404)

    response = client.post(f"/api/v1/provider/bookings/{reference}/mark-paid",
                           headers=_headers(shop["a"]["staff"]), json={"method": "cash"})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["gateway"] == "manual"
    assert response.get_json()["status"] == "succeeded"
    again = client.post(f"/api/v1/provider/bookings/{reference}/mark-paid",
                        headers=_headers(shop["a"]["staff"]), json={})
    assert_error_shape(again, 409, "payment.already_paid")
