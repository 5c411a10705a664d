"""A resource's outside calendars in the console: listed on its page with the address
masked, how the last fetch went in words and the next busy times on the provider's clock;
added, fetched now and removed from there; bad input is an error next to the field;
another provider's resource or calendar is a 404; imported busy times are not time off."""
from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ResourceBusy, ResourceCalendar
from app.services import outside_calendars, resources
from app.services.scopes import Scope
from tests.calendar_files import allow_local_calendars, calendar_file, event, run_calendar_jobs
from tests.fakes.calendar_server import CalendarServer, Reply
from tests.views.console import page_text, signed_in


def text_of(response) -> str:
    return html.unescape(page_text(response))

# Two days ahead at 09:00 UTC: 10:00 or 11:00 in Berlin, whatever the season.
SOON = (datetime.now(timezone.utc) + timedelta(days=2)).replace(hour=9, minute=0, second=0,
                                                                 microsecond=0)


@pytest.fixture
def calendar_server(app, monkeypatch):
    allow_local_calendars(app, monkeypatch)
    with CalendarServer() as server:
        server.route("/anna.ics", Reply(body=calendar_file(
            event("a@example.com", SOON, SOON + timedelta(hours=1)))))
        yield server


def _resource(provider_id: int, name: str) -> int:
    return resources.create_resource(scope=Scope.of_provider(provider_id), name=name).id


def _calendars() -> list[ResourceCalendar]:
    db.session.expire_all()
    return list(db.session.scalars(select(ResourceCalendar).order_by(ResourceCalendar.id)))


def test_staff_add_see_fetch_and_remove_a_calendar(app, tenant_a, calendar_server):
    anna = _resource(tenant_a.provider_id, "Anna")  # Alpha Spa is in Berlin
    staff = signed_in(app, tenant_a.staff_email)
    page = text_of(staff.get(f"/resourceview/show/{anna}"))
    assert "Outside calendars" in page and "No outside calendars yet." in page
    assert "Times in Europe/Berlin" in page

    secret = calendar_server.url("/anna.ics")
    added = staff.post(f"/resourceview/calendars/{anna}/add",
                       data={"url": secret, "label": "Anna's Google"})
    assert added.status_code == 302
    assert added.headers["Location"].endswith(f"/resourceview/show/{anna}#outside-calendars")
    run_calendar_jobs(app)
    [calendar] = _calendars()
    page = text_of(staff.get(f"/resourceview/show/{anna}"))
    assert "Anna's Google" in page and "127.0.0.1/…" in page
    assert "/anna.ics" not in page  # the secret part of the address is never shown
    assert "1 busy time in the next 60 days." in page
    local = SOON.astimezone(ZoneInfo("Europe/Berlin"))
    assert f"{local:%H}:00–{local.hour + 1:02d}:00 {local:%Z} (Europe/Berlin)" in page
    assert "Last fetched" in page and "(Europe/Berlin)" in page
    assert "None" not in page

    # Imported busy times are not time off.
    listing = text_of(staff.get(f"/resourcetimeoffview/list/?_flt_0_resource={anna}"))
    assert f"{local:%Y-%m-%d %H:%M}" not in listing
    busy_id = db.session.scalar(select(ResourceBusy.id))
    assert staff.get(f"/resourcetimeoffview/show/{busy_id}").status_code == 404

    calendar_server.route("/anna.ics", Reply(status=404, body=b"gone"))
    fetched = staff.post(f"/resourceview/calendars/{anna}/{calendar.id}/fetch",
                         follow_redirects=True)
    assert fetched.status_code == 200
    run_calendar_jobs(app)
    page = text_of(staff.get(f"/resourceview/show/{anna}"))
    assert "answered 404 Not Found" in page and "Failing" in page
    assert "Keeping the 1 busy time of the last good fetch." in page

    removed = staff.post(f"/resourceview/calendars/{anna}/{calendar.id}/remove",
                         follow_redirects=True)
    assert removed.status_code == 200
    assert "Removed Anna's Google" in text_of(removed)
    assert _calendars() == [] and db.session.scalar(select(ResourceBusy)) is None


def test_bad_input_is_an_error_next_to_the_field(app, tenant_a):
    anna = _resource(tenant_a.provider_id, "Anna")
    staff = signed_in(app, tenant_a.staff_email)
    for url, words in (("", "Paste the calendar's iCal address."),
                       ("ftp://example.com/cal.ics", "An http, https or webcal address"),
                       ("https://exa mple.com/cal.ics", "An address has no spaces.")):
        answer = staff.post(f"/resourceview/calendars/{anna}/add", data={"url": url})
        assert answer.status_code == 200, url
        text = text_of(answer)
        assert words in text and "has-error" in text
        assert "Outside calendars" in text and "Anna" in text  # the resource's page again
    assert staff.post(f"/resourceview/calendars/{anna}/add", data={
        "url": "webcal://calendar.example.com/secret/basic.ics"}).status_code == 302
    taken = staff.post(f"/resourceview/calendars/{anna}/add", data={
        "url": "https://calendar.example.com/secret/basic.ics", "label": "Again"})
    assert taken.status_code == 200 and "Added already." in text_of(taken)
    assert [c.label for c in _calendars()] == ["calendar.example.com"]


def test_another_providers_resource_or_calendar_is_not_found(app, tenant_a, tenant_b):
    anna = _resource(tenant_a.provider_id, "Anna")
    bruno = _resource(tenant_b.provider_id, "Bruno")
    theirs = outside_calendars.add_calendar(bruno, scope=Scope.of_provider(tenant_b.provider_id),
                                            url="https://calendar.example.com/b.ics").id
    staff = signed_in(app, tenant_a.staff_email)
    assert staff.post(f"/resourceview/calendars/{bruno}/add",
                      data={"url": "https://example.com/x.ics"}).status_code == 404
    for pk in (bruno, anna):
        for action in ("fetch", "remove"):
            assert staff.post(f"/resourceview/calendars/{pk}/{theirs}/{action}"
                              ).status_code == 404
    for url in (f"/resourceview/calendars/{2**40}/add",
                f"/resourceview/calendars/{anna}/{2**40}/fetch",
                f"/resourceview/calendars/{2**40}/{theirs}/remove"):
        assert staff.post(url, data={"url": "https://example.com/y.ics"}).status_code == 404
    assert [c.id for c in _calendars()] == [theirs]
    assert "calendar.example.com" not in text_of(staff.get(f"/resourceview/show/{anna}"))


def test_staff_get_the_calendar_actions_through_the_role_sync(app, app_ctx):
    from app.services.roles import PROVIDER

    staff = {(pv.permission.name, pv.view_menu.name)
             for pv in app.appbuilder.sm.find_role(PROVIDER).permissions}
    assert ("can_calendars", "ResourceView") in staff
