"""Email over real SMTP, SMS through the twilio client, retries, and crash safety."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Booking, Notification
from app.models.types import utcnow
from app.services import notifications
from app.services.scopes import Scope
from tests.notifications.conftest import (
    ACCOUNT_SID,
    FROM_NUMBER,
    MOBILE,
    OTHER_MOBILE,
    confirmed_booking,
    customer,
    run_jobs,
)


def rows(**where):
    query = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return db.session.scalars(query.execution_options(populate_existing=True)).all()


def test_confirmation_by_email_and_sms(app, build, smtp, twilio):
    customer_id = customer(build, email="ada@example.com")
    reference = confirmed_booking(app, build, customer_id)

    (recipients, message), = smtp.messages
    assert recipients == ["ada@example.com"]
    assert message["Subject"].startswith("Booking confirmed: Deep tissue massage on ")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert reference in text and "Hello Ada" in text and "€42.00" in text
    assert f"<strong>{reference}</strong>" in html

    (form,) = twilio.sent_to(MOBILE)
    assert form["From"] == FROM_NUMBER and reference in form["Body"]
    assert form["StatusCallback"].endswith("/api/v1/webhooks/twilio/status")

    email_row, sms_row = rows()
    assert (email_row.channel, email_row.status, email_row.attempts) == ("email", "sent", 1)
    assert email_row.provider_message_id and email_row.sent_at is not None
    assert sms_row.status == "sent" and sms_row.provider_message_id.startswith("SM")
    assert sms_row.dedupe_key.endswith(":sms")


def test_channels_follow_the_customers_choice(app, build, smtp, twilio):
    quiet = customer(build, sms=False, mail=False)
    no_phone = customer(build, phone=None)
    bad_phone = customer(build, phone="12345")
    opted_out = customer(build)
    db.session.get(Account, opted_out).sms_opted_out = True
    db.session.commit()
    for customer_id in (quiet, no_phone, bad_phone, opted_out):
        confirmed_booking(app, build, customer_id)
    assert {(r.customer_id, r.channel) for r in rows()} == {
        (no_phone, "email"), (bad_phone, "email"), (opted_out, "email")}
    assert twilio.posts == []


def test_a_retried_job_never_sends_twice(app, build, smtp):
    customer_id = customer(build, sms=False)
    confirmed_booking(app, build, customer_id)
    (row,) = rows()
    assert row.status == "sent"
    assert notifications.send_notification(row.id) == "sent"  # the job again: nothing
    from app.job_registry import send_notification

    send_notification(row.id)
    run_jobs(app)
    assert len(smtp.messages) == 1
    assert rows()[0].attempts == 1


def test_transient_smtp_failure_is_retried(app, build, smtp):
    customer_id = customer(build, sms=False, email="later@example.com")
    smtp.refuse_rcpt["later@example.com"] = "451 4.3.0 Try again later"
    confirmed_booking(app, build, customer_id)
    (row,) = rows()
    assert (row.status, row.attempts) == ("queued", 1)
    assert "451" in row.error and row.next_attempt_at > utcnow()
    # Not due yet: a premature job does nothing.
    assert notifications.send_notification(row.id) == "not_due"

    smtp.refuse_rcpt.clear()
    later = row.next_attempt_at + timedelta(seconds=1)
    assert notifications.send_notification(row.id, now=later) == "sent"
    (row,) = rows()
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)
    assert len(smtp.to("later@example.com")) == 1


def test_transient_failure_on_the_last_attempt_fails(app, build, smtp):
    customer_id = customer(build, sms=False)
    smtp.data_reply = "421 4.7.0 Too busy"
    confirmed_booking(app, build, customer_id)
    (row,) = rows()
    later = row.next_attempt_at + timedelta(seconds=1)
    assert notifications.send_notification(row.id, now=later, final_attempt=True) == "failed"
    assert rows()[0].status == "failed" and "421" in rows()[0].error


def test_permanent_refusal_fails_without_retry_and_others_still_go(app, build, smtp):
    bad = customer(build, sms=False, email="nobody@example.com")
    good = customer(build, sms=False, email="good@example.com")
    smtp.refuse_rcpt["nobody@example.com"] = "550 5.1.1 No such user"
    confirmed_booking(app, build, bad)
    confirmed_booking(app, build, good)
    failed, sent = rows()
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 1, None)
    assert "550" in failed.error and "No such user" in failed.error
    assert sent.status == "sent" and len(smtp.to("good@example.com")) == 1
    assert notifications.send_notification(failed.id) == "failed"  # no retry


def test_twilio_server_error_is_retried(app, build, twilio):
    customer_id = customer(build, mail=False)
    twilio.answers[MOBILE] = (500, {"code": 20500, "message": "Internal error", "status": 500})
    confirmed_booking(app, build, customer_id)
    (row,) = rows()
    assert row.status == "queued" and "500" in row.error
    del twilio.answers[MOBILE]
    assert notifications.send_notification(
        row.id, now=row.next_attempt_at + timedelta(seconds=1)) == "sent"
    assert len(twilio.sent_to(MOBILE)) == 2  # the refused attempt, then the one that went


def test_twilio_invalid_number_fails_for_good(app, build, twilio):
    bad = customer(build, mail=False, phone=OTHER_MOBILE)
    good = customer(build, mail=False)
    twilio.answers[OTHER_MOBILE] = (400, {"code": 21211, "message": "Invalid 'To' Phone "
                                          "Number", "status": 400})
    confirmed_booking(app, build, bad)
    confirmed_booking(app, build, good)
    failed, sent = rows()
    assert failed.status == "failed" and "21211" in failed.error
    assert sent.status == "sent"
    assert twilio.posts[0][0] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def test_stuck_in_sending_is_failed_not_resent(app, build, smtp):
    customer_id = customer(build, sms=False)
    confirmed_booking(app, build, customer_id)
    (row,) = rows()
    row.status, row.sent_at = "sending", None
    db.session.commit()
    assert notifications.sweep(now=utcnow() + timedelta(minutes=5))["stuck_failed"] == 0
    result = notifications.sweep(now=utcnow() + timedelta(minutes=30))
    assert result["stuck_failed"] == 1
    (row,) = rows()
    assert row.status == "failed" and row.error.startswith("Outcome unknown")
    assert len(smtp.messages) == 1


def test_sweep_sends_what_a_lost_job_left_queued(app, build, smtp):
    customer_id = customer(build, sms=False)
    smtp.refuse_rcpt[db.session.get(Account, customer_id).email] = "451 busy"
    confirmed_booking(app, build, customer_id)
    smtp.refuse_rcpt.clear()
    (row,) = rows()
    row.next_attempt_at = utcnow() - timedelta(hours=1)  # its retry job was lost
    db.session.commit()
    from app.services import sweeps

    result = sweeps.sweep_pending()["messages"]  # the messages kind of the one sweep
    run_jobs(app)
    assert result["requeued"] == 1
    assert rows()[0].status == "sent" and len(smtp.messages) == 1


def test_reminders_are_sent_once(app, build, smtp):
    customer_id = customer(build, sms=False)
    soon = (utcnow() + timedelta(hours=5)).replace(second=0, microsecond=0)
    confirmed_booking(app, build, customer_id, starts_at=soon)
    confirmed_booking(app, build, customer_id)  # in five days: not yet
    assert notifications.queue_reminders() == 1
    run_jobs(app)
    assert notifications.queue_reminders() == 0
    assert notifications.queue_reminders(now=utcnow() + timedelta(minutes=10)) == 0
    run_jobs(app)
    reminders = rows(template_key="booking_reminder")
    assert len(reminders) == 1 and reminders[0].status == "sent"
    assert reminders[0].dedupe_key.startswith("reminder:")
    subjects = [m["Subject"].strip() for _, m in smtp.messages]
    assert subjects.count(reminders[0].subject) == 1


def test_stop_reply_stops_sms(app, build, twilio):
    customer_id = customer(build, mail=False)
    db.session.get(Account, customer_id).sms_opted_out = True
    db.session.commit()
    confirmed_booking(app, build, customer_id)
    assert rows() == [] and twilio.posts == []


def test_outbox_files_without_smtp_or_twilio(app, build, outbox):
    customer_id = customer(build, email="files@example.com")
    reference = confirmed_booking(app, build, customer_id)
    emails = list(outbox.glob("*.eml"))
    texts = list(outbox.glob("*.sms.txt"))
    assert len(emails) == 1 and len(texts) == 1
    import email as email_lib
    from email import policy

    message = email_lib.message_from_bytes(emails[0].read_bytes(), policy=policy.default)
    assert message["To"] == "files@example.com" and reference in message["Subject"] or \
        reference in message.get_body(("plain",)).get_content()
    assert texts[0].read_text().startswith(f"To: {MOBILE}")
    assert {r.status for r in rows()} == {"sent"}


def test_cancellation_message(app, build, smtp):
    from app.services import bookings

    customer_id = customer(build, sms=False)
    reference = confirmed_booking(app, build, customer_id)
    bookings.cancel_booking(reference, actor=bookings.Actor(None, "test"),
                            scope=bookings.Scope.all_providers())
    run_jobs(app)
    cancelled = rows(template_key="booking_cancelled")
    assert len(cancelled) == 1 and cancelled[0].status == "sent"
    assert "cancelled" in smtp.messages[-1][1]["Subject"].lower()


def test_receipt_email_carries_the_pdf(app, build, smtp):
    receipts = pytest.importorskip("app.services.receipts",
                                   reason="the receipts service is not in this checkout")
    pypdf = pytest.importorskip("pypdf")
    from app.services import payments

    customer_id = customer(build, sms=False, email="receipt@example.com")
    reference = confirmed_booking(app, build, customer_id)
    staff = build.staff(db.session.scalar(select(Booking.provider_id).where(
        Booking.reference == reference)))
    payments.mark_paid(reference, actor_id=staff, scope=Scope.all_providers())
    run_jobs(app)
    assert receipts is not None
    (row,) = rows(template_key="receipt")
    assert row.status == "sent", row.error
    message = smtp.to("receipt@example.com")[-1]
    (attachment,) = list(message.iter_attachments())
    number = attachment.get_filename().removesuffix(".pdf")
    assert attachment.get_content_type() == "application/pdf"
    assert number in message["Subject"]
    text = "".join(page.extract_text() for page in
                   pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert number in text and "Ada" in text and "Lovelace" in text
    assert "42.00" in text or "42,00" in text


def test_the_manage_link_in_an_email_follows_the_port_make_run_serves(app, build, outbox,
                                                                       monkeypatch):
    import email as email_lib
    from email import policy

    from app.services import manage_links
    from config import Config

    # PORT=5900 make run: the app's settings as config.py makes them from that environment.
    served = Config({"PORT": "5900", "SECRET_KEY": "s", "JWT_SECRET_KEY": "j"})
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", served.PUBLIC_BASE_URL)
    reference = confirmed_booking(app, build, customer(build, email="port@example.com"))

    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    (sent,) = outbox.glob("*.eml")
    message = email_lib.message_from_bytes(sent.read_bytes(), policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    assert f"http://127.0.0.1:5900{manage_links.manage_path(booking)}" in text
    assert "127.0.0.1:5000" not in text
