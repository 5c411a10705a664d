"""Storefront pages: search, details, and a map only where a Maps key is configured."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest


@pytest.fixture
def shop(build):
    provider = build.provider(name="Harbor Yoga", timezone="Europe/Berlin")
    location = build.location(provider, name="Harbor Studio", lat=52.529, lng=13.401)
    yoga = build.offering(provider, name="Vinyasa Flow", description="Dynamic <b>yoga</b>",
                          price_minor=1850, location_id=location)
    build.offering(provider, name="Cork Mat", kind="product", price_minor=5900)
    soon = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(days=1)
    build.slot(yoga, soon, capacity=3, booked=1)
    return {"yoga": yoga}


def test_search_page_lists_and_filters(client, shop):
    page = client.get("/shop/?q=flow").get_data(as_text=True)
    assert "Vinyasa Flow" in page and "Cork Mat" not in page
    assert "€18.50" in page
    assert "Dynamic &lt;b&gt;yoga&lt;/b&gt;" in page  # escaped, never raw HTML
    everything = client.get("/shop/?kind=product").get_data(as_text=True)
    assert "Cork Mat" in everything and "Vinyasa Flow" not in everything


def test_nonsense_parameters_are_ignored_not_errors(client, shop):
    assert client.get("/shop/?lat=abc&lng=999&page=-3&kind=zz").status_code == 200


def test_offering_page_shows_free_times_in_local_time(client, shop):
    page = client.get(f"/shop/offerings/{shop['yoga']}").get_data(as_text=True)
    assert "2 left" in page and "Europe/Berlin" in page
    assert "maps/embed" not in page  # no key configured


def test_offering_page_shows_a_map_with_a_key(app, client, shop):
    app.config["GOOGLE_MAPS_API_KEY"] = "AIzaTestKey"
    try:
        page = client.get(f"/shop/offerings/{shop['yoga']}").get_data(as_text=True)
    finally:
        app.config["GOOGLE_MAPS_API_KEY"] = None
    assert "maps/embed/v1/place?key=AIzaTestKey&q=52.529,13.401" in page


def test_unknown_offering_is_a_404_page(client, shop):
    response = client.get("/shop/offerings/987654")
    assert response.status_code == 404 and response.mimetype == "text/html"
