"""Calendar feeds: a customer's and a provider's secret addresses, read back with the
icalendar library. Each lists its own bookings only (never another customer's or
provider's), answers 304 to an unchanged ETag, and stops working when replaced or
stopped; the shop, the console and the API make and stop them."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from icalendar import Calendar

from app.services import bookings, customer_erasure
from tests.helpers import api_login, assert_error_shape, bearer, token_for
from tests.storefront.conftest import sign_in
from tests.views.console import signed_in


def _book(build, offering, customer, days=3):
    slot = build.future_slot(offering, days=days, capacity=5)
    return bookings.place_booking(customer_id=customer, offering_id=offering,
                                  slot_id=slot).reference


def _uids(client, url):
    answer = client.get(urlsplit(url).path)
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    calendar = Calendar.from_ical(answer.data)
    return {str(event["uid"]).split("@")[0] for event in calendar.walk("VEVENT")}, answer


def _world(build):
    alpha, beta = build.provider(name="Alpha Spa"), build.provider(name="Beta Barbers")
    massage = build.offering(alpha, name="Massage", price_minor=0)
    haircut = build.offering(beta, name="Haircut", price_minor=0)
    ada, bo = build.customer(), build.customer()
    return {"alpha": alpha, "beta": beta, "ada": ada, "bo": bo,
            "ada_massage": _book(build, massage, ada), "bo_massage": _book(build, massage, bo,
                                                                             days=4),
            "ada_haircut": _book(build, haircut, ada, days=5)}


def test_a_customers_feed_lists_only_their_bookings(client, build, app_ctx):
    world = _world(build)
    me = bearer(token_for(world["ada"]))
    made = client.post("/api/v1/calendar-feeds/mine", headers=me)
    assert made.status_code == 201
    url = made.get_json()["url"]
    assert made.get_json()["webcal_url"].startswith("webcal://")
    uids, answer = _uids(client, url)
    assert uids == {world["ada_massage"], world["ada_haircut"]}
    assert client.get(urlsplit(url).path, headers={
        "If-None-Match": answer.headers["ETag"]}).status_code == 304
    assert client.get("/api/v1/calendar-feeds/mine", headers=me).get_json()["active"] is True

    again = client.post("/api/v1/calendar-feeds/mine", headers=me).get_json()["url"]
    assert_error_shape(client.get(urlsplit(url).path), 404, "feed.not_found")
    assert client.delete("/api/v1/calendar-feeds/mine", headers=me).status_code == 204
    assert_error_shape(client.get(urlsplit(again).path), 404, "feed.not_found")
    assert_error_shape(client.get("/api/v1/calendar-feeds/made-up-token.ics"), 404)


def test_a_providers_feed_lists_its_bookings_with_the_customers(client, build, app_ctx):
    world = _world(build)
    staff = bearer(api_login(client, build.email_of(build.staff(world["alpha"])))[
        "access_token"])
    made = client.post("/api/v1/calendar-feeds/provider", headers=staff)
    assert made.status_code == 201
    uids, answer = _uids(client, made.get_json()["url"])
    assert uids == {world["ada_massage"], world["bo_massage"]}  # never Beta's haircut
    assert b"Massage" in answer.data and b"Haircut" not in answer.data
    customer = bearer(token_for(world["ada"]))
    assert client.post("/api/v1/calendar-feeds/provider", headers=customer).status_code == 403


def test_the_shop_makes_and_stops_a_customers_feed(client, build, app_ctx):
    world = _world(build)
    from app.models import Account
    from app.extensions import db

    email = db.session.get(Account, world["ada"]).email
    sign_in(client, email)
    page = client.get("/shop/bookings").get_data(as_text=True)
    assert "Get a calendar address" in page
    client.post("/shop/account/calendar-feed")
    page = client.get("/shop/bookings").get_data(as_text=True)
    url = re.search(r"(https?://\S+/api/v1/calendar-feeds/\S+\.ics)", page).group(1)
    assert "Stop the feed" in page
    uids, _ = _uids(client, url)
    assert uids == {world["ada_massage"], world["ada_haircut"]}
    client.post("/shop/account/calendar-feed/stop")
    assert client.get(urlsplit(url).path).status_code == 404


def test_the_console_makes_the_providers_feed_for_staff_and_admins(app, build, app_ctx):
    world = _world(build)
    staff = signed_in(app, build.email_of(build.staff(world["alpha"])))
    assert "No calendar address yet." in staff.get("/calendar-feed/").get_data(as_text=True)
    page = staff.post("/calendar-feed/", data={"action": "make"}).get_data(as_text=True)
    url = re.search(r'id="feed-address"[^>]*value="([^"]+)"', page).group(1)
    uids, _ = _uids(staff, url)
    assert uids == {world["ada_massage"], world["bo_massage"]}
    # Another provider's id in the request changes nothing for staff: theirs only.
    page = staff.get(f"/calendar-feed/?provider_id={world['beta']}").get_data(as_text=True)
    assert "On since" in page
    staff.post("/calendar-feed/", data={"action": "stop"})
    assert staff.get(urlsplit(url).path).status_code == 404

    admin = signed_in(app, build.email_of(build.admin()))
    assert "Beta Barbers" in admin.get("/calendar-feed/").get_data(as_text=True)
    page = admin.post("/calendar-feed/", data={"action": "make",
                                               "provider_id": world["beta"]}
                      ).get_data(as_text=True)
    url = re.search(r'id="feed-address"[^>]*value="([^"]+)"', page).group(1)
    uids, _ = _uids(admin, url)
    assert uids == {world["ada_haircut"]}


def test_an_erased_customers_feed_is_gone(client, build, app_ctx):
    world = _world(build)
    url = client.post("/api/v1/calendar-feeds/mine",
                      headers=bearer(token_for(world["ada"]))).get_json()["url"]
    customer_erasure.erase_customer(world["ada"])
    assert client.get(urlsplit(url).path).status_code == 404
