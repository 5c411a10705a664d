"""Resources in Chromium: a barbershop's staff add a barber, give them time off on the
shop's clock, and link them to a service with buffers around each booking."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.console import sign_in


def test_staff_add_a_barber_give_time_off_and_link_a_service(page, build):
    provider = build.provider(name="Harbor Barbers", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    fade = build.offering(provider, name="Skin fade", price_minor=3500, duration_minutes=45)
    other = build.provider(name="Beta Barbers")
    build.offering(other, name="Beard trim")

    sign_in(page, staff_email)
    # The menu opens by script: a click before the page's scripts have run opens nothing.
    page.wait_for_load_state("load")
    page.get_by_role("link", name="Catalog").click()
    page.get_by_role("link", name="Resources").click()
    expect(page).to_have_url(re.compile(r"/resourceview/list/"))
    page.goto("/resourceview/add")
    expect(page.locator("#provider")).to_have_count(0)  # staff never pick a provider
    page.get_by_role("textbox", name="Name *").fill("Ada")
    page.screenshots.take("add-a-barber")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page).to_have_url(re.compile(r"/resourceview/list/"))
    row = page.locator("table.console-list > tbody > tr").filter(has_text="Ada")
    expect(row).to_contain_text("Staff member")
    expect(row).to_contain_text("Yes")
    page.screenshots.take("resources")

    # The same name again is an error next to the field; nothing is added.
    page.goto("/resourceview/add")
    page.get_by_role("textbox", name="Name *").fill("Ada")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_text("There is a resource called “Ada” already.")).to_be_visible()
    page.screenshots.take("name-taken")

    page.goto("/resourceview/list/")
    row.get_by_role("link", name="Time off").click()
    expect(page).to_have_url(re.compile(r"/resourcetimeoffview/list/"))
    page.goto("/resourcetimeoffview/add")
    expect(page.get_by_text("Times in Europe/Berlin").first).to_be_visible()
    page.get_by_label("From").fill("2031-07-15T09:00")
    page.get_by_label("Until").fill("2031-07-15T08:00")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_text("The end must be after the start.")).to_be_visible()
    page.get_by_label("Until").fill("2031-07-15T13:30")
    page.get_by_label("Reason").fill("Dentist")
    page.screenshots.take("time-off-typed")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page).to_have_url(re.compile(r"/resourcetimeoffview/list/"))
    time_off = page.locator("table.console-list > tbody > tr").filter(has_text="Dentist")
    expect(time_off).to_contain_text("2031-07-15 09:00 CEST")
    expect(time_off).to_contain_text("2031-07-15 13:30 CEST")
    expect(time_off).to_contain_text("Ada")
    page.screenshots.take("time-off")

    page.goto(f"/offeringview/edit/{fade}")
    expect(page.get_by_text("Customers do not see it").first).to_be_visible()
    page.locator("#resources + .select2 .select2-search__field").click()
    options = page.locator(".select2-results__option")
    expect(options).to_have_text(["Ada"])  # their own resources only
    options.filter(has_text="Ada").click()
    page.get_by_label("Buffer before (minutes)").fill("5")
    page.get_by_label("Buffer after (minutes)").fill("10")
    page.locator("#buffer_after_minutes").scroll_into_view_if_needed()
    page.screenshots.take("done-by-and-buffers")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page).to_have_url(re.compile(r"/offeringview/list/"))
    expect(page.get_by_role("cell", name="Skin fade")).to_be_visible()

    page.goto(f"/offeringview/show/{fade}")
    expect(page.get_by_role("row").filter(has_text="Done by")).to_contain_text("Ada")
    expect(page.get_by_role("row").filter(has_text="Buffer after")).to_contain_text("10")
    page.screenshots.take("offering-shown")

    page.goto("/resourceview/list/")
    expect(page.locator("table.console-list > tbody > tr").filter(has_text="Ada")) \
        .to_contain_text("Skin fade")
    page.screenshots.take("barber-does-the-fade")
