"""The PayPal gateway: PayPal's real SDK against the local stand-in, no mocks.

A buyer's approval is the stand-in's approval page followed as a browser would; webhooks
are the stand-in's own deliveries, caught by a local receiver.
"""
from __future__ import annotations

import json

import pytest

from app.gateways.payments import GatewayError, WebhookInvalid
from app.gateways.paypal import PayPalRefused
from app.models.payments import (
    PROCESSING,
    REFUND_SUCCEEDED,
    REQUIRES_PAYMENT,
    SUCCEEDED,
)
from tests.fakes.paypal import (
    WEBHOOK_ID,
    LocalPayPal,
    WebhookReceiver,
    approve,
    paypal_gateway,
)

RETURN_URL = "https://shop.example/shop/bookings/BK-1/paypal/return"
CANCEL_URL = "https://shop.example/shop/bookings/BK-1/pay"


@pytest.fixture(scope="module")
def paypal():
    with LocalPayPal(webhook_delay=0) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(paypal):
    return paypal_gateway(paypal)


_payment_ids = iter(range(1000, 10**6))


def an_order(gateway, *, amount_minor=4250, currency="EUR", payment_id=None, key=None):
    payment_id = payment_id or next(_payment_ids)
    return gateway.create_intent(
        amount_minor=amount_minor, currency=currency,
        metadata={"payment_id": payment_id, "booking_reference": "BK-1"},
        idempotency_key=key or f"bookwell-payment-{payment_id}",
        return_url=RETURN_URL, cancel_url=CANCEL_URL)


def a_captured_order(gateway, **options):
    order = an_order(gateway, **options)
    approve(order.approval_url)
    return gateway.capture(order.reference, idempotency_key=f"capture-{order.reference}")


# --- orders -------------------------------------------------------------------------------

def test_an_approved_and_captured_order_is_paid_in_full(gateway, paypal):
    order = an_order(gateway, amount_minor=4250, currency="EUR", payment_id=77)
    assert order.status == REQUIRES_PAYMENT and order.approval_url

    back = approve(order.approval_url)
    captured = gateway.capture(order.reference, idempotency_key="capture-77")

    assert back["token"] == order.reference
    assert (captured.status, captured.amount_minor, captured.received_minor,
            captured.currency) == (SUCCEEDED, 4250, 4250, "EUR")
    assert captured.method == "paypal"
    assert captured.metadata == {"payment_id": "77"}
    unit = paypal.ledger.order_json(paypal.ledger.order(order.reference))["purchase_units"][0]
    assert (unit["amount"], unit["custom_id"], unit["invoice_id"]) == (
        {"currency_code": "EUR", "value": "42.50"}, "77", "77")
    assert gateway.retrieve_intent(order.reference) == captured


def test_an_approval_without_a_capture_is_not_paid(gateway):
    order = an_order(gateway)

    approve(order.approval_url)
    state = gateway.retrieve_intent(order.reference)

    assert state.status == PROCESSING  # promised, not taken: only a capture pays
    assert state.received_minor == 0


def test_an_order_not_approved_is_not_captured(gateway):
    order = an_order(gateway)

    state = gateway.capture(order.reference, idempotency_key="too-early")

    assert state.status == REQUIRES_PAYMENT and state.received_minor == 0


def test_a_second_capture_reads_the_first(gateway):
    captured = a_captured_order(gateway)

    again = gateway.capture(captured.reference, idempotency_key="another-key")

    assert again.status == SUCCEEDED and again.received_minor == captured.received_minor


def test_the_same_request_id_creates_one_order(gateway):
    first = an_order(gateway, payment_id=501, key="bookwell-payment-501")
    again = an_order(gateway, payment_id=501, key="bookwell-payment-501")
    other = an_order(gateway, payment_id=502, key="bookwell-payment-502")

    assert again.reference == first.reference
    assert other.reference != first.reference


def test_a_declined_funding_source_waits_for_another_approval(gateway):
    order = an_order(gateway)
    approve(order.approval_url, decline=True)

    declined = gateway.capture(order.reference, idempotency_key=f"d-{order.reference}")

    assert declined.status == REQUIRES_PAYMENT and declined.received_minor == 0
    assert declined.failure_code == "INSTRUMENT_DECLINED" and declined.failure_reason
    approve(declined.approval_url)  # the buyer picks another source
    paid = gateway.capture(order.reference, idempotency_key=f"d2-{order.reference}")
    assert paid.status == SUCCEEDED


@pytest.mark.parametrize("currency, amount_minor, at_paypal", [
    ("JPY", 1500, "1500"), ("TWD", 150000, "1500"), ("USD", 999, "9.99")])
def test_amounts_go_in_paypals_major_units(gateway, paypal, currency, amount_minor,
                                           at_paypal):
    captured = a_captured_order(gateway, amount_minor=amount_minor, currency=currency)

    order = paypal.ledger.order_json(paypal.ledger.order(captured.reference))
    assert order["purchase_units"][0]["amount"]["value"] == at_paypal
    assert (captured.amount_minor, captured.received_minor) == (amount_minor, amount_minor)


