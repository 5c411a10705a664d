"""Outside calendars of a resource: busy times from iCal addresses block its time.

Staff add a calendar's iCal address (a Google or Outlook "secret address") to a resource.
The job ``outside_calendars.fetch`` reads it: the gateway fetches it
(:mod:`app.gateways.calendar_fetch`: timeouts, a size limit, no private addresses, the
last answer's ETag), :mod:`app.services.outside_calendar_busy` lays its events out from
now to ``SLOT_DAYS_AHEAD`` days ahead, and the calendar's busy times (``resource_busy``
rows with its ``calendar_id``) are replaced by them in one transaction. Those rows block
the resource like time off (:mod:`app.services.resource_time`); they are never edited by
hand and are not listed as time off.

A fetch that fails keeps the busy times of the last good one and stores what went wrong,
in words, on the calendar: nothing is raised to a page or to the job queue. Calendars are
fetched again every ``OUTSIDE_CALENDAR_REFRESH_MINUTES`` (``refresh_due``, periodic),
later after failures in a row, and at once on "Fetch now" (``request_fetch``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app import jobqueue
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.gateways import calendar_fetch
from app.models import Provider, ResourceBusy, ResourceCalendar
from app.models.resource_calendars import ERROR_LENGTH, LABEL_LENGTH, URL_LENGTH
from app.models.types import utcnow
from app.services import audit, validation
from app.services.cache import bump_catalog_generation
from app.services.outside_calendar_busy import CalendarUnreadable, busy_times
from app.services.resources import get_resource
from app.services.scopes import SYSTEM, Scope, require_scope
from app.services.tenancy import get_owned
from app.services.transactions import after_commit, unit_of_work

log = logging.getLogger(__name__)

JOB = "outside_calendars.fetch"
MAX_PER_RESOURCE = 5
BATCH = 100  # calendars handed to the fetch job per periodic run
FULL_READ_EVERY = timedelta(days=1)  # even when unchanged: the window moves on
MAX_BACKOFF = 8  # failures in a row wait at most this many intervals
UPDATED, UNCHANGED, FAILED, SKIPPED = "updated", "unchanged", "failed", "skipped"
ADDRESS_ERROR = "resource_calendar.invalid_address"


# --- what staff do ---------------------------------------------------------------------------

def list_calendars(resource_id: int, *, scope: Scope) -> list[ResourceCalendar]:
    resource = get_resource(resource_id, scope=scope)
    return list(db.session.scalars(select(ResourceCalendar).where(
        ResourceCalendar.resource_id == resource.id).order_by(ResourceCalendar.id)))


def get_calendar(resource_id: int, calendar_id: int, *, scope: Scope) -> ResourceCalendar:
    """One of the resource's calendars; another resource's or provider's is NotFound."""
    calendar = get_owned(ResourceCalendar, calendar_id, scope=require_scope(scope),
                         label="resource_calendar")
    if calendar.resource_id != resource_id:
        raise NotFound("resource_calendar.not_found",
                       f"No outside calendar with id {calendar_id} for this resource.")
    return calendar


def add_calendar(resource_id: int, *, scope: Scope, url: str,
                 label: str = "") -> ResourceCalendar:
    """Subscribe the resource to a calendar's iCal address; it is fetched at once (inline
    without a job queue, so its status is known when this returns)."""
    resource = get_resource(resource_id, scope=scope)
    address = normalised_url(url)
    label = " ".join((label or "").split())[:LABEL_LENGTH] or default_label(address)
    taken = Conflict("resource_calendar.taken", "This calendar is added already.",
                     {"url": ["Added already."]})
    mine = select(ResourceCalendar.url).where(ResourceCalendar.resource_id == resource.id)
    existing = list(db.session.scalars(mine))
    if address in existing:
        raise taken
    if len(existing) >= MAX_PER_RESOURCE:
        raise Conflict("resource_calendar.too_many",
                       f"At most {MAX_PER_RESOURCE} outside calendars per resource.",
                       {"url": [f"Remove one first (at most {MAX_PER_RESOURCE})."]})
    try:
        with unit_of_work():
            calendar = ResourceCalendar(provider_id=resource.provider_id,
                                        resource_id=resource.id, url=address, label=label)
            db.session.add(calendar)
            audit.record("resource_calendar.added", entity="resource_calendar",
                         subject=calendar, changes={"resource_id": resource.id,
                                                    "label": label,
                                                    "address": masked_address(address)})
            after_commit(_enqueue_fetch, calendar.id)
    except IntegrityError as exc:  # added meanwhile by someone else
        raise taken from exc
    return calendar


