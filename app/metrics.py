"""Prometheus metrics: what every process counts, and how ``/metrics`` exposes it.

Counters and histograms are prometheus-client's. With ``PROMETHEUS_MULTIPROC_DIR`` set
(``gunicorn.conf.py`` sets and empties it; ``bin/run-server`` shares it with the RQ
worker) each process writes its figures to files there and a scrape of any web worker
sums them all; without it a process counts for itself (embedded mode, tests).

The rest of the app calls the small functions below, never a prometheus object:

- domain events are counted once, after their commit (``app.events.hand_over``): every
  topic, and the named figures derived from the topics (bookings, payments, refunds,
  receipts);
- messages and conversions where their service decides the outcome;
- HTTP requests by route template (the URL rule, never the raw path) in ``init_app``.

Figures read from PostgreSQL and Redis (queues, outbox, inboxes) are computed at scrape
time: ``app.metrics_state``. ``METRICS_ENABLED=false`` turns all of it off.
"""
from __future__ import annotations

import glob
import hmac
import ipaddress
import os
import time
from collections.abc import Iterable

from flask import Flask, abort, g, got_request_exception, request, request_finished, \
    request_started
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, \
    Histogram, generate_latest, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import event

_OWN = CollectorRegistry(auto_describe=True)  # this process's figures (no multiprocess dir)
_enabled = False

EVENTS = Counter("bookwell_events_total", "Domain events committed, by topic.",
                 ["topic"], registry=_OWN)
BOOKINGS = Counter("bookwell_bookings_total",
                   "Bookings placed, confirmed, cancelled and expired.", ["event"],
                   registry=_OWN)
PAYMENTS = Counter("bookwell_payments_total", "Payments by outcome and gateway.",
                   ["outcome", "gateway"], registry=_OWN)
REFUNDS = Counter("bookwell_refunds_total", "Refunds by outcome and gateway.",
                  ["outcome", "gateway"], registry=_OWN)
RECEIPTS = Counter("bookwell_receipts_total", "Receipts and credit notes issued.",
                   ["kind"], registry=_OWN)
MESSAGES = Counter("bookwell_messages_total",
                   "Messages sent to customers, by channel and outcome "
                   "(sent, retrying, failed).", ["channel", "outcome"], registry=_OWN)
CONVERSIONS = Counter("bookwell_conversions_total",
                      "Conversion events sent to the ad platform, by outcome "
                      "(sent, retrying, failed).", ["outcome"], registry=_OWN)
HTTP_REQUESTS = Counter("bookwell_http_requests_total",
                        "HTTP requests answered, by method, route template and status.",
                        ["method", "route", "status"], registry=_OWN)
HTTP_EXCEPTIONS = Counter("bookwell_http_request_exceptions_total",
                          "Requests that raised an unhandled exception (answered 500).",
                          ["method", "route"], registry=_OWN)
HTTP_DURATION = Histogram("bookwell_http_request_duration_seconds",
                          "Time to answer a request, by method and route template.",
                          ["method", "route"], registry=_OWN,
                          buckets=(.005, .01, .025, .05, .075, .1, .25, .5, .75, 1.0, 2.5,
                                   5.0, 10.0))
# Summed over the live processes: a dead one's file is removed (gunicorn.conf.py,
# jobs/worker.py), so its connections stop counting.
DB_POOL_CHECKED_OUT = Gauge("bookwell_db_pool_checked_out",
                            "Database connections in use, summed over live processes.",
                            ["pool"], multiprocess_mode="livesum", registry=_OWN)
DB_POOL_SIZE = Gauge("bookwell_db_pool_size",
                     "Database connections the pools keep, summed over live processes.",
                     ["pool"], multiprocess_mode="livesum", registry=_OWN)

UNMATCHED = "<unmatched>"  # the route of a request no URL rule matched (404, 405)
_BOOKING_EVENTS = {"booking.created": "placed", "booking.confirmed": "confirmed",
                   "booking.cancelled": "cancelled", "booking.expired": "expired"}
_PAYMENT_OUTCOMES = {"payment.succeeded": "succeeded", "payment.failed": "failed",
                     "payment.declined": "declined"}
_REFUND_OUTCOMES = {"payment.refunded": "succeeded", "payment.refund_failed": "failed"}


def enabled() -> bool:
    return _enabled


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# --------------------------------------------------------------------------- recording

