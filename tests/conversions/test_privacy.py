"""Attribution data is kept only as long as configured, exported and erased on request."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Account, Attribution, Booking, ConversionEvent
from app.models.types import utcnow
from app.services import attribution_privacy
from tests.conversions.conftest import ATTRIBUTION, book, pay, run_jobs
from tests.helpers import assert_error_shape, bearer, token_for


def _attribution(reference):
    db.session.expire_all()
    return db.session.scalar(select(Attribution).join(Booking).where(
        Booking.reference == reference))


def test_request_details_are_cleared_after_the_retention_period(app, app_ctx, build, venue,
                                                                tiktok):
    old, recent = book(build, venue), book(build, venue, utm_content="recent")
    pay(old, venue)
    run_jobs(app)
    days = app.config["ATTRIBUTION_RETENTION_DAYS"]
    old_row = _attribution(old)
    old_row.created_at = utcnow() - timedelta(days=days, hours=1)
    conversion = db.session.scalar(select(ConversionEvent))
    conversion.created_at = old_row.created_at
    db.session.commit()

    assert attribution_privacy.clear_expired_request_details() == 1

    cleared, kept = _attribution(old), _attribution(recent)
    assert (cleared.ip, cleared.user_agent) == (None, None)
    assert cleared.ttclid == ATTRIBUTION["ttclid"] and cleared.utm_source == "tiktok"
    assert (kept.ip, kept.user_agent) == (ATTRIBUTION["ip"], ATTRIBUTION["user_agent"])
    user = db.session.scalar(select(ConversionEvent)).payload["data"][0]["user"]
    assert "ip" not in user and "user_agent" not in user and "email" in user
    assert attribution_privacy.clear_expired_request_details() == 0  # nothing left


def test_the_export_covers_attribution_and_conversions(app, app_ctx, client, build, venue,
                                                       tiktok):
    reference = book(build, venue)
    pay(reference, venue)
    run_jobs(app)

    response = client.get("/api/v1/me/export", headers=bearer(token_for(venue["customer"])))

    assert response.status_code == 200
    data = response.get_json()
    [booking] = data["bookings"]
    assert booking["reference"] == reference
    assert booking["attribution"]["ttclid"] == ATTRIBUTION["ttclid"]
    assert booking["attribution"]["ip"] == ATTRIBUTION["ip"]
    assert data["payments"][0]["status"] == "succeeded"
    assert data["conversion_events"][0]["event_id"] == f"{reference}-CompletePayment"
    other = build.customer()
    assert client.get("/api/v1/me/export", headers=bearer(token_for(other))).get_json()[
        "bookings"] == []


def test_erasure_strips_identifiers_and_signs_the_customer_out(app, app_ctx, client, build,
                                                              venue, tiktok):
    reference = book(build, venue)
    pay(reference, venue)
    run_jobs(app)
    account = db.session.get(Account, venue["customer"])
    account.email = "erase.me@example.com"  # a login the test can use
    db.session.commit()
    headers = bearer(token_for(venue["customer"]))

    wrong = client.post("/api/v1/me/erase", headers=headers, json={"password": "nope"})
    assert_error_shape(wrong, 401, "privacy.wrong_password")
    assert _attribution(reference).ttclid is not None

    from tests.builders import PASSWORD
    erased = client.post("/api/v1/me/erase", headers=headers, json={"password": PASSWORD})

    assert erased.status_code == 200 and erased.get_json() == {"erased": True}
    row = _attribution(reference)
    assert all(getattr(row, key) is None for key in attribution_privacy.IDENTIFIERS)
    assert row.utm_campaign == "spring"  # campaign figures stay for the provider's report
    account = db.session.get(Account, venue["customer"])
    assert account.email.endswith("@erased.invalid") and not account.active
    assert account.phone is None
    assert db.session.scalar(select(ConversionEvent)).payload["data"][0]["user"] == {}
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert booking.status == "confirmed"  # the provider's records stay
    assert_error_shape(client.get("/api/v1/me/export", headers=headers), 401)
    login = client.post("/api/v1/auth/login", json={"email": "erase.me@example.com",
                                                    "password": PASSWORD})
    assert login.status_code == 401
