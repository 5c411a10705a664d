"""Logs: every line carries the request id (or, in a job, the id of the request that caused
it), plain text or, with ``LOG_FORMAT=json``, one JSON object per line.

A JSON line has ``time``, ``level``, ``logger``, ``message``, ``request_id``, ``job_id``,
``provider_id``, ``user_id`` and ``trace_id`` (the running span's, with tracing on); each request ends with one line ``request`` that adds
``method``, ``route`` (the URL rule, never a path with ids in it), ``status`` and
``duration_ms``. The request id travels into the jobs a request hands over (their RQ meta,
written by :func:`job_meta` in ``app.jobqueue``) and from a job into the jobs it hands over,
so one id follows a booking from its request to its emails and webhooks.
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter
from rq import get_current_job

from app import tracing

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PLAIN_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id", "job_id",
               "provider_id", "user_id", "trace_id")
_JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger"}
# What a job's meta carries of the request (or job) that handed it over.
_CARRIED = ("request_id", "provider_id", "user_id")


def current_context() -> dict:
    """The request id, provider and user of the running request or job (None where
    unknown)."""
    return _context_and_job()[0]


def _context_and_job():
    """``current_context()``, and the running job (None in a request)."""
    if has_request_context():
        return {"request_id": g.get("request_id"), "provider_id": g.get("acting_provider_id"),
                "user_id": g.get("acting_user_id")}, None
    job = get_current_job()
    if job is not None:
        return {name: job.meta.get(name) for name in _CARRIED}, job
    return {}, None


def job_meta() -> dict:
    """What a job handed over now should carry of its cause: the current request's (or
    job's) id, provider and user."""
    return {name: value for name, value in current_context().items() if value is not None}


def note_actor(*, user_id: int | None, provider_id: int | None) -> None:
    """The request acts for this user and provider (``app.request_actor``): their ids go on
    the request's log lines and into the jobs it hands over."""
    g.acting_user_id, g.acting_provider_id = user_id, provider_id


class ContextFilter(logging.Filter):
    """Puts the request's (or job's) ids on every record, ``-`` where there is none."""

    def filter(self, record: logging.LogRecord) -> bool:
        context, job = _context_and_job()
        record.request_id = context.get("request_id") or "-"
        record.provider_id = context.get("provider_id")
        record.user_id = context.get("user_id")
        record.job_id = job.id if job is not None else None
        record.trace_id = tracing.current_trace_id()  # None unless tracing is on
        return True


def _formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(" ".join(f"%({name})s" for name in JSON_FIELDS),
                             rename_fields=_JSON_NAMES,
                             datefmt="%Y-%m-%dT%H:%M:%S%z")
    return logging.Formatter(PLAIN_FORMAT)


def configure_logging(app) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    log_format = app.config.get("LOG_FORMAT", "plain")
    handler.setFormatter(_formatter(log_format))
    root = logging.getLogger()
    # Re-creating the app (tests) must not stack handlers.
    root.handlers = [h for h in root.handlers if not getattr(h, "_bookwell", False)]
    handler._bookwell = True
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # Flask-AppBuilder warns at every start about Time columns it has no search filter for
    # (opening hours); nothing to act on.
    logging.getLogger("flask_appbuilder.models.filters").setLevel(logging.ERROR)

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def echo_request_id(response):
        if has_request_context() and getattr(g, "request_id", None):
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response

    if log_format == "json":
        # The request's summary line; in plain text gunicorn's access log says as much.
        request_log = logging.getLogger("bookwell.request")

        @app.after_request
        def log_request(response):
            started = g.get("request_started")
            request_log.info("request", extra={
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule is not None else None,
                "status": response.status_code,
                "duration_ms": round(1000 * (time.perf_counter() - started), 1)
                if started is not None else None})
            return response