def events_committed(committed: Iterable[tuple[str, dict]]) -> None:
    """Count domain events whose transaction has committed: (topic, payload) each."""
    if not _enabled:
        return
    for topic, payload in committed:
        EVENTS.labels(topic).inc()
        if topic in _BOOKING_EVENTS:
            BOOKINGS.labels(_BOOKING_EVENTS[topic]).inc()
        elif topic in _PAYMENT_OUTCOMES:
            PAYMENTS.labels(_PAYMENT_OUTCOMES[topic], _gateway(payload)).inc()
        elif topic in _REFUND_OUTCOMES:
            REFUNDS.labels(_REFUND_OUTCOMES[topic], _gateway(payload)).inc()
        elif topic == "receipt.generated" and not payload.get("resend"):
            RECEIPTS.labels(payload.get("kind") or "receipt").inc()


def _gateway(payload: dict) -> str:
    return str(payload.get("gateway") or "unknown")


def message_attempted(channel: str, outcome: str) -> None:
    """A message's send attempt ended: ``sent``, ``retrying`` or ``failed``."""
    if _enabled:
        MESSAGES.labels(channel, outcome).inc()


def conversion_attempted(outcome: str) -> None:
    """A conversion event's send ended: ``sent``, ``retrying`` or ``failed``."""
    if _enabled:
        CONVERSIONS.labels(outcome).inc()


def process_gone(pid: int) -> None:
    """A process that wrote figures has exited: its live gauges stop counting."""
    directory = multiprocess_dir()
    if _enabled and directory:
        mark_process_dead(pid, directory)


# --------------------------------------------------------------------------- the app

def init_app(app: Flask, engines: dict) -> None:
    """Count this app's requests and database pools (``engines``: bind key → engine)."""
    global _enabled
    _enabled = bool(app.config.get("METRICS_ENABLED", True))
    if not _enabled:
        return
    request_started.connect(_request_started, app)
    request_finished.connect(_request_finished, app)
    got_request_exception.connect(_request_failed, app)
    for key, engine in engines.items():
        _watch_pool(key or "default", engine)


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _request_started(sender, **extra) -> None:
    g.metrics_started = time.perf_counter()


def _request_finished(sender, response, **extra) -> None:
    started = g.get("metrics_started")
    route, method = _route(), request.method
    HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
    if started is not None:
        HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)


def _request_failed(sender, exception, **extra) -> None:
    HTTP_EXCEPTIONS.labels(request.method, _route()).inc()


def _watch_pool(name: str, engine) -> None:
    size = getattr(engine.pool, "size", None)
    if callable(size):
        DB_POOL_SIZE.labels(name).set(size())
    in_use = DB_POOL_CHECKED_OUT.labels(name)

    # ``engine`` events outlive a pool swapped by ``dispose`` (a forked RQ job's).
    event.listen(engine, "checkout", lambda *args: in_use.inc())
    event.listen(engine, "checkin", lambda *args: in_use.dec())


# --------------------------------------------------------------------------- exposition

def allowed(app: Flask) -> bool | None:
    """Whether this request may read ``/metrics``: True; False (a token is wanted: 401);
    None (metrics are off, or open to no one here: 404).

    With ``METRICS_TOKEN`` set, only ``Authorization: Bearer <token>``. Without it,
    nobody in production, and only 127.0.0.1 / ::1 elsewhere (``make run``)."""
    if not _enabled:
        return None
    token = app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), token.encode())
    if app.config.get("BOOKWELL_ENV") == "production":
        return None
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback or None
    except ValueError:
        return None


def exposition(state_collector) -> tuple[bytes, str]:
    """The text a scrape reads: every process's figures, then the scrape-time ones."""
    directory = multiprocess_dir()
    if directory:
        source = CollectorRegistry()
        MultiProcessCollector(source, path=directory)
    else:
        source = _OWN
    return generate_latest(_Together(source, state_collector)), CONTENT_TYPE_LATEST


def serve(app: Flask, state_collector):
    """The ``/metrics`` answer (called by the edge's view)."""
    verdict = allowed(app)
    if verdict is None:
        abort(404)
    if verdict is False:
        return app.response_class("A bearer token is needed.\n", status=401,
                                  mimetype="text/plain",
                                  headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body, content_type = exposition(state_collector)
    return app.response_class(body, mimetype=None, content_type=content_type)


def serve_on_port(port: int, address: str = "0.0.0.0"):
    """Serve this process's figures (with a multiprocess directory: every process's there)
    on a port of its own, for an RQ worker whose directory no web process reads (its own
    container). The worker owns that directory: what earlier runs left is removed first.
    Returns the HTTP server (``shutdown()`` stops it)."""
    directory = multiprocess_dir()
    if directory:
        mine = f"_{os.getpid()}.db"
        for path in glob.glob(os.path.join(directory, "*.db")):
            if not path.endswith(mine):
                os.remove(path)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
    else:
        registry = _OWN
    server, _thread = start_http_server(port, address, registry=registry)
    return server


class _Together:
    def __init__(self, *collectors) -> None:
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()
