"""Twilio's signed callbacks, and the customer's channels in /me."""
from __future__ import annotations

from twilio.request_validator import RequestValidator

from app.extensions import db
from app.models import Account, Notification
from tests.helpers import assert_error_shape, bearer, token_for
from tests.notifications.conftest import AUTH_TOKEN, MOBILE, confirmed_booking, customer

STATUS_PATH = "/api/v1/webhooks/twilio/status"
INBOUND_PATH = "/api/v1/webhooks/twilio/inbound"


def signed_post(app, client, path, form, *, token=AUTH_TOKEN, tamper=None):
    url = app.config["PUBLIC_BASE_URL"] + path
    signature = RequestValidator(token).compute_signature(url, form)
    body = dict(form, **(tamper or {}))
    return client.post(path, data=body, headers={"X-Twilio-Signature": signature})


def sms_row():
    return db.session.scalars(db.select(Notification).where(Notification.channel == "sms")
                              .execution_options(populate_existing=True)).one()


def test_status_callback_updates_delivery(app, build, client, twilio):
    confirmed_booking(app, build, customer(build, mail=False))
    sid = sms_row().provider_message_id
    response = signed_post(app, client, STATUS_PATH,
                           {"MessageSid": sid, "MessageStatus": "delivered"})
    assert response.status_code == 204
    assert sms_row().delivery_status == "delivered" and sms_row().status == "sent"
    response = signed_post(app, client, STATUS_PATH, {"MessageSid": sid, "MessageStatus":
                                                      "undelivered", "ErrorCode": "30003"})
    assert response.status_code == 204
    row = sms_row()
    assert (row.status, row.delivery_status) == ("failed", "undelivered")
    assert "30003" in row.error


def test_status_callback_refuses_bad_signatures(app, build, client, twilio):
    confirmed_booking(app, build, customer(build, mail=False))
    sid = sms_row().provider_message_id
    form = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30003"}
    tampered = signed_post(app, client, STATUS_PATH, dict(form, MessageStatus="delivered"),
                           tamper={"MessageStatus": "failed"})
    assert_error_shape(tampered, 400, "webhook.bad_signature")
    assert_error_shape(signed_post(app, client, STATUS_PATH, form, token="wrong"), 400)
    assert_error_shape(client.post(STATUS_PATH, data=form), 400)
    row = sms_row()
    assert (row.status, row.delivery_status) == ("sent", None)


def test_stop_and_start_replies(app, build, client, twilio):
    customer_id = customer(build, mail=False)
    response = signed_post(app, client, INBOUND_PATH, {"From": MOBILE, "Body": " stop "})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert b"<Response></Response>" in response.data
    assert db.session.get(Account, customer_id).sms_opted_out is True
    confirmed_booking(app, build, customer_id)
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0
    assert twilio.posts == []
    signed_post(app, client, INBOUND_PATH, {"From": MOBILE, "Body": "START"})
    db.session.expire_all()
    assert db.session.get(Account, customer_id).sms_opted_out is False
    assert_error_shape(client.post(INBOUND_PATH, data={"From": MOBILE, "Body": "STOP"}), 400)
    from app.models import AuditLog

    trail = db.session.scalars(db.select(AuditLog).where(
        AuditLog.entity == "account", AuditLog.entity_id == str(customer_id),
        AuditLog.action.like("account.sms_opted_%")).order_by(AuditLog.id)).all()
    assert [(e.action, e.changes["reply"]) for e in trail] == [
        ("account.sms_opted_out", "STOP"), ("account.sms_opted_in", "START")]


def test_me_channels_and_phone_validation(app_ctx, build, client):
    customer_id = build.customer()
    headers = bearer(token_for(customer_id))
    body = client.get("/api/v1/me", headers=headers).get_json()
    assert (body["notify_email"], body["notify_sms"], body["sms_opted_out"]) == (
        True, False, False)
    response = client.patch("/api/v1/me", headers=headers, json={
        "phone": "+49 151 1234 5678", "notify_sms": True, "notify_email": False})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["phone"], body["notify_sms"], body["notify_email"]) == (MOBILE, True, False)
    bad = client.patch("/api/v1/me", headers=headers, json={"phone": "0151 123",
                                                            "notify_sms": False})
    assert "phone" in assert_error_shape(bad, 422)["errors"]
    db.session.expire_all()
    account = db.session.get(Account, customer_id)
    assert (account.phone, account.notify_sms) == (MOBILE, True)  # nothing of it saved
    refused = client.patch("/api/v1/me", headers=headers, json={"sms_opted_out": False})
    assert refused.status_code == 422


def test_sms_cannot_be_chosen_without_a_phone(app_ctx, build, client):
    customer_id = build.customer()
    headers = bearer(token_for(customer_id))
    refused = client.patch("/api/v1/me", headers=headers, json={"notify_sms": True,
                                                                "first_name": "Kept?"})
    assert assert_error_shape(refused, 422, "account.sms_needs_phone")["errors"] == {
        "notify_sms": ["Add a phone number first."]}
    db.session.expire_all()
    account = db.session.get(Account, customer_id)
    assert account.notify_sms is False and account.first_name != "Kept?"
    dropped = client.patch("/api/v1/me", headers=headers,
                           json={"phone": "+49 151 1234 5678", "notify_sms": True})
    assert dropped.status_code == 200
    cleared = client.patch("/api/v1/me", headers=headers, json={"phone": None})
    assert_error_shape(cleared, 422, "account.sms_needs_phone")
