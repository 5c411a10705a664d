"""Traces: OpenTelemetry spans of requests, database queries, Redis, outgoing HTTP and jobs,
exported over OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT``. Without that setting tracing
is off: nothing is patched, no span is made, and every function here is a cheap no-op.

Spans come from the OpenTelemetry instrumentations (Flask, SQLAlchemy, Redis, and requests
and urllib3, the HTTP clients under Stripe, PayPal, TikTok, Maps, Twilio, OpenSearch,
webhooks and outside calendars) and from here: one span per RQ job (``jobs/worker.py``),
one per event delivered and one per event consumer (``app.events``).

A trace crosses into the workers by W3C trace context (``traceparent``):

- an event stores the context it was published in (``outbox_event.trace_context``), and
  its delivery's span is that context's child, whichever job delivers it: the dispatch
  after the commit, a retry or the sweep. So a request's emails, receipts and conversions
  sit in the request's trace;
- a job handed over directly carries the context in its RQ meta beside the request id
  (``job_context``), and the worker's span of the job is its child.

The provider is this module's, not OpenTelemetry's global one, so that an app made again
(tests) can start tracing afresh: ``start`` replaces what an earlier ``start`` set up.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
# Probes, scrapes and static files would be most of the spans and tell nothing.
EXCLUDED_URLS = r"/healthz,/readyz,/metrics,/static/,/appbuilder/,/favicon\.ico"
_propagator = TraceContextTextMapPropagator()


class _Tracing(NamedTuple):
    provider: TracerProvider
    tracer: trace.Tracer
    instrumentors: tuple
    app: object


_tracing: _Tracing | None = None


def enabled() -> bool:
    return _tracing is not None


def init_app(app, engines: Mapping) -> None:
    """Start tracing when the app's settings name an OTLP endpoint."""
    endpoint = app.config.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not endpoint:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # The setting is the collector's base address, as OpenTelemetry's own variable of
    # that name is; headers, timeout and TLS come from the other OTEL_EXPORTER_OTLP_*
    # variables, read by the exporter.
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    start(app, engines, BatchSpanProcessor(exporter))


def start(app, engines: Mapping, processor: SpanProcessor) -> None:
    """Trace this app's requests, its engines' queries, Redis and outgoing HTTP, handing
    finished spans to ``processor``."""
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor

    global _tracing
    stop()
    provider = TracerProvider(resource=Resource.create(
        {"service.name": app.config.get("OTEL_SERVICE_NAME") or "bookwell"}))
    provider.add_span_processor(processor)
    # SQL comments stay off (the default): they would make every statement's text unique
    # and defeat psycopg's prepared statements.
    FlaskInstrumentor.instrument_app(app, tracer_provider=provider,
                                     excluded_urls=EXCLUDED_URLS)
    instrumentors = (SQLAlchemyInstrumentor(), RedisInstrumentor(), RequestsInstrumentor(),
                     URLLib3Instrumentor())
    for instrumentor in instrumentors:
        kwargs = {}
        if isinstance(instrumentor, SQLAlchemyInstrumentor):
            # Its declared range stops below SQLAlchemy 2.1, whose engine events it uses
            # are unchanged (the tests check the query spans); the check is skipped, not
            # the instrumentation.
            kwargs = {"engines": list(engines.values()), "skip_dep_check": True}
        instrumentor.instrument(tracer_provider=provider, **kwargs)
    _tracing = _Tracing(provider, provider.get_tracer("bookwell"), instrumentors, app)


def stop() -> None:
    """Undo ``start``: unpatch everything and export what is left."""
    global _tracing
    if _tracing is None:
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    FlaskInstrumentor.uninstrument_app(_tracing.app)
    for instrumentor in _tracing.instrumentors:
        instrumentor.uninstrument()
    _tracing.provider.shutdown()
    _tracing = None


def flush() -> None:
    """Export the finished spans now: a forked job's process exits right after its job,
    before the batch would have been sent."""
    if _tracing is not None:
        _tracing.provider.force_flush()


def current_traceparent() -> str | None:
    """The ``traceparent`` of the span running now, for an event or job to carry; None
    when tracing is off or no span runs."""
    if _tracing is None:
        return None
    carrier: dict = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT)


def current_trace_id() -> str | None:
    """The running span's trace id (32 hex digits), for log lines; None when off."""
    if _tracing is None:
        return None
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


def job_context() -> dict:
    """What a job handed over now carries of the running span (its RQ meta)."""
    traceparent = current_traceparent()
    return {TRACEPARENT: traceparent} if traceparent else {}


@contextlib.contextmanager
def span(name: str, *, parent: str | None = None, kind=trace.SpanKind.INTERNAL,
         attributes: Mapping | None = None) -> Iterator[trace.Span | None]:
    """A span named ``name``, the child of the ``traceparent`` given (or of the running
    span), linked to the running span when it is not its parent. Nothing when off."""
    if _tracing is None:
        yield None
        return
    current = trace.get_current_span().get_span_context()
    context = _propagator.extract({TRACEPARENT: parent}) if parent else None
    links = []
    if context is not None and current.is_valid:
        links.append(trace.Link(current))
    with _tracing.tracer.start_as_current_span(name, context=context, kind=kind,
                                               attributes=dict(attributes or {}),
                                               links=links) as started:
        yield started


def job_span(job, name: str):
    """The worker's span of an RQ job (``name``: the job's stable name): the child of
    the span that handed it over."""
    return span(f"job {name}", parent=(job.meta or {}).get(TRACEPARENT),
                kind=trace.SpanKind.CONSUMER,
                attributes={"messaging.system": "rq", "messaging.destination.name":
                            job.origin, "messaging.message.id": job.id})