def remove_calendar(resource_id: int, calendar_id: int, *, scope: Scope) -> None:
    """Unsubscribe: the calendar and its busy times go."""
    calendar = get_calendar(resource_id, calendar_id, scope=scope)
    with unit_of_work():
        db.session.execute(delete(ResourceBusy).where(ResourceBusy.calendar_id == calendar.id))
        audit.record("resource_calendar.removed", entity="resource_calendar",
                     entity_id=calendar.id, provider_id=calendar.provider_id,
                     changes={"resource_id": calendar.resource_id, "label": calendar.label,
                              "address": masked_address(calendar.url)})
        db.session.delete(calendar)
    bump_catalog_generation()


def request_fetch(resource_id: int, calendar_id: int, *, scope: Scope) -> ResourceCalendar:
    """Fetch now: queued for a worker, or done before this returns without a job queue."""
    calendar = get_calendar(resource_id, calendar_id, scope=scope)
    _enqueue_fetch(calendar.id)
    db.session.refresh(calendar)
    return calendar


def _enqueue_fetch(calendar_id: int):
    return jobqueue.enqueue(JOB, calendar_id, job_id=f"outside-calendar-{calendar_id}")


# --- what is shown of them -------------------------------------------------------------------

def masked_address(url: str) -> str:
    """The address without its secret part: "calendar.google.com/…"."""
    host = urlsplit(url).hostname or ""
    return f"{host}/…" if host else "…"


def default_label(url: str) -> str:
    host = urlsplit(url).hostname or ""
    known = {"calendar.google.com": "Google Calendar", "outlook.office365.com": "Outlook",
             "outlook.live.com": "Outlook", "p.icloud.com": "iCloud"}
    for suffix, name in known.items():
        if host == suffix or host.endswith("." + suffix) or \
                (suffix == "p.icloud.com" and host.endswith("icloud.com")):
            return name
    return host or "Outside calendar"


@dataclass(frozen=True)
class CalendarState:
    """How a calendar stands, for a list: ``status`` is ``waiting`` (not fetched yet),
    ``ok`` or ``failing``; ``words`` says it to staff."""

    status: str
    words: str


def state_of(calendar: ResourceCalendar) -> CalendarState:
    count = calendar.busy_count
    times = f"{count:,} busy time{'' if count == 1 else 's'}"
    if calendar.capped:
        times += " (the earliest; there were more)"
    if calendar.last_error:
        kept = f" Keeping the {times} of the last good fetch." if calendar.parsed_at else ""
        return CalendarState("failing", f"{calendar.last_error}{kept}")
    if calendar.fetched_at is None:
        return CalendarState("waiting", "Not fetched yet.")
    return CalendarState("ok", f"OK · {times}")


def next_busy_times(calendar_ids, *, now: datetime | None = None, limit: int = 3
                    ) -> dict[int, list[tuple[datetime, datetime]]]:
    """The next few busy times of each calendar (still running or to come)."""
    now = now or utcnow()
    found: dict[int, list[tuple[datetime, datetime]]] = {cid: [] for cid in calendar_ids}
    if not found:
        return found
    ranked = select(ResourceBusy.calendar_id, ResourceBusy.starts_at, ResourceBusy.ends_at,
                    func.row_number().over(partition_by=ResourceBusy.calendar_id,
                                           order_by=ResourceBusy.starts_at).label("n")
                    ).where(ResourceBusy.calendar_id.in_(list(found)),
                            ResourceBusy.ends_at > now).subquery()
    rows = db.session.execute(select(ranked).where(ranked.c.n <= limit)
                              .order_by(ranked.c.calendar_id, ranked.c.starts_at))
    for row in rows:
        found[row.calendar_id].append((row.starts_at, row.ends_at))
    return found


def normalised_url(url: str | None) -> str:
    """The address to fetch: http or https (``webcal://`` is https); else a field error."""
    address = (url or "").strip()
    if address.lower().startswith(("webcal://", "webcals://")):
        address = "https://" + address.split("://", 1)[1]
    _parts, problem = validation.http_address_problem(
        address, max_length=URL_LENGTH,
        example="An http, https or webcal address, e.g. https://calendar.google.com/…")
    if problem:
        raise ValidationFailed(ADDRESS_ERROR, "Check the calendar's address.",
                               {"url": [problem]})
    return address


# --- fetching ----------------------------------------------------------------------------------

