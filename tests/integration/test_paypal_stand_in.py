"""The local PayPal stand-in over plain HTTP: what a browser and an outside caller meet.

The gateway's tests (test_paypal_gateway.py) drive it through PayPal's SDK; these check
the parts the SDK does not show: OAuth refusals, the error shape, the approval and cancel
pages, and ``Prefer: return=minimal``.
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


def test_the_approval_page_approves_and_sends_the_buyer_back(paypal, bearer):
    order = an_order(paypal, bearer, return_url="https://shop.example/back?ref=B1",
                     cancel_url="https://shop.example/cancel")
    assert order["status"] == "PAYER_ACTION_REQUIRED"

    page = requests.get(link(order, "payer-action"), allow_redirects=False, timeout=10)

    assert page.status_code == 302
    back = urlsplit(page.headers["Location"])
    assert (back.netloc, back.path) == ("shop.example", "/back")
    query = parse_qs(back.query)
    assert query["ref"] == ["B1"] and query["token"] == [order["id"]]
    assert query["PayerID"][0]
    read = requests.get(link(order, "self"), headers=bearer, timeout=10).json()
    assert read["status"] == "APPROVED"


def test_cancelling_leaves_the_order_unapproved(paypal, bearer):
    order = an_order(paypal, bearer, return_url="https://shop.example/back",
                     cancel_url="https://shop.example/cancel")

    page = requests.get(f"{paypal.url}/checkoutnow/cancel?token={order['id']}",
                        allow_redirects=False, timeout=10)

    assert page.headers["Location"] == f"https://shop.example/cancel?token={order['id']}"
    read = requests.get(link(order, "self"), headers=bearer, timeout=10).json()
    assert read["status"] == "PAYER_ACTION_REQUIRED"


def test_a_minimal_answer_is_id_status_and_links(paypal, bearer):
    body = {"intent": "CAPTURE",
            "purchase_units": [{"amount": {"currency_code": "USD", "value": "5.00"}}]}
    answer = requests.post(f"{paypal.url}/v2/checkout/orders", json=body,
                           headers={**bearer, "Prefer": "return=minimal"}, timeout=10)
    assert set(answer.json()) == {"id", "status", "links"}
    assert link(answer.json(), "approve")  # the older application_context form
