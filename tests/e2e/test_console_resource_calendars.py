"""Outside calendars in Chromium: a barbershop in Berlin adds its barber's New York calendar
to her page (a wrong address first), sees her busy times on the shop's clock, sees a
failed fetch said in words, and removes the calendar."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from app.services import resources
from app.services.scopes import Scope
from tests.calendar_files import allow_local_calendars, calendar_file, event, run_calendar_jobs
from tests.e2e.console import sign_in
from tests.fakes.calendar_server import CalendarServer, Reply


@pytest.fixture
def calendar_server(app, live_app, monkeypatch):
    for served in (app, live_app):  # the page's app, and the test's (jobs with Redis)
        allow_local_calendars(served, monkeypatch)
    with CalendarServer() as server:
        yield server


def _weekly_new_york_calendar() -> str:
    """Mondays 09:00–10:00 New York time from next week, for four weeks, not the second."""
    today = datetime.now(timezone.utc).date()
    monday = today + timedelta(days=7 - today.weekday())
    start = datetime(monday.year, monday.month, monday.day, 9)
    return calendar_file(event(
        "coaching@example.com", start, start + timedelta(hours=1), zone="America/New_York",
        rrule="FREQ=WEEKLY;COUNT=4", exdates=[start + timedelta(days=7)],
        summary="Coaching (private)"))


def test_staff_add_a_barbers_calendar_and_see_its_busy_times(app, page, build,
                                                             calendar_server):
    provider = build.provider(name="Harbor Barbers", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    ada = resources.create_resource(scope=Scope.of_provider(provider), name="Ada").id
    calendar_server.route("/ada/private-9f3a/basic.ics",
                          Reply(body=_weekly_new_york_calendar()))

    sign_in(page, staff_email)
    # The menu opens by script: a click before the page's scripts have run opens nothing.
    page.wait_for_load_state("load")
    page.get_by_role("link", name="Catalog").click()
    page.get_by_role("link", name="Resources").click()
    page.locator("table.console-list > tbody > tr").filter(has_text="Ada") \
        .get_by_role("link", name=re.compile("Show", re.I)).first.click()
    expect(page).to_have_url(re.compile(rf"/resourceview/show/{ada}"))
    section = page.locator("#outside-calendars")
    expect(section.get_by_text("No outside calendars yet.")).to_be_visible()
    expect(section.get_by_text("Times in Europe/Berlin.", exact=False)).to_be_visible()

    # A wrong kind of address is an error next to the field.
    address = page.get_by_label("Calendar address (iCal)")
    address.fill("ftp://calendar.example.com/ada.ics")
    page.get_by_role("button", name="Add calendar").click()
    expect(page.locator("#outside-calendars .has-error")).to_contain_text(
        "An http, https or webcal address")
    page.screenshots.take("wrong-address")

    page.get_by_label("Calendar address (iCal)").fill(
        calendar_server.url("/ada/private-9f3a/basic.ics"))
    page.get_by_label("Name (optional)").fill("Ada’s coaching calendar")
    page.get_by_role("button", name="Add calendar").click()
    expect(page).to_have_url(re.compile(rf"/resourceview/show/{ada}#outside-calendars"))
    run_calendar_jobs(app)
    page.reload()
    calendar = page.locator(".outside-calendar").filter(has_text="Ada’s coaching calendar")
    expect(calendar).to_contain_text("127.0.0.1/…")
    expect(calendar).to_contain_text("3 busy times in the next 60 days.")
    expect(calendar).not_to_contain_text("private-9f3a")  # the secret part is never shown
    # 09:00 in New York is 15:00 in Berlin (both on summer time or both not, but for a
    # week or two in spring and autumn): the list says which zone either way.
    busy = calendar.locator(".outside-calendar-busy li")
    expect(busy).to_have_count(3)
    expect(busy.first).to_contain_text(re.compile(r"\d\d:00–\d\d:00 CES?T \(Europe/Berlin\)"))
    page.screenshots.take("calendar-added")

    calendar_server.route("/ada/private-9f3a/basic.ics", Reply(status=404, body=b"Gone"))
    calendar.get_by_role("button", name="Fetch now").click()
    # The form's answer first (done at once without a job queue, queued with one): a
    # reload while it is on its way would leave the page between two documents.
    expect(page.get_by_text(re.compile(r"Fetch(ed|ing) Ada’s coaching calendar"))) \
        .to_be_visible()
    run_calendar_jobs(app)
    page.reload()
    calendar = page.locator(".outside-calendar").filter(has_text="Ada’s coaching calendar")
    expect(calendar).to_contain_text("Failing")
    expect(calendar).to_contain_text("answered 404 Not Found: the address may have been "
                                     "reset, removed or made private.")
    expect(calendar).to_contain_text("Keeping the 3 busy times of the last good fetch.")
    page.screenshots.take("fetch-failed")

    calendar.get_by_role("button", name=re.compile("Remove")).click()
    expect(page.get_by_text("Removed Ada’s coaching calendar")).to_be_visible()
    expect(page.locator(".outside-calendar")).to_have_count(0)
    page.screenshots.take("calendar-removed")
