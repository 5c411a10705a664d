"""Payments against a real Stripe-compatible server: localstripe on 127.0.0.1.

``stripe_on`` points the app at the local server for one test (keys, API base, webhook
secret). ``paid_booking``/``pending_booking`` build what the tests need through the
services, so a test starts from states the product itself produces.
"""
from __future__ import annotations

import itertools
import json
import time
from datetime import timedelta

import pytest
import stripe

from app.extensions import db
from app.models.types import utcnow
from app.services import bookings, payments
from tests.fakes.stripe import DECLINED, VISA, local_stripe, stripe_client

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def stripe_server():
    return local_stripe()


@pytest.fixture
def stripe_on(app, stripe_server, monkeypatch):
    for key, value in {"STRIPE_SECRET_KEY": "sk_test_local", "STRIPE_PUBLISHABLE_KEY":
                       "pk_test_local", "STRIPE_API_BASE": stripe_server.url,
                       "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                       "PAYMENT_TEST_CARDS": True}.items():
        monkeypatch.setitem(app.config, key, value)
    app.extensions.pop("bookwell_payment_gateways", None)
    yield stripe_server
    app.extensions.pop("bookwell_payment_gateways", None)


@pytest.fixture
def shop(build):
    """Two providers, each with a paid online service; one customer."""
    shops = {}
    for name in ("a", "b"):
        provider = build.provider()
        offering = build.offering(provider, price_minor=4200, currency="EUR",
                                  free_cancellation_hours=24)
        shops[name] = {"provider": provider, "offering": offering,
                       "staff": build.staff(provider)}
    shops["customer"] = build.customer()
    return shops


_slot_offsets = itertools.count()


def place(build, shop, name="a", *, quantity=1, days=3, customer=None):
    # Each booking its own slot, an hour apart (a slot's start is unique per offering).
    days += next(_slot_offsets) / 24
    slot = build.future_slot(shop[name]["offering"], days=days, capacity=10)
    return bookings.place_booking(customer_id=customer or shop["customer"],
                                  offering_id=shop[name]["offering"], slot_id=slot,
                                  quantity=quantity).reference


def pay(reference, customer_id, card=VISA):
    """Start the payment and confirm it at the gateway with a test card, as a browser
    would with Stripe.js; returns the PaymentIntent id. Settles nothing here."""
    started = payments.start_payment(reference, customer_id=customer_id)
    intent_id = db.session.get(payments.Payment, started.payment_id).provider_reference
    client = stripe_client()
    client.v1.payment_intents.update(intent_id, params={"payment_method": card})
    try:
        client.v1.payment_intents.confirm(intent_id)
    except stripe.CardError:
        assert card == DECLINED
    return intent_id


def signed_event(event_type, obj, *, event_id=None, secret=WEBHOOK_SECRET, timestamp=None):
    """A Stripe event body and its Stripe-Signature header, signed by stripe-python."""
    body = json.dumps({"id": event_id or f"evt_{time.time_ns()}", "object": "event",
                       "type": event_type, "created": int(time.time()),
                       "data": {"object": obj}})
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=timestamp or int(time.time()))
    return body, header


def post_webhook(client, body, header):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return client.post("/api/v1/webhooks/stripe", data=body, headers=headers)


def run_payment_jobs(app):
    """With Redis, work the payments and events queues once; inline runs need nothing."""
    if app.config.get("REDIS_URL"):
        from rq import SimpleWorker

        from app import jobqueue
        from app.redis import redis_client

        SimpleWorker([jobqueue.get_queue("payments"), jobqueue.get_queue("events")],
                     connection=redis_client()).work(burst=True)


def minutes_ago(minutes):
    return utcnow() - timedelta(minutes=minutes)
