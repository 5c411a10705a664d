"""Finding things as a customer would, at desktop and phone sizes: search near a typed
city (looked up by the local Maps stand-in) and near the browser's location, sort by
price within each currency, open a provider's page in its colours with its logo, and a
product that says Buy with its stock. axe-core checks every page visited."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from app.extensions import db
from app.models import Offering, Provider
from app.services import images
from tests.e2e.accessibility import assert_accessible
from tests.fakes.google_maps import geocoded, google_maps_for
from tests.pictures import picture_bytes

BERLIN = (52.5200, 13.4050)
POTSDAM = (52.3906, 13.0645)
HAMBURG = (53.5511, 9.9937)


def seed_town(build) -> None:
    harbor = build.provider(name="Harbor Yoga", slug="harbor-yoga", timezone="Europe/Berlin",
                            brand_color="#0f766e",
                            description="Slow yoga by the water, since 2012.")
    north = build.provider(name="Northside Barbers", slug="northside",
                           timezone="America/New_York", currency="USD")
    loft = build.location(harbor, name="Harbor loft", address="Hafenstraße 1, Berlin",
                          lat=BERLIN[0], lng=BERLIN[1])
    lake = build.location(harbor, name="Lake house", lat=POTSDAM[0], lng=POTSDAM[1])
    port = build.location(north, name="Port shop", lat=HAMBURG[0], lng=HAMBURG[1])
    classes = build.category(harbor, name="Classes")
    flow = build.offering(harbor, name="Sunrise flow", price_minor=1800, location_id=loft,
                          category_id=classes, description="Gentle vinyasa at dawn.")
    retreat = build.offering(harbor, name="Lake retreat", price_minor=9000,
                             location_id=lake, category_id=classes)
    shave = build.offering(north, name="Hot towel shave", price_minor=1500, currency="USD",
                           location_id=port, duration_minutes=30)
    mat = build.offering(harbor, name="Cork mat", kind="product", price_minor=5900,
                         location_id=loft, description="Natural cork, 4 mm.")
    build.variant(mat, name="Natural", stock=3)
    build.variant(mat, name="Charcoal", stock=0)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    build.slot(flow, now + timedelta(days=1, hours=2))
    build.slot(retreat, now + timedelta(days=3))
    build.slot(shave, now + timedelta(hours=20))
    images.replace_offering_picture(db.session.get(Offering, flow),
                                    picture_bytes(1200, 800, color=(190, 140, 60)),
                                    "Mats facing the harbour at sunrise")
    images.replace_offering_picture(db.session.get(Offering, mat),
                                    picture_bytes(800, 800, color=(170, 130, 90)),
                                    "A rolled cork mat")
    images.replace_logo(db.session.get(Provider, harbor),
                        picture_bytes(300, 300, color=(250, 200, 60)))
    db.session.commit()


def test_customer_finds_a_class_near_a_city_and_a_product_on_a_providers_page(
        page, build, live_app):
    seed_town(build)
    page.goto("/shop/")
    expect(page.get_by_role("heading", name="Find something to book")).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("search")

    with google_maps_for(live_app) as maps:
        maps.answer_geocode("Berlin", geocoded(*BERLIN, formatted_address="Berlin, Germany"))
        page.get_by_label("Where").fill("Berlin")
        page.get_by_label("Within").select_option(label="50 km")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_text("Near Berlin")).to_be_visible()
    results = page.locator("article.result h3")
    expect(results).to_have_text(["Sunrise flow", "Cork mat", "Lake retreat"])  # nearest
    expect(page.get_by_text("27.2 km away")).to_be_visible()
    expect(page.get_by_role("img", name="Mats facing the harbour at sunrise")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Next free: .*\(Europe/Berlin\)")).first).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("near-berlin")

    page.get_by_label("Within").select_option(label="Any distance")
    page.get_by_label("Sort by").select_option(label="Price: low to high")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Prices in USD")).to_be_visible()
    expect(results).to_have_text(["Sunrise flow", "Cork mat", "Lake retreat",
                                  "Hot towel shave"])  # euros, then dollars
    assert_accessible(page)
    page.screenshots.take("by-price")

    page.get_by_role("link", name="Harbor Yoga").first.click()
    expect(page.get_by_role("heading", name="Harbor Yoga", level=1)).to_be_visible()
    band = page.locator(".brand-band")
    expect(band).to_have_css("background-color", "rgb(15, 118, 110)")
    expect(band.locator("h1")).to_have_css("color", "rgb(255, 255, 255)")
    expect(page.get_by_text("Slow yoga by the water, since 2012.")).to_be_visible()
    expect(page.get_by_text("Hot towel shave")).to_have_count(0)
    assert_accessible(page)
    page.screenshots.take("provider")

    page.get_by_role("link", name="Cork mat").click()
    expect(page.get_by_role("heading", name="Cork mat")).to_be_visible()
    expect(page.locator(".brand-band")).to_have_css("background-color", "rgb(15, 118, 110)")
    expect(page.get_by_role("button", name="Buy")).to_have_count(1)  # Charcoal is sold out
    expect(page.get_by_role("button", name="Book")).to_have_count(0)
    expect(page.get_by_text("3 left")).to_be_visible()
    expect(page.get_by_text("Sold out")).to_be_visible()
    assert_accessible(page)
    page.screenshots.take("product")


def test_customer_searches_near_their_own_location(page, build):
    seed_town(build)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": POTSDAM[0], "longitude": POTSDAM[1]})
    page.goto("/shop/")
    page.get_by_label("Within").select_option(label="5 km")
    page.get_by_role("button", name="Use my location").click()
    expect(page.get_by_text("Near your location")).to_be_visible()
    expect(page.locator("article.result h3")).to_have_text(["Lake retreat"])
    expect(page.get_by_label("Sort by").locator("option:checked")).to_have_text("Distance")
    assert_accessible(page)
    page.screenshots.take("near-me")
