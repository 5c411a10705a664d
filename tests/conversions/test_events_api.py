"""CompletePayment through the real HTTP path to a local TikTok stand-in."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, ConversionEvent
from app.services import conversions
from app.services.scopes import Scope
from tests.conversions.conftest import ATTRIBUTION, PIXEL, TOKEN, book, pay, run_jobs
from tests.fakes.tiktok import Reply, error

# SHA-256 of "test@example.com", a published test vector.
TEST_EMAIL_SHA256 = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"


def _rows():
    db.session.expire_all()
    return db.session.scalars(select(ConversionEvent).order_by(ConversionEvent.id)).all()


def test_hashing_follows_tiktoks_normalisation():
    assert conversions.sha256_hex("test@example.com") == TEST_EMAIL_SHA256
    assert conversions.hashed(conversions.normalised_email("  Test@Example.COM ")) == \
        TEST_EMAIL_SHA256
    assert conversions.normalised_phone("+44 7911 123456") == "+447911123456"
    assert conversions.normalised_phone("not a number") is None
    assert conversions.normalised_phone("+44 12") is None


def test_complete_payment_is_sent_once_with_the_exact_body_and_headers(
        app, app_ctx, build, venue, tiktok):
    reference = book(build, venue, quantity=2)
    pay(reference, venue)
    run_jobs(app)

    assert len(tiktok.requests) == 1
    sent = tiktok.requests[0]
    assert sent.method == "POST" and sent.path == "/open_api/v1.3/event/track/"
    assert sent.headers["Access-Token"] == TOKEN
    assert sent.headers["Content-Type"] == "application/json"
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    body = sent.json
    event_time = body["data"][0].pop("event_time")
    assert isinstance(event_time, int) and abs(event_time - booking.updated_at.timestamp()) < 2
    assert body == {
        "event_source": "web",
        "event_source_id": PIXEL,
        "data": [{
            "event": "CompletePayment",
            "event_id": f"{reference}-CompletePayment",
            "user": {
                "email": TEST_EMAIL_SHA256,
                "phone": hashlib.sha256(b"+447911123456").hexdigest(),
                "external_id": hashlib.sha256(
                    f"bookwell-customer-{venue['customer']}".encode()).hexdigest(),
                "ttclid": ATTRIBUTION["ttclid"], "ttp": ATTRIBUTION["ttp"],
                "ip": ATTRIBUTION["ip"], "user_agent": ATTRIBUTION["user_agent"],
            },
            "properties": {
                "currency": "EUR", "value": 51.0, "content_type": "product",
                "contents": [{"content_id": f"offering-{venue['offering']}",
                              "content_name": "Sunrise Yoga", "quantity": 2,
                              "price": 25.5}],
                "order_id": reference,
            },
            "page": {"url": ATTRIBUTION["landing_url"], "referrer": ATTRIBUTION["referrer"]},
        }],
    }
    assert hashlib.sha256(b"447911123456").hexdigest() != body["data"][0]["user"]["phone"]
    [row] = _rows()
    assert (row.status, row.attempts, row.http_status, row.response_code) == ("sent", 1, 200, 0)
    assert row.payload["data"][0]["user"]["email"] == TEST_EMAIL_SHA256
    assert "test@example.com" not in str(row.payload).lower()
    assert row.event_id == conversions.event_id_for(reference, "CompletePayment")


def test_without_consent_nothing_is_recorded_or_sent(app, app_ctx, build, venue, tiktok):
    pay(book(build, venue, consent=False), venue)
    run_jobs(app)
    assert tiktok.requests == [] and _rows() == []


def test_without_an_access_token_nothing_is_sent(app, app_ctx, build, venue, tiktok,
                                                 monkeypatch):
    monkeypatch.setitem(app.config, "TIKTOK_ACCESS_TOKEN", None)
    pay(book(build, venue), venue)
    run_jobs(app)
    assert tiktok.requests == [] and _rows() == []


def test_a_providers_pixel_code_overrides_the_platforms(app, app_ctx, build, venue, tiktok):
    from app.models import Provider

    db.session.get(Provider, venue["provider"]).tiktok_pixel_code = "C0OWNPIXEL"
    db.session.commit()
    pay(book(build, venue), venue)
    run_jobs(app)
    assert tiktok.requests[0].json["event_source_id"] == "C0OWNPIXEL"


@pytest.mark.parametrize("first", [Reply(500, {"message": "upstream"}),
                                   Reply(429, {"message": "slow down"}),
                                   error(40100, "Requests are too frequent"),
                                   error(50002, "internal error")])
def test_transient_failures_are_retried_then_sent_once(app, app_ctx, build, venue, tiktok,
                                                       first, monkeypatch):
    monkeypatch.setattr(conversions, "_hand_over", lambda row_id: None)  # the test drives
    pay(book(build, venue), venue)
    run_jobs(app)
    [row] = _rows()
    tiktok.script(first)

    with pytest.raises(conversions.SendLater):
        conversions.send(row.id, final_attempt=False)
    [row] = _rows()
    assert row.status == "queued" and row.next_attempt_at is not None and row.attempts == 1
    assert conversions.send(row.id, final_attempt=False) == "sent"
    assert conversions.send(row.id, final_attempt=False) == "sent"  # nothing left to do

    assert len(tiktok.requests) == 2
    assert tiktok.requests[0].raw == tiktok.requests[1].raw  # the same event, same id
    [row] = _rows()
    assert (row.status, row.attempts, row.response_code) == ("sent", 2, 0)


def test_a_permanent_error_is_not_retried_and_keeps_tiktoks_message(app, app_ctx, build,
                                                                    venue, tiktok, monkeypatch):
    monkeypatch.setattr(conversions, "_hand_over", lambda row_id: None)
    pay(book(build, venue), venue)
    run_jobs(app)
    [row] = _rows()
    tiktok.script(error(40002, "Invalid pixel_code"))

    assert conversions.send(row.id, final_attempt=False) == "failed"
    [row] = _rows()
    assert (row.response_code, row.response_message) == (40002, "Invalid pixel_code")
    assert len(tiktok.requests) == 1

    conversions.resend(row.id,
                       scope=Scope.all_providers())  # an admin fixed the pixel and sends it again
    assert conversions.send(row.id) == "sent"
    with pytest.raises(Exception) as sent_already:
        conversions.resend(row.id, scope=Scope.all_providers())
    assert sent_already.value.code == "conversion.not_failed"


def test_a_network_error_is_retried(app, app_ctx, build, venue, tiktok, monkeypatch):
    monkeypatch.setattr(conversions, "_hand_over", lambda row_id: None)
    pay(book(build, venue), venue)
    run_jobs(app)
    [row] = _rows()
    monkeypatch.setitem(app.config, "TIKTOK_API_BASE", "http://127.0.0.1:9")  # nobody there
    with pytest.raises(conversions.SendLater):
        conversions.send(row.id, final_attempt=False)
    assert _rows()[0].response_message.startswith("network error")
    assert conversions.send(row.id, final_attempt=True) == "failed"  # out of attempts


def test_a_duplicate_payment_succeeded_sends_once(app, app_ctx, build, venue, tiktok):
    from app.models import OutboxEvent
    from app.services import conversions as consumer

    reference = book(build, venue)
    pay(reference, venue)
    run_jobs(app)
    event = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "payment.succeeded"))

    # The same event delivered again, and the same payment announced by another event.
    from app import events
    events.deliver(event.id)
    consumer.record_complete_payment(event_id="another-event", topic="payment.succeeded",
                                     payload=dict(event.payload))
    run_jobs(app)

    assert len(tiktok.requests) == 1 and len(_rows()) == 1


def test_place_an_order_is_subscribed_only_when_switched_on(app):
    from app.services import event_handlers

    staff = event_handlers.HANDLERS["booking.created"]  # staff notifications, always
    assert conversions.record_place_an_order not in event_handlers.table({})["booking.created"]
    assert event_handlers.table({"TIKTOK_SEND_PLACE_AN_ORDER": True})[
        "booking.created"] == (*staff, conversions.record_place_an_order)


def test_place_an_order_on_booking_created_when_switched_on(app, app_ctx, build, venue,
                                                            tiktok, monkeypatch):
    from app import events

    monkeypatch.setitem(app.config, "TIKTOK_SEND_PLACE_AN_ORDER", True)
    handler = conversions.record_place_an_order
    events.subscribe("booking.created", handler)  # what start-up does with the setting on
    try:
        reference = book(build, venue)
        run_jobs(app)
    finally:
        events.unsubscribe("booking.created", handler)
    [row] = _rows()
    assert row.event_name == "PlaceAnOrder" and row.event_id == f"{reference}-PlaceAnOrder"
    assert tiktok.requests[0].json["data"][0]["event"] == "PlaceAnOrder"


def test_a_send_interrupted_mid_flight_is_failed_for_an_admin_not_sent_again(
        app, app_ctx, build, venue, tiktok, monkeypatch):
    from datetime import timedelta

    from app.models.types import utcnow

    monkeypatch.setattr(conversions, "_hand_over", lambda row_id: None)
    pay(book(build, venue), venue)
    run_jobs(app)
    [row] = _rows()
    row.status, row.updated_at = "sending", utcnow() - timedelta(minutes=20)
    db.session.commit()

    from app.services import sweeps

    assert sweeps.sweep_pending()["conversions"] == 0  # nothing to send again

    [row] = _rows()
    assert row.status == "failed" and "outcome unknown" in row.response_message
    assert tiktok.requests == []
