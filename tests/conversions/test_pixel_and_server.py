"""The browser Pixel and the Events API name one purchase with one event id.

A customer lands from a TikTok ad, consents, books and pays on the storefront; the paid
page's Pixel fires CompletePayment with an event id, and the server sends TikTok the same
id (TikTok deduplicates on it). The whole path: storefront, local Stripe, local TikTok.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import ConversionEvent
from tests.conversions.conftest import run_jobs
from tests.storefront.conftest import Store, sign_in


def test_the_paid_page_and_the_server_send_the_same_event_id(app, app_ctx, build, tiktok,
                                                             stripe_on):
    provider = build.provider(name="Delta Dance")
    offering = build.offering(provider, name="Salsa", price_minor=3000)
    store = Store(provider, offering, build.future_slot(offering), build.customer(), "")
    browser = app.test_client()
    browser.get("/shop/?utm_source=tiktok&ttclid=E.C.P.ad-click",
                headers={"Referer": "https://www.tiktok.com/"})
    browser.set_cookie("bw_consent", "granted")
    browser.set_cookie("_ttp", "ttp-from-pixel")
    sign_in(browser, build.email_of(store.customer_id))

    booked = browser.post(f"/shop/offerings/{offering}/book",
                          data={"slot_id": store.slot_id, "quantity": 1})
    reference = booked.headers["Location"].rsplit("/", 1)[1]
    paid = browser.post(f"/shop/bookings/{reference}/pay-test-card",
                        data={"card": "pm_card_visa"})
    assert paid.status_code == 302 and paid.headers["Location"].endswith("/paid")
    run_jobs(app)
    page = browser.get(f"/shop/bookings/{reference}/paid").get_data(as_text=True)

    pixel_id = re.search(r'ttq\.track\("CompletePayment", .*?\{"event_id": "([^"]+)"\}',
                         page).group(1)
    row = db.session.scalar(select(ConversionEvent))
    sent = tiktok.requests[0].json["data"][0]
    assert pixel_id == row.event_id == sent["event_id"] == f"{reference}-CompletePayment"
    assert sent["user"]["ttclid"] == "E.C.P.ad-click" and sent["user"]["ttp"] == "ttp-from-pixel"
    assert row.status == "sent"
