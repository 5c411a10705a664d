"""Finding things on the storefront: a typed place through the Maps stand-in, the
browser's location, radius, sorting (soonest, distance, price within a currency),
categories, what each result says, and provider pages."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.models import Provider
from tests.fakes.google_maps import geocoded, google_maps_for, zero_results

BERLIN = (52.5200, 13.4050)
POTSDAM = (52.3906, 13.0645)  # 27 km from Berlin
HAMBURG = (53.5511, 9.9937)


@pytest.fixture
def town(build):
    harbor = build.provider(name="Harbor Yoga", slug="harbor-yoga", timezone="Europe/Berlin")
    north = build.provider(name="Northside Barbers", slug="northside",
                           timezone="America/New_York", currency="USD")
    mitte = build.location(harbor, name="Harbor loft", lat=BERLIN[0], lng=BERLIN[1])
    lake = build.location(harbor, name="Lake house", lat=POTSDAM[0], lng=POTSDAM[1])
    port = build.location(north, name="Port shop", lat=HAMBURG[0], lng=HAMBURG[1])
    yoga_category = build.category(harbor, name="Yoga")
    morning = build.category(harbor, name="Morning classes", parent_id=yoga_category)
    flow = build.offering(harbor, name="Sunrise flow", price_minor=1800, location_id=mitte,
                          category_id=morning)
    retreat = build.offering(harbor, name="Lake retreat", price_minor=9000,
                             location_id=lake, category_id=yoga_category)
    shave = build.offering(north, name="Hot towel shave", price_minor=1500, currency="USD",
                           location_id=port)
    mat = build.offering(harbor, name="Cork mat", kind="product", price_minor=5900)
    build.variant(mat, stock=2)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    build.slot(flow, now + timedelta(days=2))
    build.slot(retreat, now + timedelta(days=1))
    build.slot(shave, now + timedelta(hours=30), capacity=1, booked=1)  # full
    return dict(harbor=harbor, north=north, flow=flow, retreat=retreat, shave=shave, mat=mat)


def names_in_order(page: str, *names: str) -> list[str]:
    found = [(page.find(f">{name}</a>"), name) for name in names]
    return [name for position, name in sorted(found) if position >= 0]


def test_the_default_order_is_the_soonest_free_time_not_the_alphabet(client, town):
    page = client.get("/shop/").get_data(as_text=True)
    assert names_in_order(page, "Sunrise flow", "Lake retreat", "Hot towel shave",
                          "Cork mat") == ["Lake retreat", "Sunrise flow", "Cork mat",
                                          "Hot towel shave"]
    assert "Next free:" in page and "(Europe/Berlin)" in page
    assert "No free time soon" in page  # the shave's only slot is full
    assert "2 left" in page  # the mat


def test_a_typed_place_is_looked_up_once_and_searched_with_a_radius(app, client, town):
    with google_maps_for(app) as maps:
        maps.answer_geocode("Berlin", geocoded(*BERLIN, formatted_address="Berlin, Germany"))
        first = client.get("/shop/?place=Berlin&radius_km=10")
        assert first.status_code == 302
        target = first.headers["Location"]
        assert "placed=Berlin" in target and "lat=52.52" in target
        page = client.get(target).get_data(as_text=True)
        assert len(maps.requests) == 1  # the redirect carries the point
        wider = client.get(target.replace("radius_km=10", "radius_km=50")).get_data(
            as_text=True)
        assert len(maps.requests) == 1  # changing the radius looks up nothing
    assert names_in_order(page, "Sunrise flow", "Lake retreat", "Hot towel shave") == [
        "Sunrise flow"]
    assert "0.0 km away" in page and "Near Berlin" in page
    assert names_in_order(wider, "Sunrise flow", "Lake retreat") == [
        "Sunrise flow", "Lake retreat"]  # nearest first by default
    assert "27.2 km away" in wider


def test_an_unknown_place_says_so_and_searches_everywhere(app, client, town):
    with google_maps_for(app) as maps:
        maps.answer_geocode("Atlantis", zero_results())
        response = client.get("/shop/?place=Atlantis")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "We could not find “Atlantis”" in page
    assert "Hot towel shave" in page  # not filtered by a place it could not find


def test_without_a_maps_key_a_typed_place_is_explained(client, town):
    page = client.get("/shop/?place=Berlin").get_data(as_text=True)
    assert "Use your location instead." in page
    assert "Typed places are not available here." in page


def test_the_browsers_location_needs_no_lookup(client, town):
    here = f"lat={POTSDAM[0]}&lng={POTSDAM[1]}&here=1&radius_km=5"
    page = client.get(f"/shop/?{here}").get_data(as_text=True)
    assert names_in_order(page, "Sunrise flow", "Lake retreat") == ["Lake retreat"]
    assert "Near your location" in page
    # A point without "here" and without a typed place is no location at all.
    everywhere = client.get(f"/shop/?lat={POTSDAM[0]}&lng={POTSDAM[1]}").get_data(
        as_text=True)
    assert "Sunrise flow" in everywhere and "Near your location" not in everywhere


def test_prices_are_sorted_within_each_currency_and_say_so(client, town):
    page = client.get("/shop/?sort=price").get_data(as_text=True)
    assert page.index("Prices in EUR") < page.index("Sunrise flow") < page.index(
        "Cork mat") < page.index("Lake retreat") < page.index("Prices in USD") < page.index(
        "Hot towel shave")
    assert "prices compared within each currency" in page


def test_categories_are_listed_and_include_their_subcategories(client, town):
    page = client.get("/shop/").get_data(as_text=True)
    assert "<option >Morning classes</option>" in page and "<option >Yoga</option>" in page
    yoga = client.get("/shop/?category=yoga").get_data(as_text=True)
    assert names_in_order(yoga, "Sunrise flow", "Lake retreat", "Cork mat") == [
        "Lake retreat", "Sunrise flow"]
    unknown = client.get("/shop/?category=Knitting").get_data(as_text=True)
    assert "Nothing found" in unknown


def test_results_link_the_provider_page(client, town):
    page = client.get("/shop/?q=shave").get_data(as_text=True)
    assert 'href="/shop/providers/northside">Northside Barbers</a>' in page


def test_a_provider_page_lists_its_offerings_and_places(client, town):
    page = client.get("/shop/providers/harbor-yoga").get_data(as_text=True)
    assert "<h1" in page and "Harbor Yoga" in page
    assert "Harbor loft" in page and "Lake house" in page
    assert "Sunrise flow" in page and "Cork mat" in page and "Hot towel shave" not in page
    assert "maps/embed" not in page  # no Maps key
    morning = client.get("/shop/providers/harbor-yoga?category=Morning+classes").get_data(
        as_text=True)
    assert "Sunrise flow" in morning and "Lake retreat" not in morning


def test_an_inactive_provider_has_no_page_and_no_results(client, town):
    db.session.get(Provider, town["north"]).active = False
    db.session.commit()
    assert client.get("/shop/providers/northside").status_code == 404
    assert client.get("/shop/providers/no-such-shop").status_code == 404
    assert "Hot towel shave" not in client.get("/shop/").get_data(as_text=True)


def test_nonsense_search_parameters_are_ignored(client, town):
    response = client.get("/shop/?lat=abc&lng=999&here=1&radius_km=-3&sort=zz&page=-1"
                          "&kind=zz&category=" + "x" * 500)
    assert response.status_code == 200


def test_a_german_browser_finds_things_in_german(client, town):
    page = client.get("/shop/?sort=price", headers={"Accept-Language": "de-DE,de;q=0.9"}
                      ).get_data(as_text=True)
    assert "Etwas zum Buchen finden" in page and "Preise in EUR" in page
    assert "Nächster freier Termin:" in page and "noch 2" in page
    product = client.get(f"/shop/offerings/{town['mat']}",
                         headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert ">Kaufen</button>" in product


def test_a_provider_page_shows_a_map_with_a_maps_key(app, client, town):
    app.config["GOOGLE_MAPS_API_KEY"] = "AIzaTestKey"
    try:
        page = client.get("/shop/providers/harbor-yoga").get_data(as_text=True)
    finally:
        app.config["GOOGLE_MAPS_API_KEY"] = None
    assert f"maps/embed/v1/place?key=AIzaTestKey&q={BERLIN[0]},{BERLIN[1]}" in page
    assert 'title="Map of Harbor loft"' in page


def test_a_provider_without_a_description_has_no_empty_box_under_its_name(client, build):
    build.provider(name="Quiet Studio", slug="quiet-studio", timezone="Europe/Berlin")

    page = client.get("/shop/providers/quiet-studio").get_data(as_text=True)

    assert 'id="provider-name">Quiet Studio</h1>' in page
    assert "provider-about" not in page
