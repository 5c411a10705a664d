"""The local PayPal stand-in over plain HTTP: what a browser and an outside caller meet.

The gateway's tests (test_paypal_gateway.py) drive it through PayPal's SDK; these check
the parts the SDK does not show: OAuth refusals, the error shape, the approval and cancel
pages, ``Prefer: return=minimal``, and what happens at PayPal without the API (held
refunds, reversals, disputes).
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devservices.paypal_server import CLIENT_ID, CLIENT_SECRET, LocalPayPal


@pytest.fixture(scope="module")
def paypal():
    with LocalPayPal() as server:
        yield server


@pytest.fixture(scope="module")
def bearer(paypal):
    answer = requests.post(f"{paypal.url}/v1/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET),
                           data={"grant_type": "client_credentials"}, timeout=10)
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def an_order(paypal, bearer, **context) -> dict:
    body = {"intent": "CAPTURE",
            "purchase_units": [{"amount": {"currency_code": "EUR", "value": "42.00"}}],
            "payment_source": {"paypal": {"experience_context": context}}}
    answer = requests.post(f"{paypal.url}/v2/checkout/orders", json=body, headers=bearer,
                           timeout=10)
    assert answer.status_code == 201
    return answer.json()


def link(order: dict, rel: str) -> str:
    return next(item["href"] for item in order["links"] if item["rel"] == rel)


def test_a_wrong_client_secret_gets_no_token(paypal):
    answer = requests.post(f"{paypal.url}/v1/oauth2/token", auth=(CLIENT_ID, "wrong"),
                           data={"grant_type": "client_credentials"}, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_the_api_needs_a_token_it_issued(paypal):
    answer = requests.get(f"{paypal.url}/v2/checkout/orders/ANY",
                          headers={"Authorization": "Bearer made-up"}, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["name"] == "AUTHENTICATION_FAILURE"
    assert answer.json()["debug_id"]


def test_errors_name_the_issue_and_the_field(paypal, bearer):
    body = {"intent": "CAPTURE",
            "purchase_units": [{"amount": {"currency_code": "JPY", "value": "100.50"}}]}
    answer = requests.post(f"{paypal.url}/v2/checkout/orders", json=body, headers=bearer,
                           timeout=10)
    assert answer.status_code == 400
    error = answer.json()
    assert error["name"] == "INVALID_REQUEST"
    assert error["details"][0]["issue"] == "DECIMAL_PRECISION"
    assert error["details"][0]["field"].endswith("/amount/value")

    missing = requests.get(f"{paypal.url}/v2/checkout/orders/NOPE", headers=bearer, timeout=10)
    assert missing.status_code == 404
    assert missing.json()["details"][0]["issue"] == "INVALID_RESOURCE_ID"


def test_opening_the_approval_page_approves_nothing(paypal, bearer):
    order = an_order(paypal, bearer, return_url="https://shop.example/back",
                     cancel_url="https://shop.example/cancel")

    page = requests.get(link(order, "payer-action"), allow_redirects=False, timeout=10)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "42.00 EUR" in page.text and "sandbox buyer" in page.text
    assert 'value="approve"' in page.text and 'value="cancel"' in page.text
    assert "<script" not in page.text  # a plain form, nothing loaded from elsewhere
    assert '="http' not in page.text and "url(" not in page.text
    read = requests.get(link(order, "self"), headers=bearer, timeout=10).json()
    assert read["status"] == "PAYER_ACTION_REQUIRED"


def test_approving_on_the_page_sends_the_buyer_back_with_token_and_payer_id(paypal, bearer):
    order = an_order(paypal, bearer, return_url="https://shop.example/back?ref=B1",
                     cancel_url="https://shop.example/cancel")

    answer = requests.post(f"{paypal.url}/checkoutnow", allow_redirects=False, timeout=10,
                           data={"token": order["id"], "action": "approve"})

    assert answer.status_code == 303
    back = urlsplit(answer.headers["Location"])
    assert (back.netloc, back.path) == ("shop.example", "/back")
    query = parse_qs(back.query)
    assert query["ref"] == ["B1"] and query["token"] == [order["id"]]
    assert query["PayerID"][0]
    read = requests.get(link(order, "self"), headers=bearer, timeout=10).json()
    assert read["status"] == "APPROVED"


def test_cancelling_leaves_the_order_unapproved(paypal, bearer):
    order = an_order(paypal, bearer, return_url="https://shop.example/back",
                     cancel_url="https://shop.example/cancel")

    from_form = requests.post(f"{paypal.url}/checkoutnow", allow_redirects=False, timeout=10,
                              data={"token": order["id"], "action": "cancel"})
    page = requests.get(f"{paypal.url}/checkoutnow/cancel?token={order['id']}",
                        allow_redirects=False, timeout=10)

    expected = f"https://shop.example/cancel?token={order['id']}"
    assert from_form.headers["Location"] == page.headers["Location"] == expected
    read = requests.get(link(order, "self"), headers=bearer, timeout=10).json()
    assert read["status"] == "PAYER_ACTION_REQUIRED"


def test_an_unknown_order_or_action_is_refused_and_changes_nothing(paypal, bearer):
    order = an_order(paypal, bearer, return_url="https://shop.example/back")
    assert requests.get(f"{paypal.url}/checkoutnow?token=NOPE", timeout=10).status_code == 404
    assert requests.post(f"{paypal.url}/checkoutnow", data={"token": "NOPE",
                         "action": "approve"}, timeout=10).status_code == 404
    odd = requests.post(f"{paypal.url}/checkoutnow", data={"token": order["id"],
                        "action": "pay-twice"}, allow_redirects=False, timeout=10)
    assert odd.status_code == 400
    read = requests.get(link(order, "self"), headers=bearer, timeout=10).json()
    assert read["status"] == "PAYER_ACTION_REQUIRED"


def test_opened_by_the_sdk_double_the_page_answers_its_opener(paypal, bearer):
    order = an_order(paypal, bearer, return_url="https://shop.example/back")

    page = requests.get(f"{paypal.url}/checkoutnow?token={order['id']}"
                        "&opener_origin=https://shop.example", timeout=10)
    answer = requests.post(f"{paypal.url}/checkoutnow", timeout=10, allow_redirects=False,
                           data={"token": order["id"], "action": "approve",
                                 "opener_origin": "https://shop.example"})

    assert 'name="opener_origin" value="https://shop.example"' in page.text
    assert answer.status_code == 200
    assert 'postMessage(message, "https://shop.example")' in answer.text
    assert f'"orderID": "{order["id"]}"' in answer.text and '"approved": true' in answer.text


def test_the_sdk_double_is_served_only_to_a_known_client_id(paypal):
    served = requests.get(f"{paypal.url}/sdk/js?client-id={CLIENT_ID}&currency=EUR",
                          timeout=10)
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("application/javascript")
    assert "window.paypal = {Buttons: Buttons" in served.text
    assert requests.get(f"{paypal.url}/sdk/js?client-id=someone-else",
                        timeout=10).status_code == 400


def test_a_minimal_answer_is_id_status_and_links(paypal, bearer):
    body = {"intent": "CAPTURE",
            "purchase_units": [{"amount": {"currency_code": "USD", "value": "5.00"}}]}
    answer = requests.post(f"{paypal.url}/v2/checkout/orders", json=body,
                           headers={**bearer, "Prefer": "return=minimal"}, timeout=10)
    assert set(answer.json()) == {"id", "status", "links"}
    assert link(answer.json(), "approve")  # the older application_context form


def a_capture(paypal, bearer) -> str:
    order = an_order(paypal, bearer)
    paypal.approve(order["id"])
    answer = requests.post(f"{paypal.url}/v2/checkout/orders/{order['id']}/capture",
                           headers=bearer, timeout=10)
    assert answer.status_code == 201
    return answer.json()["purchase_units"][0]["payments"]["captures"][0]["id"]


def test_a_held_refund_is_pending_until_paypal_completes_it(paypal, bearer):
    capture_id = a_capture(paypal, bearer)
    paypal.hold_next_refund()
    answer = requests.post(f"{paypal.url}/v2/payments/captures/{capture_id}/refund",
                           json={"amount": {"currency_code": "EUR", "value": "40.00"}},
                           headers=bearer, timeout=10)
    refund = answer.json()
    assert (refund["status"], refund["status_details"]) == ("PENDING", {"reason": "ECHECK"})
    over = requests.post(f"{paypal.url}/v2/payments/captures/{capture_id}/refund",
                         json={"amount": {"currency_code": "EUR", "value": "2.01"}},
                         headers=bearer, timeout=10)
    assert over.json()["details"][0]["issue"] == "REFUND_AMOUNT_EXCEEDED"  # pending counts

    paypal.complete_refund(refund["id"])

    shown = requests.get(f"{paypal.url}/v2/payments/refunds/{refund['id']}", headers=bearer,
                         timeout=10).json()
    assert shown["status"] == "COMPLETED" and "status_details" not in shown
    capture = requests.get(f"{paypal.url}/v2/payments/captures/{capture_id}", headers=bearer,
                           timeout=10).json()
    assert capture["status"] == "PARTIALLY_REFUNDED"


def test_a_reversal_shows_as_a_negative_refund_and_a_dispute_can_be_read(paypal, bearer):
    capture_id = a_capture(paypal, bearer)
    reversal = paypal.reverse(capture_id, "12.00")
    shown = requests.get(f"{paypal.url}/v2/payments/refunds/{reversal['id']}",
                         headers=bearer, timeout=10).json()
    assert shown["amount"] == {"currency_code": "EUR", "value": "-12.00"}
    assert link(shown, "up").endswith(f"/v2/payments/captures/{capture_id}")

    opened = paypal.open_dispute(capture_id)
    dispute = requests.get(f"{paypal.url}/v1/customer/disputes/{opened['dispute_id']}",
                           headers=bearer, timeout=10).json()
    assert dispute["disputed_transactions"][0]["seller_transaction_id"] == capture_id
    assert (dispute["status"], dispute["dispute_life_cycle_stage"]) == ("OPEN", "INQUIRY")
    missing = requests.get(f"{paypal.url}/v1/customer/disputes/PP-D-0", headers=bearer,
                           timeout=10)
    assert missing.status_code == 404 and missing.json()["name"] == "RESOURCE_NOT_FOUND"