def test_an_amount_paypal_cannot_express_is_refused_not_rounded(gateway):
    with pytest.raises(PayPalRefused) as refused:
        an_order(gateway, amount_minor=150050, currency="TWD")  # 1500.50 dollars
    assert refused.value.retryable is False


# --- refunds ------------------------------------------------------------------------------

def test_a_partial_refund_then_no_more_than_is_left(gateway):
    captured = a_captured_order(gateway, amount_minor=4200)

    part = gateway.refund(intent_reference=captured.reference, amount_minor=1000,
                          idempotency_key="refund-1")
    with pytest.raises(PayPalRefused) as refused:
        gateway.refund(intent_reference=captured.reference, amount_minor=3201,
                       idempotency_key="refund-2")
    rest = gateway.refund(intent_reference=captured.reference, amount_minor=3200,
                          idempotency_key="refund-3")

    assert (part.status, part.amount_minor) == (REFUND_SUCCEEDED, 1000)
    assert refused.value.issue == "REFUND_AMOUNT_EXCEEDED"
    assert refused.value.retryable is False
    assert (rest.status, rest.amount_minor) == (REFUND_SUCCEEDED, 3200)
    assert gateway.retrieve_refund(part.reference) == part


def test_a_refund_repeated_with_its_key_is_made_once(gateway, paypal):
    captured = a_captured_order(gateway, amount_minor=4200)

    first = gateway.refund(intent_reference=captured.reference, amount_minor=4200,
                           idempotency_key="refund-once")
    again = gateway.refund(intent_reference=captured.reference, amount_minor=4200,
                           idempotency_key="refund-once")

    assert again.reference == first.reference
    capture_id = paypal.ledger.order(captured.reference).capture_id
    assert paypal.ledger.capture_of(capture_id).refund_ids == [first.reference]


def test_an_order_without_a_capture_has_nothing_to_refund(gateway):
    order = an_order(gateway)

    with pytest.raises(PayPalRefused) as refused:
        gateway.refund(intent_reference=order.reference, amount_minor=100,
                       idempotency_key="nothing-to-refund")
    assert refused.value.retryable is False


# --- webhooks -----------------------------------------------------------------------------

@pytest.fixture
def delivered(paypal):
    """The stand-in's webhook for a capture, as our endpoint would receive it."""
    with WebhookReceiver() as receiver:
        paypal.configure_webhook(receiver.url, WEBHOOK_ID)
        try:
            captured = a_captured_order(paypal_gateway(paypal))
            deliveries = [receiver.next_delivery(), receiver.next_delivery()]
        finally:
            paypal.configure_webhook(None, None)
    by_type = {json.loads(d.body)["event_type"]: d for d in deliveries}
    assert set(by_type) == {"CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED"}
    return captured, by_type["PAYMENT.CAPTURE.COMPLETED"]


def test_a_delivery_of_paypals_is_verified(gateway, delivered):
    captured, delivery = delivered

    event = gateway.verified_event(delivery.headers, delivery.body)

    assert event["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
    related = event["resource"]["supplementary_data"]["related_ids"]
    assert related["order_id"] == captured.reference


def test_a_changed_body_is_refused(gateway, delivered):
    _, delivery = delivered
    event = json.loads(delivery.body)
    event["resource"]["amount"]["value"] = "0.01"

    with pytest.raises(WebhookInvalid) as invalid:
        gateway.verified_event(delivery.headers, json.dumps(event).encode())
    assert invalid.value.reason == "signature"


def test_a_delivery_for_another_webhook_is_refused(paypal, delivered):
    _, delivery = delivered
    other = paypal_gateway(paypal, webhook_id="WH-SOMEONE-ELSE")

    with pytest.raises(WebhookInvalid):
        other.verified_event(delivery.headers, delivery.body)


def test_a_delivery_without_its_signature_headers_is_refused(gateway, delivered):
    _, delivery = delivered
    headers = {k: v for k, v in delivery.headers.items()
               if k.lower() != "paypal-transmission-sig"}

    with pytest.raises(WebhookInvalid):
        gateway.verified_event(headers, delivery.body)


# --- errors -------------------------------------------------------------------------------

def test_an_unknown_order_is_not_worth_retrying(gateway):
    with pytest.raises(PayPalRefused) as refused:
        gateway.retrieve_intent("NO-SUCH-ORDER")
    assert refused.value.retryable is False
    assert refused.value.issue == "INVALID_RESOURCE_ID"


def test_refused_credentials_are_retried_later(paypal):
    """The SDK reports a refused token request like a failed one; we retry both."""
    with pytest.raises(GatewayError) as refused:
        paypal_gateway(paypal, client_secret="wrong").retrieve_intent("ANY")
    assert refused.value.retryable is True


def test_paypal_out_of_reach_is_worth_retrying():
    with LocalPayPal() as server:
        gateway = paypal_gateway(server)
    with pytest.raises(GatewayError) as unreachable:
        gateway.retrieve_intent("ANY")  # the server has stopped
    assert unreachable.value.retryable is True
