"""Every public topic reaches a subscribed endpoint, signed (Standard Webhooks), with the
payload its documented schema describes; internal topics never leave the platform."""
from __future__ import annotations

import json

from sqlalchemy import select

from api.webhooks.payloads import schema_for
from app.extensions import db
from app.models import Booking, Payment, Receipt, Refund, WaitlistEntry
from app.services import event_payloads
from app.services.webhook_topics import EVENT_TOPICS, TEST_TOPIC
from tests.integration.webhook_support import (
    add_endpoint,
    customer,
    deliveries_of,
    place_booking,
    publish,
    run_jobs,
    studio,
)
from app.services import webhook_endpoints


def _rows(build, provider_id: int, reference: str) -> dict:
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    payment = Payment(provider_id=provider_id, booking_id=booking.id, gateway="stripe",
                      amount_minor=4200, currency="EUR", status="succeeded",
                      received_minor=4200, refunded_minor=1000)
    db.session.add(payment)
    db.session.flush()
    refund = Refund(provider_id=provider_id, payment_id=payment.id, amount_minor=1000,
                    currency="EUR", status="succeeded", reason="Came late")
    receipt = Receipt(provider_id=provider_id, kind="receipt", number=42,
                      display_number="R-000042", booking_id=booking.id,
                      customer_id=booking.customer_id, payment_id=payment.id,
                      total_minor=4200, tax_minor=671, currency="EUR")
    other_customer = customer(build, email="grace@example.com")
    entry = WaitlistEntry(provider_id=provider_id, offering_id=booking.offering_id,
                          slot_id=booking.slot_id, customer_id=other_customer, quantity=2,
                          status="waiting")
    db.session.add_all([refund, receipt, entry])
    db.session.commit()
    return dict(booking=booking, payment=payment, refund=refund, receipt=receipt, entry=entry)


def _payloads(rows: dict) -> dict[str, dict]:
    booking, payment = rows["booking"], rows["payment"]
    entry = rows["entry"]
    found = {topic: event_payloads.booking(booking, status=topic.split(".")[1])
             for topic in EVENT_TOPICS if topic.startswith("booking.")}
    found["booking.rescheduled"] = event_payloads.booking(booking,
                                                          previous_slot_id=booking.slot_id)
    for topic in ("payment.succeeded", "payment.declined", "payment.failed"):
        found[topic] = event_payloads.payment(payment, booking)
    found["payment.refunded"] = event_payloads.payment(
        payment, booking, refund_id=rows["refund"].id, refund_amount_minor=1000,
        fully_refunded=False, reason="Came late")
    found["payment.refund_failed"] = event_payloads.refund_failed(
        rows["refund"], payment.id, "The card was closed.")
    found["payment.disputed"] = event_payloads.dispute(
        payment.id, {"id": "dp_1", "amount": 4200, "reason": "fraudulent"})
    found["receipt.generated"] = event_payloads.receipt_generated(rows["receipt"],
                                                                  booking.reference)
    waitlist = {"waitlist_entry_id": entry.id, "provider_id": entry.provider_id,
                "status": "waiting"}
    found["waitlist.joined"] = waitlist
    found["waitlist.offered"] = {**waitlist, "status": "offered",
                                 "booking_reference": booking.reference}
    found["waitlist.expired"] = {**waitlist, "status": "expired",
                                 "booking_reference": booking.reference}
    return found


