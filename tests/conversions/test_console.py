"""The TikTok delivery log and the attribution report in the console, per provider."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import ConversionEvent, Provider
from app.models.types import utcnow
from app.services import attribution_report, bookings, conversions, payments
from app.services.agenda import local_today
from app.services.scopes import Scope
from tests.builders import email_of
from tests.conversions.conftest import book, pay, run_jobs
from tests.fakes.tiktok import error
from tests.views.console import page_text, signed_in


def _second_provider(build):
    provider = build.provider()
    offering = build.offering(provider, name="Other Studio Class", price_minor=1000,
                              pay_at_venue=True)
    return {"provider": provider, "offering": offering, "staff": build.staff(provider),
            "customer": build.customer()}


def _sent_elsewhere(build, other):
    slot = build.future_slot(other["offering"])
    reference = bookings.place_booking(
        customer_id=other["customer"], offering_id=other["offering"], slot_id=slot,
        attribution={"utm_source": "newsletter", "consent": True}).reference
    payments.mark_paid(reference, actor_id=other["staff"],
                       scope=Scope.of_provider(other["provider"]))
    return reference


def test_staff_see_only_their_providers_delivery_log(app, app_ctx, build, venue, tiktok):
    mine = book(build, venue)
    pay(mine, venue)
    other = _second_provider(build)
    theirs = _sent_elsewhere(build, other)
    run_jobs(app)
    rows = db.session.scalars(select(ConversionEvent)).all()
    assert {r.event_id for r in rows} == {f"{mine}-CompletePayment",
                                          f"{theirs}-CompletePayment"}
    foreign = next(r for r in rows if r.provider_id == other["provider"])

    client = signed_in(app, email_of(venue["staff"]))
    listing = page_text(client.get("/conversioneventview/list/"))
    assert mine in listing and theirs not in listing
    assert client.get(f"/conversioneventview/show/{foreign.id}").status_code in (302, 404)

    admin = signed_in(app, email_of(build.admin()))
    everything = page_text(admin.get("/conversioneventview/list/"))
    assert mine in everything and theirs in everything


def test_admins_send_a_failed_event_again_and_staff_cannot(app, app_ctx, build, venue, tiktok):
    tiktok.script(error(40002, "Invalid pixel_code"))
    pay(book(build, venue), venue)
    run_jobs(app)
    row = db.session.scalar(select(ConversionEvent))
    db.session.refresh(row)
    assert row.status == "failed"

    staff = signed_in(app, email_of(venue["staff"]))
    refused = staff.post("/conversioneventview/action_post",
                         data={"action": "resend", "rowid": [str(row.id)]})
    assert refused.status_code in (302, 403)
    db.session.expire_all()
    assert db.session.get(ConversionEvent, row.id).status == "failed"

    admin = signed_in(app, email_of(build.admin()))
    admin.post("/conversioneventview/action_post",
               data={"action": "resend", "rowid": [str(row.id)]})
    run_jobs(app)
    db.session.expire_all()
    assert db.session.get(ConversionEvent, row.id).status == "sent"
    assert len(tiktok.requests) == 2


def test_the_report_splits_revenue_by_source_and_tiktok(app, app_ctx, build, venue, tiktok):
    tiktok_paid = book(build, venue, quantity=2)                       # 51.00, TikTok
    pay(tiktok_paid, venue)
    organic = bookings.place_booking(
        customer_id=venue["customer"], offering_id=venue["offering"],
        slot_id=build.future_slot(venue["offering"], days=5), quantity=1,
        attribution={"utm_source": "newsletter", "utm_campaign": "june"}).reference
    pay(organic, venue)                                                # 25.50, not TikTok
    book(build, venue, quantity=1, utm_term="unpaid")                  # TikTok, unpaid
    from app.services import refunds
    from app.models import Payment, Booking

    payment_id = db.session.scalar(select(Payment.id).join(Booking).where(
        Booking.reference == tiktok_paid))
    refunds.request_refund(payment_id, amount_minor=1000, reason="", actor_id=None,
                           scope=Scope.all_providers())
    other = _second_provider(build)
    _sent_elsewhere(build, other)
    run_jobs(app)
    # A provider's report reads the provider's days (Berlin), not UTC ones.
    today = local_today(db.session.get(Provider, venue["provider"]).timezone)

    by_tiktok = attribution_report.report(scope=Scope.of_provider(venue["provider"]), start=today,
                                          end=today, group_by="tiktok")
    assert [(r.group, r.bookings, r.paid_bookings, r.revenue_minor, r.refunds_minor)
            for r in by_tiktok] == [("TikTok", 2, 1, 5100, 1000),
                                    ("not TikTok", 1, 1, 2550, 0)]
    by_source = attribution_report.report(scope=Scope.of_provider(venue["provider"]), start=today,
                                          end=today, group_by="utm_source")
    assert {(r.group, r.revenue_minor) for r in by_source} == {("tiktok", 5100),
                                                               ("newsletter", 2550)}
    assert attribution_report.report(scope=Scope.of_provider(venue["provider"]),
                                     start=today - timedelta(days=9),
                                     end=today - timedelta(days=1)) == []

    client = signed_in(app, email_of(venue["staff"]))
    page = page_text(client.get(f"/attribution/report/?group_by=utm_campaign&from={today}"
                                f"&to={today}"))
    assert "spring" in page and "june" in page and "Other Studio" not in page
    exported = client.get(f"/attribution/report.csv?group_by=tiktok&from={today}&to={today}")
    assert exported.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert lines[0] == ["tiktok", "currency", "bookings", "paid_bookings", "revenue",
                        "refunds", "net"]
    assert ["TikTok", "EUR", "2", "1", "51.00", "10.00", "41.00"] in lines
    # Staff cannot widen their report to another provider.
    widened = client.get(f"/attribution/report.csv?group_by=utm_source&from={today}"
                         f"&to={today}&provider_id={other['provider']}")
    widened_lines = list(csv.reader(io.StringIO(widened.get_data(as_text=True))))
    assert ["newsletter", "EUR", "1", "1", "25.50", "0.00", "25.50"] in widened_lines
    assert not any(line[4:5] == ["10.00"] for line in widened_lines)  # the other's booking


def test_csv_cells_from_urls_cannot_become_formulas():
    rows = [attribution_report.ReportRow("=HYPERLINK(\"x\")", "EUR", 1, 1, 100, 0)]
    text = attribution_report.to_csv(rows, "utm_source")
    assert "'=HYPERLINK" in text


def test_a_bad_range_is_refused_clearly(app_ctx, build):
    import pytest

    from app.errors import ValidationFailed

    today = utcnow().date()
    with pytest.raises(ValidationFailed):
        attribution_report.report(scope=Scope.all_providers(), start=today,
                                  end=today - timedelta(days=1))
    with pytest.raises(ValidationFailed):
        attribution_report.report(scope=Scope.all_providers(), start=today, end=today,
                                  group_by="x")


def test_pixel_code_for_prefers_the_provider(app, app_ctx, build, monkeypatch):
    monkeypatch.setitem(app.config, "TIKTOK_PIXEL_CODE", "C0PLATFORM")
    provider = db.session.get(Provider, build.provider())
    assert conversions.pixel_code_for(provider) == "C0PLATFORM"
    provider.tiktok_pixel_code = "C0OWN"
    assert conversions.pixel_code_for(provider) == "C0OWN"
    assert conversions.pixel_code_for(None) == "C0PLATFORM"
