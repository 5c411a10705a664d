"""The busy times in an iCal file: which events count, on whose clock, joined and capped."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.services.outside_calendar_busy import CalendarUnreadable, busy_times
from tests.calendar_files import calendar_file, event

UTC = timezone.utc
START, END = datetime(2030, 6, 1, tzinfo=UTC), datetime(2030, 8, 1, tzinfo=UTC)


def busy(body: str | bytes, *, zone="Europe/Berlin", cap=100):
    data = body.encode() if isinstance(body, str) else body
    return busy_times(data, zone=zone, start=START, end=END, cap=cap)


def at(day, hour, minute=0):
    return datetime(2030, 6, day, hour, minute, tzinfo=UTC)


def test_overlapping_and_back_to_back_times_are_joined():
    found = busy(calendar_file(
        event("a", at(3, 8), at(3, 9)), event("b", at(3, 8, 30), at(3, 10)),
        event("c", at(3, 10), at(3, 11)), event("d", at(3, 12), at(3, 13))))
    assert found.intervals == [(at(3, 8), at(3, 11)), (at(3, 12), at(3, 13))]
    assert not found.capped


def test_only_times_in_the_window_and_only_up_to_the_cap():
    found = busy(calendar_file(
        event("past", datetime(2030, 5, 1, 8, tzinfo=UTC), datetime(2030, 5, 1, 9, tzinfo=UTC)),
        event("daily", at(2, 8), at(2, 9), rrule="FREQ=DAILY"),
        event("late", datetime(2030, 9, 1, 8, tzinfo=UTC), datetime(2030, 9, 1, 9, tzinfo=UTC))),
        cap=5)
    assert found.intervals == [(at(day, 8), at(day, 9)) for day in range(2, 7)]
    assert found.capped
    every_day = busy(calendar_file(event("daily", at(2, 8), at(2, 9), rrule="FREQ=DAILY")),
                     cap=1000)
    assert len(every_day.intervals) == 60 and not every_day.capped  # 2 June – 31 July


def test_an_all_day_event_is_the_whole_day_on_the_providers_calendar():
    for zone, first in (("Europe/Berlin", at(9, 22)), ("America/New_York", at(10, 4))):
        found = busy(calendar_file(event("day", date(2030, 6, 10), date(2030, 6, 12))),
                     zone=zone)
        assert found.intervals == [(first, first.replace(day=first.day + 2))]


def test_google_calendar_zone_of_the_file_applies_to_its_utc_times():
    # Google writes UTC times and names the calendar's zone in X-WR-TIMEZONE; a
    # recurrence then follows that zone's clock (here over the US change of clocks).
    body = calendar_file(
        event("weekly", datetime(2030, 10, 28, 13, tzinfo=UTC),
              datetime(2030, 10, 28, 14, tzinfo=UTC), rrule="FREQ=WEEKLY;COUNT=2"),
        headers=("X-WR-TIMEZONE:America/New_York",), timezones=())
    found = busy_times(body.encode(), zone="Europe/Berlin",
                       start=datetime(2030, 10, 1, tzinfo=UTC),
                       end=datetime(2030, 12, 1, tzinfo=UTC), cap=10)
    assert found.intervals == [
        (datetime(2030, 10, 28, 13, tzinfo=UTC), datetime(2030, 10, 28, 14, tzinfo=UTC)),
        (datetime(2030, 11, 4, 14, tzinfo=UTC), datetime(2030, 11, 4, 15, tzinfo=UTC))]


def test_a_byte_order_mark_is_no_problem_and_other_files_are_refused():
    assert busy(b"\xef\xbb\xbf" + calendar_file(event("a", at(3, 8), at(3, 9))).encode()
                ).intervals == [(at(3, 8), at(3, 9))]
    for body in (b"", b"<!doctype html><title>Sign in</title>", b"BEGIN:VCALENDAR\r\nnot ical"):
        with pytest.raises(CalendarUnreadable):
            busy(body)