def test_every_public_topic_arrives_signed_with_its_documented_payload(app, build, receiver):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/all", topics=["*"])
    reference = place_booking(app, build, alpha)
    rows = _rows(build, alpha, reference)
    payloads = _payloads(rows)
    assert set(payloads) == set(EVENT_TOPICS)
    for topic in EVENT_TOPICS:
        publish(topic, payloads[topic], provider_id=alpha)
    run_jobs(app)

    got = receiver.at("/all")
    by_topic = {}
    for item in got:
        assert item.verified, item.headers  # the endpoint's secret checks out
        by_topic.setdefault(item.json["type"], []).append(item)
    # booking.created came twice: from placing the booking, and published here.
    assert sorted(by_topic) == sorted(EVENT_TOPICS)
    for topic, items in by_topic.items():
        for item in items:
            body = item.json
            errors = schema_for(topic)().validate(body)
            assert errors == {}, (topic, errors, body)
            assert item.headers["webhook-id"].startswith("msg_")
            assert item.headers["webhook-signature"].startswith("v1,")
    booking_body = by_topic["booking.confirmed"][0].json["data"]
    assert booking_body["reference"] == reference
    assert booking_body["starts_at"] == "2031-01-15T13:30:00Z"
    assert booking_body["time_zone"] == "Europe/Berlin"
    assert booking_body["total"] == {"amount_minor": 4200, "currency": "EUR", "amount": "42.00"}
    assert booking_body["customer"]["name"] == "Ada Lovelace"
    assert booking_body["offering"]["name"] == "Deep tissue massage"
    assert "customer_id" not in json.dumps(booking_body)
    moved = by_topic["booking.rescheduled"][0].json["data"]
    assert moved["previous_starts_at"] == "2031-01-15T13:30:00Z"
    refunded = by_topic["payment.refunded"][0].json["data"]
    assert refunded["refund"]["amount"]["amount"] == "10.00"
    assert refunded["booking_reference"] == reference
    failed = by_topic["payment.refund_failed"][0].json["data"]
    assert failed["refund"]["error"] == "The card was closed."
    assert by_topic["payment.disputed"][0].json["data"]["dispute"]["reason"] == "fraudulent"
    # (the refund's own handlers may issue a credit note too: its receipt.generated as well)
    assert "R-000042" in {item.json["data"]["number"] for item in by_topic["receipt.generated"]}
    # (the cancellation's own handlers may offer the places to the line: more offers)
    offered = next(item.json["data"] for item in by_topic["waitlist.offered"]
                   if item.json["data"]["customer"]["email"] == "grace@example.com")
    assert offered["quantity"] == 2
    assert offered["starts_at"] == "2031-01-15T13:30:00Z"
    # One delivery per event, every one succeeded.
    assert {d.status for d in deliveries_of(endpoint_id)} == {"succeeded"}


def test_an_endpoint_gets_only_its_topics_and_never_internal_ones(app, build, receiver):
    alpha = studio(build)
    add_endpoint(receiver, alpha, "/payments", topics=["payment.succeeded"])
    reference = place_booking(app, build, alpha)  # booking.created: not subscribed
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    publish("slot.capacity_raised", {"slot_id": booking.slot_id, "provider_id": alpha},
            provider_id=alpha)
    publish("offering.changed", {"offering_ids": [booking.offering_id]}, provider_id=alpha)
    rows = _rows(build, alpha, reference)
    publish("payment.succeeded", event_payloads.payment(rows["payment"], booking),
            provider_id=alpha)
    run_jobs(app)
    assert [item.json["type"] for item in receiver.at("/payments")] == ["payment.succeeded"]


def test_a_test_event_is_documented_and_signed(app, build, receiver):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/t", topics=["booking.confirmed"])
    delivery = webhook_endpoints.send_test_event(endpoint_id,
                                                 scope=webhook_endpoints.Scope.of_provider(alpha))
    run_jobs(app)
    (item,) = receiver.at("/t")
    assert item.verified and item.json["type"] == TEST_TOPIC
    assert schema_for(TEST_TOPIC)().validate(item.json) == {}
    assert item.headers["webhook-id"] == delivery.message_id
    assert [d.status for d in deliveries_of(endpoint_id)] == ["succeeded"]


def test_an_event_about_something_gone_sends_nothing(app, build, receiver):
    alpha = studio(build)
    endpoint_id = add_endpoint(receiver, alpha, "/gone")
    publish("booking.cancelled", {"booking_reference": "NOSUCH", "provider_id": alpha},
            provider_id=alpha)
    run_jobs(app)
    assert receiver.at("/gone") == [] and deliveries_of(endpoint_id) == []