def refresh(calendar_id: int, *, now: datetime | None = None) -> str:
    """Fetch the calendar and replace its busy times; what happened, as one of UPDATED,
    UNCHANGED (304), FAILED (stored on the calendar) or SKIPPED (removed meanwhile).
    Never raises for what the address answers."""
    _refuse_open_changes()
    now = now or utcnow()
    with unit_of_work():  # a read: no transaction stays open during the fetch
        row = db.session.execute(
            select(ResourceCalendar.url, ResourceCalendar.etag, ResourceCalendar.last_modified,
                   ResourceCalendar.parsed_at, Provider.timezone)
            .join(Provider, Provider.id == ResourceCalendar.provider_id)
            .where(ResourceCalendar.id == calendar_id)).first()
    if row is None:
        return SKIPPED
    config = current_app.config
    fresh = row.parsed_at is not None and row.parsed_at > now - FULL_READ_EVERY
    try:
        fetched = calendar_fetch.fetch(
            row.url, limits=calendar_fetch.FetchLimits.from_config(config),
            etag=row.etag if fresh else None, last_modified=row.last_modified if fresh else None)
        if fetched.not_modified:
            return _record(calendar_id, row.url, now, UNCHANGED, fetched=fetched)
        found = busy_times(fetched.body, zone=row.timezone or "UTC", start=now,
                           end=now + timedelta(days=config["SLOT_DAYS_AHEAD"]),
                           cap=config.get("OUTSIDE_CALENDAR_MAX_BUSY_TIMES", 2000))
    except (calendar_fetch.FetchFailed, CalendarUnreadable) as exc:
        log.info("outside calendar %s: %s", calendar_id, exc.message)
        return _record(calendar_id, row.url, now, FAILED, error=exc.message)
    except Exception:  # a bug here must not become a page's 500 or a job's endless retry
        log.exception("outside calendar %s could not be read", calendar_id)
        return _record(calendar_id, row.url, now, FAILED,
                       error="The calendar could not be read (an unexpected error, logged "
                             "for the platform's team).")
    outcome = _record(calendar_id, row.url, now, UPDATED, fetched=fetched, found=found)
    if outcome == UPDATED:
        bump_catalog_generation()  # free times depend on busy times
    return outcome


def refresh_due(*, now: datetime | None = None) -> int:
    """Hand the calendars that are due to the fetch job (at most ``BATCH``); each is
    claimed first (its next fetch moved on), so a slow one is not handed on twice."""
    now = now or utcnow()
    with unit_of_work():
        due = list(db.session.scalars(
            select(ResourceCalendar.id).where(
                ResourceCalendar.active.is_(True),
                (ResourceCalendar.next_fetch_at.is_(None))
                | (ResourceCalendar.next_fetch_at <= now))
            .order_by(ResourceCalendar.next_fetch_at.is_not(None),
                      ResourceCalendar.next_fetch_at, ResourceCalendar.id).limit(BATCH)))
        if due:
            db.session.execute(update(ResourceCalendar).where(ResourceCalendar.id.in_(due))
                               .values(next_fetch_at=now + _interval()))
    for calendar_id in due:
        try:
            _enqueue_fetch(calendar_id)
        except Exception:  # one calendar never holds up the others; it is due again later
            log.exception("fetching outside calendar %s failed", calendar_id)
    return len(due)


def _record(calendar_id: int, url: str, now: datetime, outcome: str, *,
            fetched: calendar_fetch.Fetched | None = None, found=None,
            error: str | None = None) -> str:
    """Store the outcome (and the busy times found) unless the calendar was removed or
    its address changed meanwhile."""
    with audit.acting_as(SYSTEM), unit_of_work():
        calendar = db.session.get(ResourceCalendar, calendar_id, with_for_update=True,
                                  populate_existing=True)
        if calendar is None or calendar.url != url:
            return SKIPPED
        calendar.fetched_at = now
        if outcome == FAILED:
            calendar.failures += 1
            calendar.last_error = _cut(error or "The calendar could not be fetched.")
            calendar.next_fetch_at = now + _interval() * min(2 ** (calendar.failures - 1),
                                                             MAX_BACKOFF)
            return FAILED
        calendar.failures, calendar.last_error = 0, None
        calendar.last_success_at, calendar.next_fetch_at = now, now + _interval()
        calendar.etag = _cut(fetched.etag, 200) if fetched.etag else None
        calendar.last_modified = _cut(fetched.last_modified, 64) \
            if fetched.last_modified else None
        if found is not None:
            _replace_busy_times(calendar, found.intervals)
            calendar.busy_count, calendar.capped = len(found.intervals), found.capped
            calendar.parsed_at = now
    return outcome


def _replace_busy_times(calendar: ResourceCalendar, intervals) -> None:
    db.session.execute(delete(ResourceBusy.__table__).where(
        ResourceBusy.__table__.c.calendar_id == calendar.id))
    if intervals:  # Core statements: no audit entry per imported time
        db.session.execute(insert(ResourceBusy.__table__), [
            {"provider_id": calendar.provider_id, "resource_id": calendar.resource_id,
             "calendar_id": calendar.id, "starts_at": begins, "ends_at": ends, "reason": ""}
            for begins, ends in intervals])


def _interval() -> timedelta:
    return timedelta(minutes=current_app.config.get("OUTSIDE_CALENDAR_REFRESH_MINUTES", 15))


def _cut(text: str, length: int = ERROR_LENGTH) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


def _refuse_open_changes() -> None:
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a calendar is fetched after the caller's commit, "
                           "not inside its changes")
