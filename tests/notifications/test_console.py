"""Console: template overrides and the delivery log, tenant by tenant."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Notification, NotificationTemplate
from tests.notifications.conftest import confirmed_booking, customer
from tests.views.conftest import _tenant
from tests.views.console import page_text, signed_in

TEMPLATES = "/notificationtemplateview"
LOG = "/notificationview"


def override(provider_id, body="Hello {{ customer_name }} from {{ provider_name }}"):
    row = NotificationTemplate(provider_id=provider_id, key="booking_confirmed",
                               channel="sms", locale="en", body_text=body)
    db.session.add(row)
    db.session.commit()
    return row.id


def test_staff_see_and_edit_only_their_overrides(app, build):
    alpha, beta = _tenant(build, "Alpha Spa"), _tenant(build, "Beta Barbers")
    mine = override(alpha.provider_id, "ALPHA-TEXT {{ booking_reference }}")
    theirs = override(beta.provider_id, "BETA-TEXT {{ booking_reference }}")
    client = signed_in(app, alpha.staff_email)
    listing = page_text(client.get(f"{TEMPLATES}/list/"))
    assert "booking_confirmed" in listing
    assert client.get(f"{TEMPLATES}/show/{mine}").status_code == 200
    assert "ALPHA-TEXT" in page_text(client.get(f"{TEMPLATES}/show/{mine}"))
    for path in (f"/show/{theirs}", f"/edit/{theirs}", f"/preview/{theirs}"):
        response = client.get(TEMPLATES + path)
        assert response.status_code in (302, 404) or "BETA-TEXT" not in page_text(response)
    client.post(f"{TEMPLATES}/delete/{theirs}")
    assert db.session.get(NotificationTemplate, theirs) is not None


def test_new_override_starts_from_the_default_and_is_pinned(app, build):
    alpha, beta = _tenant(build, "Alpha Spa"), _tenant(build, "Beta Barbers")
    client = signed_in(app, alpha.staff_email)
    form = {"key": "receipt", "channel": "email", "locale": "en", "subject": "",
            "body_text": "", "body_html": ""}
    client.post(f"{TEMPLATES}/add", data=dict(form, provider=beta.provider_id))
    assert db.session.scalar(select(NotificationTemplate).where(
        NotificationTemplate.provider_id == beta.provider_id)) is None
    client.post(f"{TEMPLATES}/add", data=form)
    row = db.session.scalar(select(NotificationTemplate).where(
        NotificationTemplate.key == "receipt"))
    assert row is not None and row.provider_id == alpha.provider_id
    assert "receipt_number" in row.body_text and row.subject


def test_broken_template_is_refused_on_save_with_the_reason(app, build):
    alpha = _tenant(build, "Alpha Spa")
    mine = override(alpha.provider_id)
    client = signed_in(app, alpha.staff_email)
    response = client.post(f"{TEMPLATES}/edit/{mine}", data={
        "body_text": "{{ ''.__class__.__mro__ }}"}, follow_redirects=True)
    assert response.status_code == 200
    # A form error next to the field, the typed text kept for correcting it.
    page = page_text(response)
    assert "Does not render" in page and "__mro__" in page
    db.session.expire_all()
    assert db.session.get(NotificationTemplate, mine).body_text.startswith("Hello")
    response = client.post(f"{TEMPLATES}/add", data={
        "key": "receipt", "channel": "sms", "locale": "en",
        "body_text": "{{ unknown_thing }}"}, follow_redirects=True)
    assert response.status_code == 200 and "unknown_thing" in page_text(response)
    assert db.session.scalar(select(NotificationTemplate).where(
        NotificationTemplate.key == "receipt")) is None


def test_preview_page(app, build):
    alpha = _tenant(build, "Alpha Spa")
    mine = override(alpha.provider_id)
    client = signed_in(app, alpha.staff_email)
    page = page_text(client.get(f"{TEMPLATES}/preview/{mine}"))
    assert "Hello Ada Lovelace from Alpha Spa" in page
    tried = page_text(client.post(f"{TEMPLATES}/preview/{mine}",
                                  data={"body_text": "{{ nope }}"}))
    assert "nope" in tried and "preview-error" in tried
    db.session.expire_all()
    assert db.session.get(NotificationTemplate, mine).body_text.startswith("Hello")


def test_delivery_log_is_tenant_scoped_and_send_again_makes_a_new_row(app, build, smtp):
    alpha, beta = _tenant(build, "Alpha Spa"), _tenant(build, "Beta Barbers")
    smtp.refuse_rcpt["gone@example.com"] = "550 5.1.1 No such user"
    confirmed_booking(app, build, customer(build, sms=False, email="gone@example.com"),
                      provider_id=alpha.provider_id)
    confirmed_booking(app, build, customer(build, sms=False, email="b@example.com"),
                      provider_id=beta.provider_id)
    customers = Notification.template_key == "booking_confirmed"  # not the staff's mail
    failed = db.session.scalar(select(Notification).where(customers,
                                                          Notification.status == "failed"))
    sent = db.session.scalar(select(Notification).where(customers,
                                                        Notification.status == "sent"))
    client = signed_in(app, alpha.staff_email)
    listing = page_text(client.get(f"{LOG}/list/"))
    assert "gone@example.com" in listing and "b@example.com" not in listing
    assert client.get(f"{LOG}/show/{sent.id}").status_code in (302, 404)
    # Another provider's row cannot be sent again by posting its id.
    assert client.post(f"{LOG}/action_post", data={"action": "send_again",
                                                   "rowid": [sent.id]}).status_code == 404
    smtp.refuse_rcpt.clear()
    client.post(f"{LOG}/action_post", data={"action": "send_again", "rowid": [failed.id]})
    from tests.notifications.conftest import run_jobs

    run_jobs(app)
    rows = db.session.scalars(select(Notification).where(customers).order_by(Notification.id)
                              .execution_options(populate_existing=True)).all()
    assert len(rows) == 3
    assert rows[0].status == "failed" and rows[2].status == "sent"
    assert rows[2].dedupe_key.startswith(f"resend:{failed.id}:")
    assert len(smtp.to("gone@example.com")) == 1
