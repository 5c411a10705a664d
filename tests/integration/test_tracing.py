"""Traces (app/tracing.py): a request's span, its queries, Redis and outgoing HTTP calls,
and the spans of the jobs it caused, joined to it through the outbox (the trace context
stored with the event) and through the job's meta. Spans go to OpenTelemetry's in-memory
exporter here, and over OTLP/HTTP to a local collector stand-in in the last tests."""
from __future__ import annotations

import gzip
import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from rq.job import Job
from sqlalchemy import select

from app import events, jobqueue, tracing
from app.extensions import db
from app.logging import ContextFilter
from app.jobqueue import get_queue
from app.models.events import OutboxEvent
from app.models.types import utcnow
from app.services import bookings, payments
from app.redis import redis_client
from jobs.worker import ForkingWorker, InProcessWorker
from tests.fakes.stripe import local_stripe
from tests.helpers import bearer, token_for
from tests.mail_server import recording_smtp
from tests.views.console import second_app

BOOKINGS_ROUTE = "/api/v1/bookings"
QUEUES = ("events", "notifications", "default")


@pytest.fixture
def traced(app, tmp_dir, cache_on, monkeypatch):
    """A second app with tracing on, its finished spans kept in memory; jobs queued on
    Redis (or the fakeredis stand-in), run by ``work``."""
    other = second_app(app, tmp_dir)
    other.config["REDIS_URL"] = app.config["REDIS_URL"]
    exporter = InMemorySpanExporter()
    with other.app_context():
        tracing.start(other, db.engines, SimpleSpanProcessor(exporter))
    other.spans = exporter.get_finished_spans
    other.work = lambda: work(other, QUEUES)
    with recording_smtp(other, monkeypatch) as mail:
        other.mail = mail
        yield other
    tracing.stop()
    with other.app_context():
        forget_queued_jobs()


def work(app, queues, worker_class=InProcessWorker) -> None:
    """Run the queued jobs, as ``flask bookwell worker`` does (without its scheduler,
    whose locks are Lua scripts the fakeredis stand-in cannot run)."""
    with app.app_context():
        worker_class([get_queue(name) for name in queues], connection=redis_client()
                     ).work(burst=True)


def forget_queued_jobs() -> None:
    """Lose the queued jobs, as a Redis restart without persistence would."""
    for name in QUEUES:
        queue = get_queue(name)
        redis_client().delete(queue.key, *(Job.key_for(job_id) for job_id in queue.job_ids))


def place_over_http(app, build) -> tuple[str, int]:
    provider = build.provider()
    # Free: confirmed at once, so the confirmation email goes out too.
    service = build.offering(provider, name="Open class", price_minor=0)
    customer = build.customer()
    slot = build.future_slot(service, capacity=3)
    response = app.test_client().post(BOOKINGS_ROUTE, headers=bearer(token_for(customer)),
                                      json={"offering_id": service, "slot_id": slot})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["reference"], customer


def the_request_span(spans):
    [request] = [span for span in spans if span.kind == SpanKind.SERVER
                 and span.attributes.get("http.route") == BOOKINGS_ROUTE]
    return request


def named(spans, name):
    return [span for span in spans if span.name == name]


def parent_of(span):
    return span.parent.span_id if span.parent is not None else None


