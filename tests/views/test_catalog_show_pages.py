"""The catalog's show pages read like its lists: an offering's price in major units with its
currency, times on the provider's clock named as such, labels a provider would write, a
product's page without what only services have; variants, locations and categories the
same. Another provider's page stays a 404."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Offering
from app.services import resources
from app.services.scopes import Scope
from tests.pictures import picture_bytes
from tests.views.console import signed_in
from tests.views.test_pictures_and_branding import offering_form, upload
from tests.views.test_readable_values import unreadable_parts, visible_text

# Flask-AppBuilder's labels made from column names: never on a page people read.
RAW_LABELS = ("Image Urls", "Created At", "Updated At", "Price Minor", "Sku", "Place Id",
              "Geocoded At", "Lat ", "Lng ", "Children", "Max Active", "Buffer Before Minutes")


def _rows(page: str) -> dict[str, str]:
    """The show page's table: label → value, as read."""
    found = re.findall(r"<th[^>]*>(.*?)</th>\s*<td>(.*?)</td>", page, re.S)
    return {" ".join(visible_text(label).split()): " ".join(visible_text(value).split())
            for label, value in found}


def _readable(page: str) -> None:
    text = visible_text(page)
    assert not [label for label in RAW_LABELS if label in text], text
    assert not unreadable_parts(text)


def test_an_offerings_page_shows_money_times_and_labels_as_people_read_them(
        app, build, tenant_a, tenant_b):
    scope = Scope.of_provider(tenant_a.provider_id)
    ada = resources.create_resource(scope=scope, name="Ada").id
    cut = build.offering(tenant_a.provider_id, name="Cut", price_minor=3500,
                         image_urls=["https://example.com/cut.jpg"],
                         max_held_places_per_customer=2)
    resources.set_offering_resources(cut, [ada], scope=scope)
    yen = build.offering(tenant_a.provider_id, name="Tea ceremony", price_minor=3500,
                         currency="JPY")
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get(f"/offeringview/show/{cut}").get_data(as_text=True)

    rows = _rows(page)
    assert rows["Price"] == "35.00 EUR" and "Currency" not in rows
    assert rows["Done by"] == "Ada" and rows["Duration (minutes)"] == "60"
    assert rows["Bookings per customer"] == "No limit"
    assert rows["Unpaid places per customer"] == "2"
    assert rows["Picture links"] == "https://example.com/cut.jpg"
    assert 'href="https://example.com/cut.jpg"' in page
    for label in ("Added (local time)", "Last changed (local time)"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T", rows[label]), rows[label]
    assert "OfferingView.action-opening_hours" in page  # the service's hours, a click away
    _readable(page)
    assert _rows(staff.get(f"/offeringview/show/{yen}").get_data(as_text=True))[
        "Price"] == "3500 JPY"  # the currency's own decimals: none
    other = signed_in(app, tenant_b.staff_email)
    assert other.get(f"/offeringview/show/{cut}").status_code == 404


def test_a_products_page_leaves_out_what_only_services_have(app, build, tenant_a):
    shampoo = build.offering(tenant_a.provider_id, name="Shampoo", kind="product",
                             price_minor=1299)
    big = build.variant(shampoo, name="Big", sku="SH-BIG", price_minor=1599, stock=None)
    small = build.variant(shampoo, name="Small", sku="SH-S", stock=4)
    staff = signed_in(app, tenant_a.staff_email)

    page = staff.get(f"/offeringview/show/{shampoo}").get_data(as_text=True)

    rows = _rows(page)
    assert rows["Kind"] == "Product" and rows["Price"] == "12.99 EUR"
    assert rows["Variants"] == "Big (SH-BIG), Small (SH-S)"
    for service_only in ("Duration (minutes)", "Done by", "Buffer before (minutes)",
                         "Buffer after (minutes)", "Minimum notice (minutes)",
                         "Bookable up to (days ahead)",
                         "Free cancellation until (hours before)"):
        assert service_only not in rows
    assert "Picture links" not in rows  # none given
    assert "OfferingView.action-opening_hours" not in page  # products keep no hours
    _readable(page)

    variant = _rows(staff.get(f"/variantview/show/{big}").get_data(as_text=True))
    assert variant == {"Offering": "Shampoo", "Name": "Big", "SKU": "SH-BIG",
                       "Price override": "15.99 EUR", "In stock": "Not counted",
                       "Active": "Yes", "Provider": tenant_a.name}
    counted = _rows(staff.get(f"/variantview/show/{small}").get_data(as_text=True))
    assert counted["In stock"] == "4"
    assert counted["Price override"] == "12.99 EUR (the offering's price)"


def test_an_uploaded_picture_is_shown_with_what_it_shows(app, tenant_a):
    staff = signed_in(app, tenant_a.staff_email)
    staff.post("/offeringview/add", data=offering_form(
        tenant_a, picture_upload=upload(picture_bytes()),
        picture_description="A wooden sauna"))
    sauna = db.session.scalar(select(Offering).where(Offering.name == "Sauna"))

    page = staff.get(f"/offeringview/show/{sauna.id}").get_data(as_text=True)

    thumb = re.search(r'<img class="offering-picture" src="([^"]+)" alt="A wooden sauna"',
                      page)
    assert thumb and staff.get(thumb.group(1)).status_code == 200
    sauna.active = False  # customers no longer see it: nor is it served, so no broken image
    db.session.commit()
    hidden = staff.get(f"/offeringview/show/{sauna.id}").get_data(as_text=True)
    assert "offering-picture" not in hidden
    assert "A wooden sauna" in _rows(hidden)["Picture"]


def test_locations_and_categories_read_like_the_business(app, build, tenant_a):
    hall = build.location(tenant_a.provider_id, name="Main hall", geocode_status="ok",
                          place_id="ChIJ-main-hall")
    classes = build.category(tenant_a.provider_id, name="Classes")
    build.category(tenant_a.provider_id, name="Yoga", parent_id=classes)
    staff = signed_in(app, tenant_a.staff_email)

    location = staff.get(f"/locationview/show/{hall}").get_data(as_text=True)
    category = staff.get(f"/categoryview/show/{classes}").get_data(as_text=True)

    rows = _rows(location)
    assert rows["Geocoding"] == "Found by Google Maps"
    assert (rows["Latitude"], rows["Longitude"]) == ("52.52", "13.405")
    assert rows["Google place id"] == "ChIJ-main-hall"
    assert "Geocoded (local time)" in rows
    _readable(location)
    listing = visible_text(staff.get("/locationview/list/").get_data(as_text=True))
    assert "Found by Google Maps" in listing
    assert _rows(category)["Subcategories"] == "Yoga"
    _readable(category)
