"""TikTok conversions against a local stand-in for the Business API."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Account
from app.services import bookings, payments
from app.services.scopes import Scope
from tests.fakes.tiktok import FakeTikTok
from tests.payments.conftest import stripe_on, stripe_server

# The local Stripe server's fixtures, for the tests that pay through the storefront.
__all__ = ["stripe_on", "stripe_server"]

PIXEL = "C0PIXEL123"
TOKEN = "test-access-token"
ATTRIBUTION = {
    "utm_source": "tiktok", "utm_medium": "paid", "utm_campaign": "spring",
    "ttclid": "E.C.P.click-id", "ttp": "ttp-cookie-value",
    "landing_url": "https://shop.example/shop/offerings/1?utm_source=tiktok",
    "referrer": "https://www.tiktok.com/", "ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (test)",
}


@pytest.fixture
def tiktok(app, monkeypatch):
    with FakeTikTok() as server:
        monkeypatch.setitem(app.config, "TIKTOK_API_BASE", server.base_url)
        monkeypatch.setitem(app.config, "TIKTOK_ACCESS_TOKEN", TOKEN)
        monkeypatch.setitem(app.config, "TIKTOK_PIXEL_CODE", PIXEL)
        yield server


@pytest.fixture
def venue(build):
    provider = build.provider()
    offering = build.offering(provider, name="Sunrise Yoga", price_minor=2550,
                              pay_at_venue=True)
    customer = build.customer()
    account = db.session.get(Account, customer)
    account.email = "  Test@Example.com "  # as a person might have typed it
    account.phone = "+44 7911 123456"
    db.session.commit()
    return {"provider": provider, "offering": offering, "customer": customer,
            "staff": build.staff(provider)}


def book(build, venue, *, consent=True, quantity=2, **extra):
    attribution = dict(ATTRIBUTION, consent=consent, **extra)
    slot = build.future_slot(venue["offering"], days=3 + len(extra) / 10, capacity=10)
    return bookings.place_booking(customer_id=venue["customer"], offering_id=venue["offering"],
                                  slot_id=slot, quantity=quantity,
                                  attribution=attribution).reference


def pay(reference, venue):
    """A payment taken at the venue: publishes payment.succeeded like an online one."""
    return payments.mark_paid(reference, actor_id=venue["staff"],
                              scope=Scope.of_provider(venue["provider"]))


def run_jobs(app):
    """With Redis: the events queue (consumers), then integrations (the sends)."""
    if app.config.get("REDIS_URL"):
        from rq import SimpleWorker

        from app import jobqueue
        from app.redis import redis_client

        SimpleWorker([jobqueue.get_queue("events"), jobqueue.get_queue("integrations")],
                     connection=redis_client()).work(burst=True)