def test_the_jobs_a_request_causes_are_spans_of_its_trace(traced, build):
    place_over_http(traced, build)
    request = the_request_span(traced.spans())
    trace_id = request.context.trace_id
    assert request.name == f"POST {BOOKINGS_ROUTE}"
    assert request.attributes["http.status_code"] == 201

    # Its queries and its hand-over to Redis are its children.
    queries = [span for span in traced.spans() if span.attributes.get("db.system.name",
               span.attributes.get("db.system")) == "postgresql" or span.attributes.get(
               "db.system") == "sqlite"]
    assert any(parent_of(span) == request.context.span_id for span in queries)
    redis_calls = [span for span in traced.spans()
                   if span.attributes.get("db.system", span.attributes.get(
                       "db.system.name")) == "redis"]
    assert any(span.context.trace_id == trace_id for span in redis_calls)

    traced.work()
    spans = traced.spans()
    [delivery] = [span for span in named(spans, "job events.deliver")
                  if span.attributes["messaging.message.id"].startswith("event-")
                  and span.context.trace_id == trace_id][:1]
    assert delivery.kind == SpanKind.CONSUMER
    assert parent_of(delivery) == request.context.span_id  # from the job's meta
    [created] = named(spans, "event booking.confirmed")
    # From the outbox: the event's stored context makes it the request's child.
    assert created.context.trace_id == trace_id
    assert parent_of(created) == request.context.span_id
    assert any(link.context.trace_id == trace_id for link in created.links)
    consumers = [span for span in spans if span.name.startswith("consumer ")
                 and parent_of(span) == created.context.span_id]
    assert consumers
    # The confirmation email went out in a job a consumer handed over: same trace.
    sends = [span for span in spans if span.name.startswith("job ")
             and "notifications" in span.name and span.context.trace_id == trace_id]
    assert sends, sorted({span.name for span in spans if span.name.split()[0] in ("job", "event", "consumer")})
    assert {parent_of(span) for span in sends} <= {span.context.span_id for span in spans}
    assert traced.mail.messages


def test_an_event_joins_its_request_through_the_outbox_alone(traced, build):
    reference, _ = place_over_http(traced, build)
    request = the_request_span(traced.spans())
    with traced.app_context():
        stored = db.session.scalars(select(OutboxEvent.trace_context).where(
            OutboxEvent.topic == "booking.confirmed",
            OutboxEvent.payload["booking_reference"].as_string() == reference)).one()
        # W3C traceparent: version, trace id, parent span id, flags (sampled).
        assert stored.startswith(f"00-{request.context.trace_id:032x}-"
                                 f"{request.context.span_id:016x}-")
        # The jobs are lost (Redis emptied, say); the sweep hands the events over again
        # from outside any request, so the new jobs carry no trace of their own.
        forget_queued_jobs()
        assert events.sweep(now=utcnow() + timedelta(minutes=5)) >= 1
        assert "traceparent" not in get_queue("events").jobs[0].meta

    traced.work()
    spans = traced.spans()
    [created] = named(spans, "event booking.confirmed")
    assert created.context.trace_id == request.context.trace_id
    assert parent_of(created) == request.context.span_id
    # The job that delivered it started a trace of its own, linked from the event.
    [job] = [span for span in named(spans, "job events.deliver")
             if span.context.span_id in {link.context.span_id for link in created.links}]
    assert job.parent is None


def test_outgoing_http_to_the_gateway_is_a_child_span(traced, build, monkeypatch):
    server = local_stripe()
    for key, value in {"STRIPE_SECRET_KEY": "sk_test_local", "STRIPE_PUBLISHABLE_KEY":
                       "pk_test_local", "STRIPE_API_BASE": server.url,
                       "STRIPE_WEBHOOK_SECRET": "whsec_test", "PAYMENT_TEST_CARDS": True
                       }.items():
        monkeypatch.setitem(traced.config, key, value)
    provider = build.provider()
    offering = build.offering(provider, price_minor=4200, currency="EUR")
    customer = build.customer()
    slot = build.future_slot(offering)
    with traced.app_context():
        reference = bookings.place_booking(customer_id=customer, offering_id=offering,
                                           slot_id=slot).reference
        with tracing.span("checkout") as checkout:
            payments.start_payment(reference, customer_id=customer)

    calls = [span for span in traced.spans() if span.kind == SpanKind.CLIENT
             and str(span.attributes.get("url.full", span.attributes.get("http.url", "")))
             .startswith(server.url)]
    assert calls, sorted({span.name for span in traced.spans()})
    assert all(span.context.trace_id == checkout.context.trace_id for span in calls)
    # One span per call: urllib3's below requests' would only repeat it.
    outermost = [span for span in calls
                 if parent_of(span) not in {call.context.span_id for call in calls}]
    assert outermost == calls
    assert parent_of(calls[0]) == checkout.context.span_id


