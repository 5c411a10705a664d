"""A barbershop's calendar by person in Chromium: staff choose "Who", see only that
barber's bookings (each saying who does it) week after week, open a booking's page that
names its barber and chair; and the catalog's show pages read like its lists."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from app.extensions import db
from app.models import Account
from app.services import resources
from app.services.bookings import place_booking
from app.services.scopes import Scope
from tests.e2e.console import sign_in
from tests.pictures import picture_bytes

BERLIN = ZoneInfo("Europe/Berlin")
WEEK = date(2030, 6, 3)  # a Monday, years ahead
TUESDAY = WEEK + timedelta(days=1)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(timezone.utc)


def _customer(build, first: str, last: str) -> int:
    customer_id = build.customer()
    account = db.session.get(Account, customer_id)
    account.first_name, account.last_name = first, last
    db.session.commit()
    return customer_id


def test_staff_see_the_calendar_by_person(page, build):
    provider = build.provider(name="Harbor Barbers", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    scope = Scope.of_provider(provider)
    people = {name: resources.create_resource(scope=scope, name=name, kind=kind).id
              for name, kind in (("Ada", "staff"), ("Bob", "staff"), ("Chair 1", "room"),
                                 ("Chair 2", "room"))}
    fade = build.offering(provider, name="Skin fade", price_minor=3500, duration_minutes=45)
    beard = build.offering(provider, name="Beard trim", price_minor=1500,
                           duration_minutes=30)
    full = build.offering(provider, name="Cut and beard", price_minor=4500,
                          duration_minutes=60)
    for offering in (fade, beard, full):
        resources.set_offering_resources(offering, list(people.values()), scope=scope)
    other = build.provider(name="Beta Barbers")
    resources.create_resource(scope=Scope.of_provider(other), name="Zed")

    slots: dict = {}

    def book(offering, day, hour, minute, who, customer, minutes):
        key = (offering, _at(day, hour, minute))
        if key not in slots:
            slots[key] = build.slot(offering, key[1], minutes=minutes, capacity=2)
        slot = slots[key]
        return place_booking(customer_id=_customer(build, *customer), offering_id=offering,
                             slot_id=slot, resource_id=people[who],
                             now=_at(day, 8) - timedelta(days=30)).reference

    ada_fade = book(fade, TUESDAY, 10, 0, "Ada", ("Grace", "Hopper"), 45)
    ada_beard = book(beard, TUESDAY, 11, 0, "Ada", ("Alan", "Turing"), 30)
    bob_fade = book(fade, TUESDAY, 10, 0, "Bob", ("Edsger", "Dijkstra"), 45)
    bob_hour = book(full, TUESDAY, 14, 0, "Bob", ("Margaret", "Hamilton"), 60)
    ada_hour = book(full, TUESDAY + timedelta(days=1), 15, 0, "Ada", ("Donald", "Knuth"), 60)
    next_week = book(fade, TUESDAY + timedelta(days=7), 9, 30, "Ada",
                     ("Barbara", "Liskov"), 45)

    sign_in(page, staff_email)
    page.goto(f"/calendar/week?week={WEEK.isoformat()}")
    expect(page.locator(".calendar[data-ready]")).to_have_count(1)
    who = page.get_by_label("Who")
    expect(who.locator("option")).to_have_text(["Everyone", "Ada", "Bob", "Chair 1",
                                                "Chair 2"])
    expect(who.locator("optgroup")).to_have_count(2)  # Staff, Rooms
    ada_block = page.locator(f'.calendar-booking[data-reference="{ada_fade}"]')
    expect(ada_block).to_contain_text("with Ada · Chair 1")
    expect(page.locator(f'[data-reference="{bob_fade}"]')).to_contain_text("with Bob")
    hour_block = page.locator(f'[data-reference="{bob_hour}"] .calendar-booking-with')
    expect(hour_block).to_be_visible()  # an hour has room for its own line
    expect(hour_block).to_have_text("with Bob · Chair 1")
    page.screenshots.take("everyone")

    who.select_option(label="Ada")  # shown at once, no button needed
    expect(page).to_have_url(re.compile(rf"resource_id={people['Ada']}"))
    expect(page.get_by_text("3 bookings with Ada")).to_be_visible()
    expect(page.locator(f'[data-reference="{bob_fade}"]')).to_have_count(0)
    expect(page.locator(f'[data-reference="{bob_hour}"]')).to_have_count(0)
    expect(page.locator(f'[data-reference="{ada_hour}"]')).to_be_visible()
    expect(page.locator(f'[data-reference="{ada_beard}"]')).to_contain_text("with Ada")
    page.screenshots.take("only-ada")

    page.get_by_role("link", name="Next week").click()
    expect(page).to_have_url(re.compile(rf"resource_id={people['Ada']}"))
    expect(page.get_by_label("Who")).to_have_value(str(people["Ada"]))
    expect(page.locator(f'[data-reference="{next_week}"]')).to_be_visible()
    page.get_by_role("link", name="Previous week").click()
    page.get_by_role("link", name=TUESDAY.strftime("%a %d %b")).click()
    expect(page).to_have_url(re.compile(rf"/calendar/day\?.*resource_id={people['Ada']}"))
    expect(page.locator(f'[data-reference="{ada_fade}"]')).to_contain_text(
        "10:00–10:45 CEST")
    page.screenshots.take("adas-day")

    # Another shop's barber is not found, nor named.
    page.expect_error_status("/calendar/week")
    response = page.goto(f"/calendar/week?week={WEEK.isoformat()}&resource_id="
                         f"{people['Ada'] + 100}")
    assert response.status == 404
    page.goto(f"/calendar/day?day={TUESDAY.isoformat()}&resource_id={people['Ada']}")

    page.locator(f'[data-reference="{ada_fade}"] .calendar-booking-link').click()
    expect(page.get_by_role("heading", name=re.compile("Skin fade"))).to_be_visible()
    with_row = page.locator("td.booking-with")
    expect(with_row).to_have_text(re.compile(r"Ada\s*\(Staff member\)\s*·\s*Chair 1\s*"
                                             r"\(Room\)"))
    page.screenshots.take("booking-page")
    with_row.get_by_role("link", name="Ada").click()
    expect(page).to_have_url(re.compile(rf"/calendar/day\?day={TUESDAY}&resource_id="))
    expect(page.get_by_text("2 bookings with Ada")).to_be_visible()


def test_the_catalog_show_pages_read_like_the_lists(page, build):
    provider = build.provider(name="Harbor Barbers", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada").id
    fade = build.offering(provider, name="Skin fade", price_minor=3500, duration_minutes=45,
                          description="Short on the sides, blended into the top.",
                          buffer_after_minutes=10)
    resources.set_offering_resources(fade, [ada], scope=scope)
    wax = build.offering(provider, name="Styling wax", kind="product", price_minor=1290)
    tin = build.variant(wax, name="Tin, 100 ml", sku="WAX-100", price_minor=None, stock=12)

    sign_in(page, staff_email)
    page.goto(f"/offeringview/edit/{fade}")
    page.get_by_label("Picture", exact=True).set_input_files(files=[{
        "name": "fade.jpg", "mimeType": "image/jpeg", "buffer": picture_bytes(900, 600)}])
    page.get_by_label("What the picture shows").fill("A fresh skin fade, side view")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page).to_have_url(re.compile(r"/offeringview/list/"))
    page.goto(f"/offeringview/show/{fade}")
    facts = page.locator("table.table-bordered")
    picture = page.get_by_role("img", name="A fresh skin fade, side view")
    expect(picture).to_be_visible()
    assert page.evaluate("img => img.naturalWidth", picture.element_handle()) > 0
    expect(facts).to_contain_text("35.00 EUR")
    expect(facts).not_to_contain_text("3500")
    expect(facts).to_contain_text(re.compile(r"Added \(local time\)\s*\d{4}-\d\d-\d\d "
                                             r"\d\d:\d\d CES?T"))
    expect(facts).not_to_contain_text("Created At")
    expect(facts).not_to_contain_text("Image Urls")
    page.screenshots.take("service")

    page.goto(f"/offeringview/show/{wax}")
    expect(facts).to_contain_text("12.90 EUR")
    expect(facts).to_contain_text("Tin, 100 ml (WAX-100)")
    expect(facts).not_to_contain_text("Duration")
    expect(facts).not_to_contain_text("Done by")
    page.screenshots.take("product")

    page.goto(f"/variantview/show/{tin}")
    expect(facts).to_contain_text("SKU")
    expect(facts).to_contain_text("In stock")
    expect(facts).to_contain_text("12.90 EUR (the offering's price)")
    page.screenshots.take("variant")
