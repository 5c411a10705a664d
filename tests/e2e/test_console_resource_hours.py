"""A barber's working hours in Chromium: staff open them from the resources list, set
weekdays and a Saturday in one go on the shop's clock, see a mistake refused whole, and
the list sums the week up."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from app.services import resources
from app.services.scopes import Scope
from tests.e2e.console import sign_in


def test_staff_set_a_barbers_working_hours(page, build):
    provider = build.provider(name="Harbor Barbers", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    resources.create_resource(scope=Scope.of_provider(provider), name="Ada")

    sign_in(page, staff_email)
    page.goto("/resourceview/list/")
    row = page.locator("table.console-list > tbody > tr").filter(has_text="Ada")
    expect(row).to_contain_text("No set hours")
    row.get_by_role("link", name=re.compile("No set hours")).click()
    expect(page).to_have_url(re.compile(r"/weeklyhours/resource/"))
    expect(page.get_by_text("Times in Europe/Berlin").first).to_be_visible()
    expect(page.get_by_label("Slot length (minutes)")).to_have_count(0)

    rows = page.locator("tr.weekly-hours-row")
    first = rows.nth(0)
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        first.get_by_label(day).check()
    first.get_by_label(re.compile("From")).fill("09:00")
    first.get_by_label(re.compile("Until")).fill("17:00")
    second = rows.nth(1)
    second.get_by_label("Mon").check()
    second.get_by_label(re.compile("From")).fill("16:00")
    second.get_by_label(re.compile("Until")).fill("19:00")
    page.screenshots.take("hours-typed")
    page.get_by_role("button", name="Save working hours").click()
    expect(page.get_by_text("Nothing was saved.")).to_be_visible()
    expect(page.get_by_text(re.compile("overlaps"))).to_be_visible()
    page.screenshots.take("hours-refused")

    second = page.locator("tr.weekly-hours-row").nth(1)
    second.get_by_label("Mon").uncheck()
    second.get_by_label("Sat").check()
    second.get_by_label(re.compile("From")).fill("10:00")
    second.get_by_label(re.compile("Until")).fill("14:00")
    page.get_by_role("button", name="Save working hours").click()
    expect(page.get_by_text(re.compile("Hours of Ada saved"))).to_be_visible()
    page.screenshots.take("hours-saved")

    page.goto("/resourceview/list/")
    expect(row).to_contain_text("Mon–Fri 09:00–17:00 · Sat 10:00–14:00")
    page.screenshots.take("resources-with-hours")
