"""A resource's outside calendars through the API: staff add one (its address masked in
every answer), see how its fetch went, fetch it now and remove it; errors in the documented
shape; another provider's resource or calendar is never found."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ResourceBusy
from tests.calendar_files import allow_local_calendars, calendar_file, event, run_calendar_jobs
from tests.fakes.calendar_server import CalendarServer, Reply
from tests.helpers import api_login, assert_error_shape, bearer


@pytest.fixture
def calendar_server():
    with CalendarServer() as server:
        yield server


@pytest.fixture
def shop(app, build, client, monkeypatch, calendar_server):
    allow_local_calendars(app, monkeypatch)
    provider = build.provider(timezone="Europe/Berlin")

    def headers_of(account_id):
        return bearer(api_login(client, build.email_of(account_id))["access_token"])

    staff = headers_of(build.staff(provider))
    ada = client.post("/api/v1/provider/resources", json={"name": "Ada"}, headers=staff).json
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).replace(
        minute=0, second=0, microsecond=0)
    calendar_server.route("/ada.ics", Reply(body=calendar_file(
        event("a@example.com", tomorrow, tomorrow + timedelta(hours=1)),
        event("b@example.com", tomorrow + timedelta(days=1),
              tomorrow + timedelta(days=1, hours=2)))))
    return {"provider": provider, "staff": staff, "ada": ada["id"], "headers_of": headers_of,
            "tomorrow": tomorrow, "url": calendar_server.url("/ada.ics")}


def calendars_of(client, shop, resource_id=None, headers=None):
    return client.get(f"/api/v1/provider/resources/{resource_id or shop['ada']}/calendars",
                      headers=headers or shop["staff"])


def test_staff_add_fetch_and_remove_a_calendar(app, client, shop, calendar_server):
    added = client.post(f"/api/v1/provider/resources/{shop['ada']}/calendars",
                        json={"url": shop["url"], "label": "Ada's Google"},
                        headers=shop["staff"])
    assert added.status_code == 201, added.json
    body = added.json
    assert "url" not in body and "/ada.ics" not in str(body)  # the secret is never shown
    assert (body["label"], body["address"]) == ("Ada's Google", "127.0.0.1/…")
    run_calendar_jobs(app)

    [listed] = calendars_of(client, shop).json
    assert (listed["status"], listed["status_text"], listed["busy_count"]) == (
        "ok", "OK · 2 busy times", 2)
    assert listed["last_error"] is None and listed["failures"] == 0
    first = listed["next_busy"][0]
    assert datetime.fromisoformat(first["starts_at"]) == shop["tomorrow"]
    assert datetime.fromisoformat(first["ends_at"]) == shop["tomorrow"] + timedelta(hours=1)

    calendar_server.route("/ada.ics", Reply(status=404, body=b"gone"))
    refreshed = client.post(
        f"/api/v1/provider/resources/{shop['ada']}/calendars/{listed['id']}/refresh",
        headers=shop["staff"])
    assert refreshed.status_code == 202, refreshed.json
    run_calendar_jobs(app)
    [failing] = calendars_of(client, shop).json
    assert failing["status"] == "failing" and failing["failures"] == 1
    assert failing["last_error"].startswith("The calendar's server answered 404 Not Found")
    assert failing["busy_count"] == 2 and len(failing["next_busy"]) == 2  # kept

    gone = client.delete(f"/api/v1/provider/resources/{shop['ada']}/calendars/{listed['id']}",
                         headers=shop["staff"])
    assert gone.status_code == 204
    assert calendars_of(client, shop).json == []
    assert db.session.scalar(select(func.count()).select_from(ResourceBusy)) == 0


def test_errors_are_in_the_documented_shape(client, shop):
    path = f"/api/v1/provider/resources/{shop['ada']}/calendars"
    bad = client.post(path, json={"url": "ftp://example.com/cal.ics"}, headers=shop["staff"])
    body = assert_error_shape(bad, 422, "resource_calendar.invalid_address")
    assert "webcal" in body["errors"]["url"][0]
    missing = client.post(path, json={"label": "No address"}, headers=shop["staff"])
    assert_error_shape(missing, 422)
    webcal = client.post(path, json={"url": "webcal://calendar.example.com/s3cret/basic.ics"},
                         headers=shop["staff"])
    assert webcal.status_code == 201
    assert webcal.json["address"] == "calendar.example.com/…"
    assert webcal.json["label"] == "calendar.example.com"
    again = client.post(path, json={"url": "https://calendar.example.com/s3cret/basic.ics"},
                        headers=shop["staff"])
    assert_error_shape(again, 409, "resource_calendar.taken")


def test_another_providers_resources_and_calendars_are_not_found(client, build, shop):
    path = f"/api/v1/provider/resources/{shop['ada']}/calendars"
    calendar_id = client.post(path, json={"url": "https://calendar.example.com/a.ics"},
                              headers=shop["staff"]).json["id"]
    other_provider = build.provider()
    stranger = shop["headers_of"](build.staff(other_provider))
    eve = client.post("/api/v1/provider/resources", json={"name": "Eve"},
                      headers=stranger).json["id"]
    assert_error_shape(calendars_of(client, shop, headers=stranger), 404,
                       "resource.not_found")
    assert_error_shape(client.post(path, json={"url": "https://example.com/b.ics"},
                                   headers=stranger), 404)
    for resource_id, headers in ((shop["ada"], stranger), (eve, stranger),
                                 (eve, shop["staff"])):
        item = f"/api/v1/provider/resources/{resource_id}/calendars/{calendar_id}"
        assert_error_shape(client.delete(item, headers=headers), 404)
        assert_error_shape(client.post(f"{item}/refresh", headers=headers), 404)
    assert len(calendars_of(client, shop).json) == 1

    customer = shop["headers_of"](build.customer())
    assert_error_shape(calendars_of(client, shop, headers=customer), 403)
    assert_error_shape(client.get(path), 401)