def test_log_lines_written_in_a_span_carry_its_trace_id(traced):
    record = logging.LogRecord("bookwell.tests", logging.INFO, __file__, 1, "hello", (), None)
    with traced.test_request_context(), tracing.span("work") as work:
        ContextFilter().filter(record)
    assert record.trace_id == f"{work.context.trace_id:032x}"
    ContextFilter().filter(record)  # outside any span
    assert record.trace_id is None


def test_probes_and_scrapes_are_not_traced(traced):
    client = traced.test_client()
    assert client.get("/healthz").status_code == 200
    client.get("/metrics")
    assert not [span for span in traced.spans() if span.kind == SpanKind.SERVER]


def test_tracing_is_off_without_an_endpoint(client, app, build):
    assert not tracing.enabled()
    assert app.config["OTEL_EXPORTER_OTLP_ENDPOINT"] is None
    reference, _ = place_over_http(app, build)
    with app.app_context():
        stored = db.session.scalars(select(OutboxEvent.trace_context).where(
            OutboxEvent.payload["booking_reference"].as_string() == reference)).all()
        assert stored and set(stored) == {None}
        with tracing.span("nothing") as span:
            assert span is None
        assert tracing.job_context() == {}


# --- OTLP/HTTP to a collector --------------------------------------------------------------

class _Collector(BaseHTTPRequestHandler):
    """Answers like an OpenTelemetry collector's OTLP/HTTP receiver: protobuf in, 200."""

    received: list

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.received.append((self.path, self.headers["Content-Type"], request))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    handler = type("Collector", (_Collector,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, handler.received
    server.shutdown()
    server.server_close()


def exported(received) -> list[tuple[str, object]]:
    """(service name, span) of every span the collector received."""
    spans = []
    for _, _, request in received:
        for resource_spans in request.resource_spans:
            service = {attribute.key: attribute.value.string_value
                       for attribute in resource_spans.resource.attributes}["service.name"]
            for scope in resource_spans.scope_spans:
                spans.extend((service, span) for span in scope.spans)
    return spans


@pytest.fixture
def exporting(app, tmp_dir, collector, cache_on):
    """An app whose settings name the local collector as the OTLP endpoint."""
    server, received = collector
    traced = second_app(app, tmp_dir, OTEL_EXPORTER_OTLP_ENDPOINT=(
        f"http://127.0.0.1:{server.server_port}/"), OTEL_SERVICE_NAME="bookwell-test")
    traced.config["REDIS_URL"] = app.config["REDIS_URL"]
    traced.received = received
    yield traced
    tracing.stop()
    with traced.app_context():
        forget_queued_jobs()


def test_the_endpoint_setting_exports_over_otlp(exporting, build):
    assert tracing.enabled()
    offering = build.offering(build.provider())
    response = exporting.test_client().get(f"/api/v1/offerings/{offering}")
    assert response.status_code == 200
    tracing.flush()
    assert {(path, kind) for path, kind, _ in exporting.received} == {
        ("/v1/traces", "application/x-protobuf")}
    [(service, span)] = [(service, span) for service, span in exported(exporting.received)
                         if span.name == "GET /api/v1/offerings/<int:offering_id>"]
    assert service == "bookwell-test"
    assert span.kind == span.SPAN_KIND_SERVER


def test_a_forked_job_exports_its_span_before_its_process_ends(exporting):
    with exporting.test_request_context():
        with tracing.span("hand over"):
            jobqueue.enqueue("maintenance.purge_idempotency_keys")
    work(exporting, ["default"], ForkingWorker)
    jobs = [span for _, span in exported(exporting.received) if span.name.startswith("job ")]
    tracing.flush()  # this process's span ("hand over")
    spans = [span for _, span in exported(exporting.received)]
    assert [span.name for span in jobs] == ["job maintenance.purge_idempotency_keys"]
    [hand_over] = [span for span in spans if span.name == "hand over"]
    assert jobs[0].trace_id == hand_over.trace_id
    assert jobs[0].parent_span_id == hand_over.span_id
