"""Tenant isolation of everything PayPal added: one provider's staff, and one customer,
can never start, capture, refund or see another's PayPal payments and refunds.

Every surface is tried: the customer API (starting a payment with ``method: paypal``, the
way back from PayPal, the payment's state), the staff API (payments, refunds), the console
(payments, refunds, the refund form and action, the booking page, receipts and credit
notes, the webhook inbox) and the storefront's PayPal routes. Each refusal is checked in
its documented shape (the API's JSON error, the console's and the shop's not-found), and
then that nothing changed: the booking, payment, refund, receipt and inbox rows, and the
local PayPal server's ledger (no order made, approved, captured or refunded).

The payments are made the real way, through PayPal's SDK against the local stand-in.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Payment, PaymentEvent, Receipt, Refund
from app.services import bookings, paypal_checkout, refunds
from app.services.payments import start_payment
from app.services.scopes import Scope
from devservices.paypal_webhooks import event_body, new_event
from tests.builders import PASSWORD
from tests.fakes.paypal import WEBHOOK_ID, approve
from tests.helpers import assert_error_shape, bearer, token_for
from tests.payments.conftest import run_payment_jobs
from tests.views.console import signed_in

PRICE = 4200  # 42.00 EUR


@dataclass(frozen=True)
class Held:
    """A booking and, once started, its PayPal payment and order."""

    reference: str
    booking_id: int
    customer_id: int
    payment_id: int | None = None
    order_id: str | None = None
    refund_id: int | None = None


@dataclass(frozen=True)
class Tenant:
    provider_id: int
    staff_id: int
    staff_email: str
    customer_id: int
    customer_email: str
    unpaid: Held  # placed, no payment started
    started: Held  # PayPal order made, not approved
    approved: Held  # approved at PayPal, not captured (the customer never came back)
    paid: Held  # captured, then 5.00 EUR of it refunded


@dataclass(frozen=True)
class World:
    a: Tenant
    b: Tenant


def _tenant(build, name: str, slot_days: float) -> Tenant:
    provider_id = build.provider(name=name)
    staff_id = build.staff(provider_id)
    customer_id = build.customer()
    offering_id = build.offering(provider_id, price_minor=PRICE, currency="EUR")
    slot_id = build.future_slot(offering_id, days=slot_days, capacity=10)

    def placed() -> Held:
        booking = bookings.place_booking(customer_id=customer_id, offering_id=offering_id,
                                         slot_id=slot_id)
        return Held(booking.reference, booking.id, customer_id)

    def paypal_started(held: Held) -> tuple[Held, str]:
        started = start_payment(held.reference, customer_id=customer_id, method="paypal")
        order_id = db.session.get(Payment, started.payment_id).provider_reference
        return Held(held.reference, held.booking_id, customer_id, started.payment_id,
                    order_id), started.approval_url

    started, _ = paypal_started(placed())
    approved, approval_url = paypal_started(placed())
    approve(approval_url)
    paid, approval_url = paypal_started(placed())
    approve(approval_url)
    returned = paypal_checkout.capture_on_return(paid.reference, customer_id=customer_id,
                                                 order_id=paid.order_id)
    assert returned.status == "succeeded"
    refund = refunds.request_refund(paid.payment_id, amount_minor=500, reason="goodwill",
                                    actor_id=None, scope=Scope.all_providers())
    assert refund.status == "succeeded"
    paid = Held(paid.reference, paid.booking_id, customer_id, paid.payment_id, paid.order_id,
                refund.id)
    return Tenant(provider_id, staff_id, build.email_of(staff_id), customer_id,
                  build.email_of(customer_id), placed(), started, approved, paid)


@pytest.fixture
def world(app, app_ctx, build, paypal_on) -> World:
    """Two providers, each with its own customer and PayPal payments in every state (the
    paid one with its receipt and the refund's credit note)."""
    world = World(_tenant(build, "Alpha Spa", 3), _tenant(build, "Beta Barbers", 4))
    run_payment_jobs(app)
    return world


def _documents(held: Held) -> list[int]:
    """The ids of the receipt and credit note of a paid booking."""
    db.session.expire_all()
    return list(db.session.scalars(select(Receipt.id).where(
        Receipt.booking_id == held.booking_id).order_by(Receipt.id)))


def _snapshot(paypal_server) -> dict:
    """Everything a refused request must leave as it was, here and at PayPal."""
    db.session.expire_all()
    state = {
        "bookings": sorted(tuple(row) for row in db.session.execute(
            select(Booking.id, Booking.status, Booking.hold_expires_at))),
        "payments": sorted(tuple(row) for row in db.session.execute(select(
            Payment.id, Payment.status, Payment.gateway, Payment.provider_reference,
            Payment.received_minor, Payment.refunded_minor, Payment.attention,
            Payment.failure_code))),
        "refunds": sorted(tuple(row) for row in db.session.execute(
            select(Refund.id, Refund.payment_id, Refund.status, Refund.amount_minor))),
        "inbox": db.session.scalar(select(func.count()).select_from(PaymentEvent)),
        "receipts": sorted(tuple(row) for row in db.session.execute(
            select(Receipt.id, Receipt.kind, Receipt.payment_id, Receipt.refund_id))),
        "paypal_orders": {order_id: (order.status, order.capture_id)
                          for order_id, order in paypal_server.ledger.orders.items()},
        "paypal_captures": {capture_id: capture.status
                            for capture_id, capture in paypal_server.ledger.captures.items()},
        "paypal_refunds": sorted(paypal_server.ledger.refunds),
    }
    db.session.rollback()
    return state


def _api(user_id: int, **extra) -> dict:
    return {**bearer(token_for(user_id)), **extra}


def _tenant_b_intruders(world: World) -> dict[str, int]:
    return {"staff": world.b.staff_id, "customer": world.b.customer_id}


# --- the customer API ------------------------------------------------------------------------

@pytest.mark.parametrize("intruder", ["staff", "customer"])
def test_nobody_else_can_start_or_capture_a_customers_paypal_payment(app, client, world,
                                                                     paypal_on, intruder):
    """Provider B's staff and B's customer hold valid tokens; A's customer's bookings are
    not theirs in any state: not found, and no order made or captured at PayPal."""
    who = _api(_tenant_b_intruders(world)[intruder])
    a = world.a
    before = _snapshot(paypal_on)

    for held in (a.unpaid, a.started, a.approved):
        assert_error_shape(client.post(f"/api/v1/bookings/{held.reference}/payment",
                                       headers=who, json={"method": "paypal"}), 404)
        assert_error_shape(client.post(f"/api/v1/bookings/{held.reference}/payment",
                                       headers={**who, "Idempotency-Key": f"k-{held.reference}"},
                                       json={"method": "paypal"}), 404)
    for held in (a.approved, a.started, a.paid):
        assert_error_shape(client.post(f"/api/v1/bookings/{held.reference}/payment/"
                                       "paypal-return", headers=who,
                                       json={"order_id": held.order_id}), 404)
        assert_error_shape(client.get(f"/api/v1/bookings/{held.reference}/payment",
                                      headers=who), 404)

    assert _snapshot(paypal_on) == before
    assert paypal_on.ledger.orders[a.approved.order_id].status == "APPROVED"  # not captured


def test_a_forged_order_id_on_ones_own_booking_captures_nothing(app, client, world,
                                                                paypal_on):
    """B's customer comes back on their own booking with A's approved order (and A's
    customer with B's): refused as another order, and neither order is captured."""
    a, b = world.a, world.b
    before = _snapshot(paypal_on)

    for own, foreign in ((b.started, a.approved), (b.started, a.paid),
                         (a.approved, b.approved), (a.started, b.started)):
        response = client.post(f"/api/v1/bookings/{own.reference}/payment/paypal-return",
                               headers=_api(own.customer_id),
                               json={"order_id": foreign.order_id})
        assert_error_shape(response, 409, "payment.order_mismatch")
    # A booking with no payment yet: nothing to come back to.
    assert_error_shape(client.post(f"/api/v1/bookings/{b.unpaid.reference}/payment/"
                                   "paypal-return", headers=_api(b.customer_id),
                                   json={"order_id": a.approved.order_id}), 404)

    assert _snapshot(paypal_on) == before
    for held in (a.approved, b.approved):
        assert paypal_on.ledger.orders[held.order_id].status == "APPROVED"


# --- the staff API ---------------------------------------------------------------------------

def test_another_providers_staff_cannot_see_paypal_payments_or_refunds(app, client, world,
                                                                       paypal_on):
    a, b = world.a, world.b
    staff_b = _api(b.staff_id)
    before = _snapshot(paypal_on)

    listed = client.get("/api/v1/provider/payments?per_page=100", headers=staff_b)
    assert listed.status_code == 200
    listed_ids = {p["id"] for p in listed.get_json()}
    assert listed_ids == {b.started.payment_id, b.approved.payment_id, b.paid.payment_id}
    for held in (a.started, a.approved, a.paid):
        assert_error_shape(client.get(f"/api/v1/provider/payments/{held.payment_id}",
                                      headers=staff_b), 404)
    refunds_listed = client.get("/api/v1/provider/refunds?per_page=100", headers=staff_b)
    assert refunds_listed.status_code == 200
    assert {r["id"] for r in refunds_listed.get_json()} == {b.paid.refund_id}
    own = client.get(f"/api/v1/provider/payments/{b.paid.payment_id}", headers=staff_b)
    assert own.status_code == 200 and a.paid.order_id not in own.get_data(as_text=True)

    assert _snapshot(paypal_on) == before


def test_another_providers_staff_cannot_refund_a_paypal_payment(app, client, world,
                                                                paypal_on):
    a, b = world.a, world.b
    before = _snapshot(paypal_on)

    for n, body in enumerate(({"reason": "all of it"}, {"amount_minor": 100, "reason": "part"})):
        for held in (a.paid, a.approved):
            response = client.post(f"/api/v1/provider/payments/{held.payment_id}/refunds",
                                   headers=_api(b.staff_id), json=body)
            assert_error_shape(response, 404, "payment.not_found")
        keyed = client.post(f"/api/v1/provider/payments/{a.paid.payment_id}/refunds",
                            headers=_api(b.staff_id, **{"Idempotency-Key": f"steal-{n}"}),
                            json=body)
        assert_error_shape(keyed, 404, "payment.not_found")
    # Customers are not staff at all.
    assert_error_shape(client.post(f"/api/v1/provider/payments/{a.paid.payment_id}/refunds",
                                   headers=_api(a.customer_id), json={"reason": "mine"}), 403)

    assert _snapshot(paypal_on) == before


# --- the console -----------------------------------------------------------------------------

def _capture_webhook_into_the_inbox(app, client, paypal_server, held: Held) -> PaymentEvent:
    """PayPal's PAYMENT.CAPTURE.COMPLETED for ``held``, signed by the stand-in, received
    and processed: the inbox row is matched to the payment's provider."""
    ledger = paypal_server.ledger
    capture = ledger.capture_json(ledger.captures[ledger.orders[held.order_id].capture_id])
    event = new_event("PAYMENT.CAPTURE.COMPLETED", "capture", capture, "Payment completed",
                      paypal_server.url)
    body = event_body(event)
    response = client.post("/api/v1/webhooks/paypal", data=body,
                           headers=paypal_server.signer.headers(WEBHOOK_ID, body))
    assert response.status_code == 200, response.get_json()
    run_payment_jobs(app)
    db.session.expire_all()
    row = db.session.scalar(select(PaymentEvent).where(PaymentEvent.event_id == event["id"]))
    assert (row.gateway, row.payment_id) == ("paypal", held.payment_id)
    return row


def test_console_another_providers_staff_cannot_see_or_refund_paypal_payments(
        app, client, world, paypal_on):
    a, b = world.a, world.b
    event = _capture_webhook_into_the_inbox(app, client, paypal_on, a.paid)
    assert event.provider_id == a.provider_id
    staff = signed_in(app, b.staff_email)
    before = _snapshot(paypal_on)

    for query in ("", "?_flt_0_gateway=paypal"):
        page = staff.get(f"/paymentview/list/{query}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert b.paid.reference in text
        assert not any(held.reference in text for held in (a.started, a.approved, a.paid))
    refunds_page = staff.get("/refundview/list/").get_data(as_text=True)
    assert b.paid.reference in refunds_page and a.paid.reference not in refunds_page
    inbox = staff.get("/paymenteventview/list/").get_data(as_text=True)
    assert event.event_id not in inbox

    for held in (a.started, a.approved, a.paid):
        assert staff.get(f"/paymentview/show/{held.payment_id}").status_code == 404
        assert staff.get(f"/paymentview/refund/{held.payment_id}").status_code == 404
        assert staff.post(f"/paymentview/refund/{held.payment_id}",
                          data={"amount": "1.00", "reason": "x"}).status_code == 404
        assert staff.post(f"/paymentview/action/refund_in_full/{held.payment_id}"
                          ).status_code == 404
        assert staff.get(f"/bookingview/show/{held.booking_id}").status_code == 404
        # Through the refund form of one's own booking's page, with A's payment id.
        assert staff.post(f"/bookingview/refund/{b.paid.booking_id}/{held.payment_id}",
                          data={"amount": "1.00"}).status_code == 404
    assert staff.post("/paymentview/action_post", data={
        "action": "refund_in_full", "rowid": [b.paid.payment_id, a.paid.payment_id]}
    ).status_code == 404
    assert staff.get(f"/refundview/show/{a.paid.refund_id}").status_code == 404
    assert staff.get(f"/paymenteventview/show/{event.id}").status_code == 404

    documents = _documents(a.paid)
    assert len(documents) == 2 and len(_documents(b.paid)) == 2  # receipt and credit note
    receipts_page = staff.get("/receiptview/list/").get_data(as_text=True)
    assert b.paid.reference in receipts_page and a.paid.reference not in receipts_page
    for receipt_id in documents:
        assert staff.get(f"/receiptview/show/{receipt_id}").status_code == 404
        assert staff.get(f"/receiptview/download/{receipt_id}").status_code == 404
        assert staff.post(f"/receiptview/action/resend/{receipt_id}").status_code == 404

    assert _snapshot(paypal_on) == before


def test_console_own_staff_see_their_paypal_payment_and_its_refund(app, world, paypal_on):
    """The other side of the refusals above: the same pages answer A's own staff."""
    a = world.a
    staff = signed_in(app, a.staff_email)
    shown = staff.get(f"/paymentview/show/{a.paid.payment_id}")
    assert shown.status_code == 200 and a.paid.order_id in shown.get_data(as_text=True)
    assert staff.get(f"/refundview/show/{a.paid.refund_id}").status_code == 200
    assert staff.get(f"/bookingview/show/{a.paid.booking_id}").status_code == 200
    for receipt_id in _documents(a.paid):
        assert staff.get(f"/receiptview/show/{receipt_id}").status_code == 200


# --- the storefront --------------------------------------------------------------------------

def _shopper(app, email: str):
    browser = app.test_client()
    response = browser.post("/shop/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return browser


def test_storefront_another_customer_cannot_pay_return_or_cancel(app, world, paypal_on):
    a, b = world.a, world.b
    intruder = _shopper(app, b.customer_email)
    before = _snapshot(paypal_on)

    for held in (a.unpaid, a.started, a.approved):
        assert intruder.post(f"/shop/bookings/{held.reference}/pay-paypal").status_code == 404
        # PayPal's JS SDK buttons: createOrder and onApprove
        assert intruder.post(f"/shop/bookings/{held.reference}/paypal-order").status_code == 404
        assert intruder.post(f"/shop/bookings/{held.reference}/paypal-capture",
                             json={"order_id": held.order_id or "X"}).status_code == 404
    for held in (a.approved, a.started, a.paid):
        returned = intruder.get(f"/shop/bookings/{held.reference}/paypal-return"
                                f"?token={held.order_id}&PayerID=X")
        assert returned.status_code == 404
        assert "We could not find this booking." in returned.get_data(as_text=True)
        assert intruder.get(f"/shop/bookings/{held.reference}/paypal-cancel"
                            f"?token={held.order_id}").status_code == 404

    assert _snapshot(paypal_on) == before


def test_storefront_signed_out_visitors_are_sent_to_sign_in(app, world, paypal_on):
    a = world.a
    visitor = app.test_client()
    before = _snapshot(paypal_on)

    started = visitor.post(f"/shop/bookings/{a.unpaid.reference}/pay-paypal")
    returned = visitor.get(f"/shop/bookings/{a.approved.reference}/paypal-return"
                           f"?token={a.approved.order_id}")
    ordered = visitor.post(f"/shop/bookings/{a.unpaid.reference}/paypal-order")
    captured = visitor.post(f"/shop/bookings/{a.approved.reference}/paypal-capture",
                            json={"order_id": a.approved.order_id})
    for response in (started, returned, ordered, captured):
        assert response.status_code == 302
        assert "/shop/login" in response.headers["Location"]

    assert _snapshot(paypal_on) == before


def test_storefront_a_forged_token_on_ones_own_booking_captures_nothing(app, world,
                                                                        paypal_on):
    a, b = world.a, world.b
    shopper = _shopper(app, b.customer_email)
    before = _snapshot(paypal_on)

    for own, foreign in ((b.started, a.approved), (b.approved, a.approved),
                         (b.unpaid, a.approved)):
        response = shopper.get(f"/shop/bookings/{own.reference}/paypal-return"
                               f"?token={foreign.order_id}&PayerID=X")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/shop/bookings/{own.reference}")
        page = shopper.get(response.headers["Location"]).get_data(as_text=True)
        assert "PayPal did not take the payment" in page
        assert "Paid with PayPal." not in page
        # The same through the buttons' onApprove
        captured = shopper.post(f"/shop/bookings/{own.reference}/paypal-capture",
                                json={"order_id": foreign.order_id})
        assert captured.status_code == 200
        page = shopper.get(captured.get_json()["redirect"]).get_data(as_text=True)
        assert "PayPal did not take the payment" in page

    assert _snapshot(paypal_on) == before
    assert paypal_on.ledger.orders[a.approved.order_id].status == "APPROVED"


def test_the_stand_ins_ledger_shows_what_the_fixture_made(world, paypal_on):
    """The snapshots above compare the ledger; here it is seen to record each state, so an
    unchanged ledger means no call changed anything at PayPal."""
    ledger = paypal_on.ledger
    for tenant in (world.a, world.b):
        assert ledger.orders[tenant.started.order_id].status == "PAYER_ACTION_REQUIRED"
        assert ledger.orders[tenant.approved.order_id].status == "APPROVED"
        paid = ledger.orders[tenant.paid.order_id]
        assert paid.status == "COMPLETED"
        capture = ledger.captures[paid.capture_id]
        assert capture.status == "PARTIALLY_REFUNDED" and len(capture.refund_ids) == 1
