"""Forms a person can use: a price typed as "18.50", a week of opening hours in one screen."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.console import sign_in



def test_staff_edit_a_price_in_major_units(page, build):
    provider = build.provider(name="Harbor Yoga Studio", currency="EUR")
    staff_email = build.email_of(build.staff(provider))
    offering = build.offering(provider, name="Evening flow", price_minor=1500)

    sign_in(page, staff_email)
    page.goto("/offeringview/list/")
    expect(page.get_by_role("cell", name="15.00 EUR")).to_be_visible()
    page.goto(f"/offeringview/edit/{offering}")
    price = page.get_by_role("textbox", name="Price *")
    expect(price).to_have_value("15.00")  # stored 1500 cents, shown in euros
    expect(page.locator("#provider")).to_have_count(0)  # staff never pick a provider
    page.screenshots.take("edit-offering")

    price.fill("18.505")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_text("EUR has 2 decimals at most.")).to_be_visible()
    page.screenshots.take("too-many-decimals")

    page.get_by_role("textbox", name="Price *").fill("18.50")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page).to_have_url(re.compile(r"/offeringview/list/"))
    expect(page.get_by_role("cell", name="18.50 EUR")).to_be_visible()
    expect(page.get_by_role("cell", name="Service", exact=True)).to_be_visible()
    page.screenshots.take("saved-price-in-list")


def test_staff_set_weekly_hours_and_see_the_slots(page, build):
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    build.offering(provider, name="Morning flow", duration_minutes=60)

    sign_in(page, staff_email)
    page.goto("/offeringview/list/")
    page.get_by_role("link", name="Opening hours").first.click()
    expect(page.get_by_text("Times in Europe/Berlin")).to_be_visible()

    rows = page.locator("tr.weekly-hours-row")
    first = rows.nth(0)
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        first.get_by_label(day).check()
    first.get_by_label("From (Europe/Berlin)").fill("09:00")
    first.get_by_label("Until (Europe/Berlin)").fill("12:00")
    second = rows.nth(1)
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        second.get_by_label(day).check()
    second.get_by_label("From (Europe/Berlin)").fill("13:00")
    second.get_by_label("Until (Europe/Berlin)").fill("18:00")
    blank_rows = rows.count()
    page.get_by_role("button", name="Add a time range").click()  # the script's row
    expect(rows).to_have_count(blank_rows + 1)
    added = rows.nth(blank_rows)
    added.get_by_label("Sat").check()
    added.get_by_label("From (Europe/Berlin)").fill("10:00")
    added.get_by_label("Until (Europe/Berlin)").fill("14:00")
    page.get_by_label("Slot length (minutes)").fill("60")
    page.get_by_label("Places per slot").fill("4")
    page.screenshots.take("week-typed")

    page.get_by_role("button", name="Save opening hours").click()
    expect(page.get_by_text(re.compile(r"Opening hours saved: \d+ new slots"))).to_be_visible()
    page.screenshots.take("week-saved")

    page.get_by_role("link", name="Slots").last.click()
    expect(page.get_by_role("cell", name=re.compile(r" 09:00 CET$")).first).to_be_visible()
    # Hourly slots of the morning range, on the studio's clock.
    expect(page.get_by_role("row").filter(
        has_text=re.compile(r"11:00 CET\s+[-0-9]+ 12:00 CET")).first).to_be_visible()
    page.screenshots.take("slots")

    # Overlapping ranges are refused as a whole, with a message.
    page.go_back()
    page.reload()
    rows.nth(0).get_by_label("Until (Europe/Berlin)").fill("14:00")
    page.get_by_role("button", name="Save opening hours").click()
    expect(page.get_by_text("Nothing was saved.")).to_be_visible()
    expect(page.get_by_text(re.compile("overlaps")).first).to_be_visible()
    page.screenshots.take("overlap-refused")
