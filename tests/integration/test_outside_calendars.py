"""Outside calendars of a resource, fetched from a local HTTP server: recurring events with
exceptions in another zone become busy times that hide and refuse the resource's times;
a timeout, a 404, a huge body or a broken file is stored on the calendar in words and keeps
the busy times of the last good fetch; an unchanged calendar (ETag) is not read again;
private and loopback addresses are refused unless allowed."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import ResourceBusy, ResourceCalendar
from app.services import bookings, free_times, outside_calendars, resources
from app.services.scopes import Scope
from tests.calendar_files import (
    allow_local_calendars,
    calendar_file,
    event,
    run_calendar_jobs,
)
from tests.fakes.calendar_server import CalendarServer, Reply, huge, redirect

UTC = timezone.utc
NOW = datetime(2030, 6, 1, 6, 0, tzinfo=UTC)
TEN = datetime(2030, 6, 4, 8, 0, tzinfo=UTC)  # Tuesday 10:00 in Berlin, 04:00 in New York
WEEK = timedelta(days=7)


def weekly_in_new_york() -> str:
    """Tuesdays 04:00–05:00 New York time for four weeks; not on 11 June; on 18 June moved
    to 06:00–07:00."""
    return calendar_file(
        event("weekly@example.com", datetime(2030, 6, 4, 4), datetime(2030, 6, 4, 5),
              zone="America/New_York", rrule="FREQ=WEEKLY;COUNT=4",
              exdates=[datetime(2030, 6, 11, 4)]),
        event("weekly@example.com", datetime(2030, 6, 18, 6), datetime(2030, 6, 18, 7),
              zone="America/New_York", recurrence_id=datetime(2030, 6, 18, 4),
              summary="Moved"),
        event("free@example.com", datetime(2030, 6, 5, 8, tzinfo=UTC),
              datetime(2030, 6, 5, 9, tzinfo=UTC), transp="TRANSPARENT"),
        event("cancelled@example.com", datetime(2030, 6, 6, 8, tzinfo=UTC),
              datetime(2030, 6, 6, 9, tzinfo=UTC), status="CANCELLED"))


@pytest.fixture
def calendar_server():
    with CalendarServer() as server:
        yield server


@pytest.fixture
def shop(app, build, monkeypatch):
    """A Berlin barbershop whose one barber, Ada, keeps her appointments in a New York
    calendar."""
    allow_local_calendars(app, monkeypatch)
    provider = build.provider(timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada").id
    cut = build.offering(provider, name="Cut", price_minor=3000)
    resources.set_offering_resources(cut, [ada], scope=scope)
    return {"provider": provider, "scope": scope, "ada": ada, "cut": cut}


def subscribe(shop, server, path, body=None, **reply) -> int:
    if body is not None:
        server.route(path, Reply(body=body, **reply))
    calendar = outside_calendars.add_calendar(shop["ada"], scope=shop["scope"],
                                              url=server.url(path), label="Ada's calendar")
    return calendar.id


def busy_rows(calendar_id=None) -> list[tuple[datetime, datetime]]:
    db.session.expire_all()
    query = select(ResourceBusy.starts_at, ResourceBusy.ends_at).order_by(ResourceBusy.starts_at)
    if calendar_id is not None:
        query = query.where(ResourceBusy.calendar_id == calendar_id)
    return [tuple(row) for row in db.session.execute(query)]


def calendar(calendar_id) -> ResourceCalendar:
    db.session.expire_all()
    return db.session.get(ResourceCalendar, calendar_id)


def listed(shop, day: date) -> list[int]:
    return [t.slot_id for t in free_times.free_times_on(shop["cut"], day=day, now=NOW).times]


def test_recurring_events_in_another_zone_block_the_resource(build, shop, calendar_server):
    calendar_id = subscribe(shop, calendar_server, "/ada.ics", weekly_in_new_york())
    assert outside_calendars.refresh(calendar_id, now=NOW) == outside_calendars.UPDATED

    # 04:00 New York (EDT, UTC-4) is 08:00 UTC, 10:00 in Berlin; the moved one 10:00 UTC.
    hour = timedelta(hours=1)
    assert busy_rows(calendar_id) == [(TEN, TEN + hour),
                                      (TEN + 2 * WEEK + 2 * hour, TEN + 2 * WEEK + 3 * hour),
                                      (TEN + 3 * WEEK, TEN + 3 * WEEK + hour)]
    row = calendar(calendar_id)
    assert (row.busy_count, row.last_error, row.failures) == (3, None, 0)
    assert outside_calendars.state_of(row).words == "OK · 3 busy times"

    slots = {name: build.slot(shop["cut"], moment, capacity=5) for name, moment in {
        "first": TEN, "skipped": TEN + WEEK, "moved_from": TEN + 2 * WEEK,
        "moved_to": TEN + 2 * WEEK + 2 * hour, "last": TEN + 3 * WEEK}.items()}
    assert listed(shop, date(2030, 6, 4)) == []
    assert listed(shop, date(2030, 6, 11)) == [slots["skipped"]]  # the EXDATE'd week
    assert listed(shop, date(2030, 6, 18)) == [slots["moved_from"]]
    assert listed(shop, date(2030, 6, 25)) == []

    for busy in ("first", "moved_to", "last"):
        with pytest.raises(Conflict) as refused:
            bookings.place_booking(customer_id=build.customer(), offering_id=shop["cut"],
                                   slot_id=slots[busy])
        assert refused.value.code == "booking.resource_busy"
    for free in ("skipped", "moved_from"):
        assert bookings.place_booking(customer_id=build.customer(), offering_id=shop["cut"],
                                      slot_id=slots[free]).reference

    # Imported busy times are not time off: not listed, not deletable by hand.
    assert resources.list_time_off(shop["ada"], scope=shop["scope"]) == []
    imported = db.session.scalar(select(ResourceBusy.id).where(
        ResourceBusy.calendar_id == calendar_id))
    with pytest.raises(NotFound):
        resources.delete_time_off(imported, scope=shop["scope"])

    # Removed: its busy times go and the time is free again.
    outside_calendars.remove_calendar(shop["ada"], calendar_id, scope=shop["scope"])
    assert busy_rows() == []
    assert listed(shop, date(2030, 6, 25)) == [slots["last"]]


def test_all_day_floating_and_cancelled_events(shop, calendar_server):
    body = calendar_file(
        # All day: the whole day on the provider's (Berlin's) calendar.
        event("holiday@example.com", date(2030, 6, 10), date(2030, 6, 11)),
        # Floating: 09:00 on the provider's clock.
        event("floating@example.com", datetime(2030, 6, 12, 9), datetime(2030, 6, 12, 10)),
        # One cancelled instance of a daily series.
        event("daily@example.com", datetime(2030, 6, 13, 12, tzinfo=UTC),
              datetime(2030, 6, 13, 13, tzinfo=UTC), rrule="FREQ=DAILY;COUNT=2"),
        event("daily@example.com", datetime(2030, 6, 14, 12, tzinfo=UTC),
              datetime(2030, 6, 14, 13, tzinfo=UTC),
              recurrence_id=datetime(2030, 6, 14, 12, tzinfo=UTC), status="CANCELLED"))
    calendar_id = subscribe(shop, calendar_server, "/mixed.ics", body)
    outside_calendars.refresh(calendar_id, now=NOW)
    assert busy_rows(calendar_id) == [
        (datetime(2030, 6, 9, 22, tzinfo=UTC), datetime(2030, 6, 10, 22, tzinfo=UTC)),
        (datetime(2030, 6, 12, 7, tzinfo=UTC), datetime(2030, 6, 12, 8, tzinfo=UTC)),
        (datetime(2030, 6, 13, 12, tzinfo=UTC), datetime(2030, 6, 13, 13, tzinfo=UTC))]


@pytest.mark.parametrize("failure, reply, words", [
    ("timeout", Reply(body=weekly_in_new_york(), delay=3), "did not answer within"),
    ("404", Reply(status=404, body=b"Not found"), "answered 404 Not Found"),
    ("huge, announced", huge(300 * 1024, send_length=True), "larger than 256 KB"),
    ("huge, streamed", huge(5 * 1024 * 1024), "larger than 256 KB"),
    ("not a calendar", Reply(body=b"<html><body>Sign in</body></html>"),
     "did not answer with a calendar"),
    ("broken", Reply(body=b"BEGIN:VCALENDAR\r\nthis is no content line\r\nEND:VCALENDAR\r\n"),
     "The calendar file is broken"),
])
def test_a_failed_fetch_keeps_the_busy_times_and_says_why(app, shop, calendar_server,
                                                         monkeypatch, failure, reply, words):
    allow_local_calendars(app, monkeypatch, OUTSIDE_CALENDAR_READ_TIMEOUT=0.5,
                          OUTSIDE_CALENDAR_MAX_BYTES=256 * 1024)
    calendar_id = subscribe(shop, calendar_server, "/ada.ics", weekly_in_new_york())
    outside_calendars.refresh(calendar_id, now=NOW)
    before = busy_rows(calendar_id)
    assert len(before) == 3

    calendar_server.route("/ada.ics", reply)
    later = NOW + timedelta(days=2)  # read in full again, not asked "if changed"
    assert outside_calendars.refresh(calendar_id, now=later) == outside_calendars.FAILED
    row = calendar(calendar_id)
    assert words in row.last_error, row.last_error
    assert (row.failures, row.fetched_at, row.last_success_at) == (1, later, NOW)
    assert busy_rows(calendar_id) == before
    state = outside_calendars.state_of(row)
    assert state.status == "failing"
    assert state.words.endswith("Keeping the 3 busy times of the last good fetch.")
    # The next try waits longer after each failure in a row.
    assert row.next_fetch_at == later + timedelta(minutes=15)
    outside_calendars.refresh(calendar_id, now=later + timedelta(hours=1))
    assert calendar(calendar_id).next_fetch_at == later + timedelta(hours=1, minutes=30)


def test_an_unchanged_calendar_is_not_read_again(shop, calendar_server, monkeypatch):
    calendar_id = subscribe(shop, calendar_server, "/ada.ics", weekly_in_new_york(),
                            etag='"v1"')
    outside_calendars.refresh(calendar_id, now=NOW)
    assert calendar(calendar_id).etag == '"v1"'

    def never(*args, **kwargs):
        raise AssertionError("an unchanged calendar is read again")

    read = outside_calendars.busy_times
    monkeypatch.setattr(outside_calendars, "busy_times", never)
    soon = NOW + timedelta(minutes=20)
    assert outside_calendars.refresh(calendar_id, now=soon) == outside_calendars.UNCHANGED
    assert calendar_server.requests_to("/ada.ics")[-1].headers["If-None-Match"] == '"v1"'
    row = calendar(calendar_id)
    assert (row.last_success_at, row.parsed_at, row.busy_count) == (soon, NOW, 3)
    assert len(busy_rows(calendar_id)) == 3

    # A day on, the window has moved: it is read in full, without asking.
    monkeypatch.setattr(outside_calendars, "busy_times", read)
    assert outside_calendars.refresh(calendar_id, now=NOW + timedelta(days=1, minutes=1)) \
        == outside_calendars.UPDATED
    assert "If-None-Match" not in calendar_server.requests_to("/ada.ics")[-1].headers


def test_private_and_loopback_addresses_are_refused_unless_allowed(app, shop, calendar_server,
                                                                  monkeypatch):
    allow_local_calendars(app, monkeypatch, OUTSIDE_CALENDAR_ALLOWED_HOSTS=())
    calendar_server.route("/ada.ics", Reply(body=weekly_in_new_york()))
    loopback = subscribe(shop, calendar_server, "/ada.ics")
    private = outside_calendars.add_calendar(shop["ada"], scope=shop["scope"],
                                             url="http://10.20.30.40/ada.ics").id
    named = outside_calendars.add_calendar(
        shop["ada"], scope=shop["scope"],
        url=calendar_server.url("/ada.ics", host="localhost")).id
    requests_before = len(calendar_server.requests)
    for calendar_id, address in ((loopback, "127.0.0.1"), (private, "10.20.30.40"),
                                 (named, "127.0.0.1")):
        assert outside_calendars.refresh(calendar_id, now=NOW) == outside_calendars.FAILED
        error = calendar(calendar_id).last_error
        assert "private or local network" in error and address in error, error
    assert len(calendar_server.requests) == requests_before  # never connected
    assert busy_rows() == []

    # Allowed by address (or network) for the local server; a redirect is checked again.
    allow_local_calendars(app, monkeypatch, OUTSIDE_CALENDAR_ALLOWED_HOSTS=("127.0.0.0/8",))
    assert outside_calendars.refresh(loopback, now=NOW) == outside_calendars.UPDATED
    calendar_server.route("/moved.ics", redirect("http://10.20.30.40/ada.ics"))
    moved = subscribe(shop, calendar_server, "/moved.ics")
    assert outside_calendars.refresh(moved, now=NOW) == outside_calendars.FAILED
    assert "10.20.30.40" in calendar(moved).last_error
    calendar_server.route("/moved.ics", redirect("/ada.ics", status=301))
    assert outside_calendars.refresh(moved, now=NOW) == outside_calendars.UPDATED


def test_addresses_are_checked_and_calendars_are_the_providers_own(build, shop,
                                                                  calendar_server):
    scope = shop["scope"]
    for bad, words in (("", "required"), ("ftp://example.com/a.ics", "http, https or webcal"),
                       ("https://", "http, https or webcal"),
                       ("https://example.com/a b.ics", "no spaces"),
                       ("https://example.com/" + "a" * 2000, "At most 2,000")):
        with pytest.raises(ValidationFailed) as refused:
            outside_calendars.add_calendar(shop["ada"], scope=scope, url=bad)
        assert refused.value.code == "resource_calendar.invalid_address"
        assert words in refused.value.errors["url"][0]
    webcal = outside_calendars.add_calendar(
        shop["ada"], scope=scope, url="webcal://calendar.example.com/secret-token/basic.ics")
    assert webcal.url == "https://calendar.example.com/secret-token/basic.ics"
    assert outside_calendars.masked_address(webcal.url) == "calendar.example.com/…"
    assert webcal.label == "calendar.example.com"
    with pytest.raises(Conflict) as twice:
        outside_calendars.add_calendar(shop["ada"], scope=scope, url=webcal.url)
    assert twice.value.code == "resource_calendar.taken"
    for n in range(outside_calendars.MAX_PER_RESOURCE - 1):
        outside_calendars.add_calendar(shop["ada"], scope=scope,
                                       url=f"https://example.com/{n}.ics")
    with pytest.raises(Conflict) as many:
        outside_calendars.add_calendar(shop["ada"], scope=scope, url="https://example.com/x")
    assert many.value.code == "resource_calendar.too_many"

    other = Scope.of_provider(build.provider())
    stranger = resources.create_resource(scope=other, name="Eve").id
    for call in (lambda: outside_calendars.list_calendars(shop["ada"], scope=other),
                 lambda: outside_calendars.add_calendar(shop["ada"], scope=other,
                                                        url="https://example.com/e.ics"),
                 lambda: outside_calendars.remove_calendar(shop["ada"], webcal.id, scope=other),
                 lambda: outside_calendars.request_fetch(shop["ada"], webcal.id, scope=other),
                 lambda: outside_calendars.remove_calendar(stranger, webcal.id, scope=other)):
        with pytest.raises(NotFound):
            call()
    assert db.session.scalar(select(func.count()).select_from(ResourceCalendar)) == 5


def test_the_periodic_job_fetches_what_is_due(app, shop, calendar_server):
    calendar_id = subscribe(shop, calendar_server, "/ada.ics", weekly_in_new_york())
    run_calendar_jobs(app)  # the first fetch, queued by adding it
    db.session.execute(ResourceCalendar.__table__.update().values(next_fetch_at=None))
    db.session.commit()
    fetches = len(calendar_server.requests)
    from app.job_registry import PERIODIC, job

    entry = next(e for e in PERIODIC if e.job == "outside_calendars.fetch_due")
    assert entry.every_seconds == 60
    assert job(entry.job).func() == 1
    run_calendar_jobs(app)
    assert len(calendar_server.requests) == fetches + 1
    row = calendar(calendar_id)
    assert row.next_fetch_at > datetime.now(UTC) + timedelta(minutes=14)
    assert outside_calendars.refresh_due() == 0  # not due again for a while
    assert outside_calendars.refresh_due(now=row.next_fetch_at) == 1
