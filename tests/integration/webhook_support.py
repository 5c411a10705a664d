"""Shared by the webhook tests: a receiver the app may call (127.0.0.1 allow-listed, short
timeouts), the job queues worked until empty, endpoints and bookings to talk about."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app import events
from app.extensions import db
from app.models import Account
from app.models.webhooks import WebhookDelivery, WebhookEndpoint
from app.services import bookings, webhook_endpoints
from app.services.scopes import Scope
from app.services.transactions import unit_of_work
from tests.fakes.webhook_receiver import WebhookReceiver

START = datetime(2031, 1, 15, 13, 30, tzinfo=timezone.utc)  # 14:30 CET in Berlin


@pytest.fixture
def receiver(app, monkeypatch):
    with WebhookReceiver() as server:
        for key, value in {"WEBHOOK_ALLOWED_HOSTS": ("127.0.0.1",),
                           "WEBHOOK_CONNECT_TIMEOUT": 0.5, "WEBHOOK_READ_TIMEOUT": 0.5,
                           "WEBHOOK_ENDPOINT_CACHE_SECONDS": 0,
                           # every marked commit hands the fan-out over at once, so the
                           # burst worker of ``run_jobs`` finds it
                           "WEBHOOK_FAN_OUT_WAKE_SECONDS": 0}.items():
            monkeypatch.setitem(app.config, key, value)
        yield server


def run_jobs(app) -> None:
    """With Redis, work the queues (events, payments, notifications, both webhook queues)
    until they are empty; inline (no Redis) everything has run already."""
    if app.config.get("REDIS_URL"):
        from rq import SimpleWorker

        from app import jobqueue
        from app.redis import redis_client

        SimpleWorker([jobqueue.get_queue(name) for name in
                      ("events", "payments", "notifications", "webhooks",
                                   "webhooks_slow")],
                     connection=redis_client()).work(burst=True)


def scope_of(provider_id: int | None) -> Scope:
    return Scope.all_providers() if provider_id is None else Scope.of_provider(provider_id)


def add_endpoint(receiver: WebhookReceiver, provider_id: int | None, path: str = "/hooks",
                 topics=("*",), **fields) -> int:
    """An endpoint of the provider (None: the platform's) at the receiver's ``path``; the
    receiver learns its secret."""
    endpoint = webhook_endpoints.create_endpoint(
        scope=scope_of(provider_id),
        url=receiver.url(path), topics=list(topics), **fields)
    receiver.secrets.append(endpoint.secret)
    return endpoint.id


def endpoint_row(endpoint_id: int) -> WebhookEndpoint:
    return db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)


def deliveries_of(endpoint_id: int) -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint_id).order_by(WebhookDelivery.id)
        .execution_options(populate_existing=True)))


def delivery_row(delivery_id: int) -> WebhookDelivery:
    return db.session.get(WebhookDelivery, delivery_id, populate_existing=True)


def studio(build, *, staff=("desk@alpha.example",), name="Alpha Spa") -> int:
    provider_id = build.provider(name=name, timezone="Europe/Berlin")
    for email in staff:
        build.staff(provider_id, email=email)
    return provider_id


def customer(build, email: str = "ada@example.com") -> int:
    account_id = build.customer(email=email)
    account = db.session.get(Account, account_id)
    account.first_name, account.last_name, account.phone = "Ada", "Lovelace", "+4915112345678"
    db.session.commit()
    return account_id


def place_booking(app, build, provider_id: int, *, customer_id: int | None = None,
                  starts_at: datetime = START, price_minor: int = 4200) -> str:
    offering = build.offering(provider_id, price_minor=price_minor, currency="EUR",
                              pay_at_venue=True, name="Deep tissue massage")
    slot = build.slot(offering, starts_at, capacity=5)
    customer_id = customer_id or customer(build, email=f"c{offering}@example.com")
    placed = bookings.place_booking(customer_id=customer_id, offering_id=offering, slot_id=slot)
    run_jobs(app)
    return placed.reference


def publish(topic: str, payload: dict, *, provider_id: int | None) -> str:
    """An outbox event as a service would publish it; its id."""
    with unit_of_work():
        event_id = events.publish(topic, payload, provider_id=provider_id)
    return event_id


def later(moment: datetime, **delta) -> datetime:
    return moment + timedelta(**delta)
