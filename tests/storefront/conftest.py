"""Storefront fixtures: a shop with a bookable service, and a signed-in customer's browser.

The local Stripe server fixtures live in ``tests/payments/conftest.py``; a conftest only
serves its own directory, so they are imported here (pytest collects fixtures from a
conftest module's namespace) rather than through ``pytest_plugins``, which pytest accepts
in the top-level conftest only.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.builders import PASSWORD
from tests.payments.conftest import stripe_on, stripe_server

__all__ = ["stripe_on", "stripe_server", "Store", "sign_in"]


@dataclass(frozen=True)
class Store:
    provider_id: int
    offering_id: int
    slot_id: int
    customer_id: int
    customer_email: str


@pytest.fixture
def store(build) -> Store:
    provider = build.provider(name="Gamma Yoga")
    offering = build.offering(provider, name="Sunrise yoga", price_minor=4200, currency="EUR")
    slot = build.future_slot(offering, days=3, capacity=5)
    customer = build.customer()
    return Store(provider, offering, slot, customer, build.email_of(customer))


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    response = client.post("/shop/login", data={"email": email, "password": password, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def shopper(app, store):
    """A browser signed in to the storefront as the store's customer."""
    client = app.test_client()
    sign_in(client, store.customer_email)
    return client
