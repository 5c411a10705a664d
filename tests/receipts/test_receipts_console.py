"""Receipts in the console: staff see, download and resend their own provider's only."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEvent, Receipt
from tests.receipts.conftest import paid, pdf_text, run_event_jobs
from tests.views.console import csrf_token, page_text, signed_in


def _two_shops(build, shop):
    other = build.provider(name="Other Place")
    other_offering = build.offering(other, price_minor=1000, pay_at_venue=True)
    other_staff = build.staff(other)
    paid(build, shop["offering"], shop["customer"])
    paid(build, other_offering, shop["customer"])
    return other, other_staff


def _receipt_of(provider_id):
    db.session.expire_all()
    return db.session.scalar(select(Receipt).where(Receipt.provider_id == provider_id))


def _generated_count():
    return db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.topic == "receipt.generated"))


def test_staff_list_only_their_providers_receipts(app, build, shop):
    other, _ = _two_shops(build, shop)
    run_event_jobs(app)
    mine, theirs = _receipt_of(shop["provider"]), _receipt_of(other)
    client = signed_in(app, build.email_of(shop["staff"]))

    listing = client.get("/receiptview/list/")
    assert listing.status_code == 200
    text = page_text(listing)
    assert mine.booking.reference in text and theirs.booking.reference not in text
    assert "25.00 EUR" in text and "10.00 EUR" not in text
    assert client.get(f"/receiptview/show/{mine.id}").status_code == 200
    assert client.get(f"/receiptview/show/{theirs.id}").status_code == 404


def test_admins_see_every_providers_receipts(app, build, shop):
    other, _ = _two_shops(build, shop)
    run_event_jobs(app)
    client = signed_in(app, build.email_of(build.admin()))
    text = page_text(client.get("/receiptview/list/"))
    assert _receipt_of(shop["provider"]).booking.reference in text
    assert _receipt_of(other).booking.reference in text


def test_download_is_tenant_checked(app, build, shop):
    other, _ = _two_shops(build, shop)
    run_event_jobs(app)
    mine, theirs = _receipt_of(shop["provider"]), _receipt_of(other)
    client = signed_in(app, build.email_of(shop["staff"]))

    response = client.get(f"/receiptview/download/{mine.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "R-000001" in pdf_text(response.data)
    assert client.get(f"/receiptview/download/{theirs.id}").status_code == 404
    assert client.get("/receiptview/download/99999999999").status_code == 404


def test_resend_publishes_a_new_receipt_generated_event(app, build, shop):
    other, _ = _two_shops(build, shop)
    run_event_jobs(app)
    mine, theirs = _receipt_of(shop["provider"]), _receipt_of(other)
    before = _generated_count()
    client = signed_in(app, build.email_of(shop["staff"]))
    token = csrf_token(client.get("/receiptview/list/")) if app.config.get(
        "WTF_CSRF_ENABLED") else None
    data = {"action": "resend", "rowid": [str(mine.id)]}
    if token:
        data["csrf_token"] = token

    response = client.post("/receiptview/action_post", data=data)
    assert response.status_code == 302
    assert _generated_count() == before + 1
    event = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "receipt.generated").order_by(OutboxEvent.created_at.desc())
    ).first()
    assert event.payload["receipt_id"] == mine.id and event.payload["resend"] is True
    assert event.payload["display_number"] == "R-000001"

    foreign = client.post("/receiptview/action_post",
                          data={"action": "resend", "rowid": [str(theirs.id)]})
    assert foreign.status_code == 404
    assert _generated_count() == before + 1


def test_customers_have_no_console_access_to_receipts(app, build, shop):
    paid(build, shop["offering"], shop["customer"])
    run_event_jobs(app)
    from tests.views.console import console_client
    from tests.helpers import console_login

    client = console_client(app)
    console_login(client, build.email_of(shop["customer"]))
    response = client.get("/receiptview/list/")
    assert response.status_code in (302, 403)
