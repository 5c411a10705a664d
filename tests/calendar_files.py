"""iCal files for the outside-calendar tests, built rather than pasted, and the settings
that let the app fetch from the local calendar server."""
from __future__ import annotations

from datetime import date, datetime

# America/New_York as Google and Outlook write it (the rules since 2007).
NEW_YORK = """BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE"""


def _value(name: str, moment, zone: str | None) -> str:
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:  # UTC
            return f"{name}:{moment.strftime('%Y%m%dT%H%M%SZ')}"
        prefix = f"{name};TZID={zone}" if zone else name  # a zone, or floating
        return f"{prefix}:{moment.strftime('%Y%m%dT%H%M%S')}"
    assert isinstance(moment, date)
    return f"{name};VALUE=DATE:{moment.strftime('%Y%m%d')}"


def event(uid: str, start, end, *, zone: str | None = None, rrule: str | None = None,
          exdates=(), recurrence_id=None, summary: str = "Busy", **properties) -> str:
    """A VEVENT: ``start``/``end`` naive (in ``zone``, or floating), aware (UTC) or dates
    (all day); ``properties`` added as they are (``transp="TRANSPARENT"``)."""
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20300101T000000Z",
             _value("DTSTART", start, zone), _value("DTEND", end, zone),
             f"SUMMARY:{summary}"]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines += [_value("EXDATE", moment, zone) for moment in exdates]
    if recurrence_id is not None:
        lines.append(_value("RECURRENCE-ID", recurrence_id, zone))
    lines += [f"{name.upper().replace('_', '-')}:{value}" for name, value in properties.items()]
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


def calendar_file(*events: str, timezones: tuple[str, ...] = (NEW_YORK,),
                  headers: tuple[str, ...] = ()) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Bookwell tests//EN",
                        *headers, *timezones, *events, "END:VCALENDAR", ""])


def allow_local_calendars(app, monkeypatch, **settings) -> None:
    """Calendars may be fetched from 127.0.0.1 (the test server), with short timeouts."""
    values = {"OUTSIDE_CALENDAR_ALLOWED_HOSTS": ("127.0.0.1",),
              "OUTSIDE_CALENDAR_CONNECT_TIMEOUT": 2.0, "OUTSIDE_CALENDAR_READ_TIMEOUT": 2.0}
    values.update(settings)
    for name, value in values.items():
        monkeypatch.setitem(app.config, name, value)


def run_calendar_jobs(app) -> None:
    """With Redis, work the queue the fetch job runs on; inline it has run already."""
    if app.config.get("REDIS_URL"):
        from rq import SimpleWorker

        from app import jobqueue
        from app.redis import redis_client

        SimpleWorker([jobqueue.get_queue("integrations")],
                     connection=redis_client()).work(burst=True)
