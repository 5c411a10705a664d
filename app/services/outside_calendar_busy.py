"""The busy times in an iCal file: its events laid out between two moments, in UTC.

Recurring events are expanded by ``recurring-ical-events`` (RRULE, RDATE, EXDATE, moved or
cancelled instances by RECURRENCE-ID, VTIMEZONE definitions and Google's X-WR-TIMEZONE).
What counts as busy:

- every event but those marked free (``TRANSP:TRANSPARENT``) or cancelled
  (``STATUS:CANCELLED``, a whole series or one instance);
- an all-day event blocks its whole days on the provider's calendar (its zone's
  midnights), as a day off would;
- a time without a zone (floating) is a time on the provider's clock;
- overlapping and back-to-back times are joined; at most ``cap`` are kept, the earliest.

Pure: no database, no clock; the caller gives the zone and the window.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import recurring_ical_events
from icalendar import Calendar

from app.services.agenda import zone_of

# Occurrences come in order of their start as the library compares them; floating and
# all-day ones may compare up to a day away from their place on the provider's clock.
ORDER_SLACK = timedelta(days=2)


class CalendarUnreadable(Exception):
    """The file is not an iCal calendar that can be read; ``message`` says so in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BusyTimes:
    intervals: list[tuple[datetime, datetime]]  # UTC, half open, sorted, disjoint
    capped: bool  # more were in the window than were kept


def busy_times(body: bytes, *, zone: str, start: datetime, end: datetime,
               cap: int) -> BusyTimes:
    """The busy times of the calendar ``body`` that overlap [start, end)."""
    calendar = _calendar(body)
    provider_zone = zone_of(zone)
    found: list[tuple[datetime, datetime]] = []
    capped = False
    try:
        for event in recurring_ical_events.of(calendar, skip_bad_series=True).after(start):
            if not _blocks(event):
                continue
            begins = _utc(event.get("DTSTART"), provider_zone)
            ends = _utc(event.get("DTEND"), provider_zone)
            if begins is None:
                continue
            if begins >= end + ORDER_SLACK:
                break
            if ends is None or ends <= begins or begins >= end or ends <= start:
                continue
            if len(found) >= cap:
                capped = True
                break
            found.append((begins, ends))
    except CalendarUnreadable:
        raise
    except Exception as exc:  # the library's errors, and icalendar's on odd values
        raise CalendarUnreadable("The calendar's events could not be read "
                                 f"({_short(exc)}).") from exc
    return BusyTimes(_joined(found), capped)


def _calendar(body: bytes) -> Calendar:
    body = (body or b"").lstrip(b"\xef\xbb\xbf \t\r\n")  # Outlook's files may start with a BOM
    if not body[:15].upper().startswith(b"BEGIN:VCALENDAR"):
        raise CalendarUnreadable("The address did not answer with a calendar (an iCal file); "
                                 "check that it is the calendar's iCal address.")
    try:
        calendar = Calendar.from_ical(body)
    except Exception as exc:  # icalendar raises ValueError and others on broken files
        raise CalendarUnreadable(f"The calendar file is broken ({_short(exc)}).") from exc
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise CalendarUnreadable("The address did not answer with a calendar (an iCal file).")
    return calendar


def _blocks(event) -> bool:
    transparency = str(event.get("TRANSP", "OPAQUE")).upper()
    status = str(event.get("STATUS", "")).upper()
    return transparency != "TRANSPARENT" and status != "CANCELLED"


def _utc(prop, provider_zone) -> datetime | None:
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating: the provider's clock
            value = value.replace(tzinfo=provider_zone)
        return value.astimezone(timezone.utc)
    if isinstance(value, date):  # all day: from that day's midnight on the provider's clock
        return datetime.combine(value, time(0), provider_zone).astimezone(timezone.utc)
    return None


def _joined(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    joined: list[tuple[datetime, datetime]] = []
    for begins, ends in sorted(intervals):
        if joined and begins <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], ends))
        else:
            joined.append((begins, ends))
    return joined


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "…"
