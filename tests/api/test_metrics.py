"""``/metrics``: counters that move with bookings, payments and messages; route templates;
access by token; the figures read at scrape time (queues, outbox, inbox)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from app import metrics
from app.extensions import db
from app.jobqueue import get_queue
from app.models import Notification
from app.models.events import QUEUED, OutboxEvent
from app.models.payments import PaymentEvent
from app.models.types import utcnow
from app.services import payments
from app.services.scopes import Scope
from jobs.worker import run_worker
from tests.helpers import bearer, token_for


def scrape(client, **kwargs) -> dict[tuple, float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.data[:300]
    figures = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            figures[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return figures


def figure(figures: dict, name: str, **labels) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def world(build, monkeypatch, app, tmp_path):
    for key in ("MAIL_SERVER", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.setitem(app.config, key, None)
    monkeypatch.setitem(app.config, "NOTIFICATION_OUTBOX_DIR", str(tmp_path / "outbox"))
    provider = build.provider()
    # Paid at the venue: staff record the payment (a payment with no gateway server).
    service = build.offering(provider, name="Massage", price_minor=6000, pay_at_venue=True)
    customer = build.customer()
    return {"provider": provider, "service": service, "customer": customer,
            "staff": build.staff(provider),
            "slot": build.future_slot(service, capacity=3),
            "headers": bearer(token_for(customer))}


def test_a_booking_a_payment_and_a_message_move_their_counters(client, app, world):
    before = scrape(client)
    placed = client.post("/api/v1/bookings", headers=world["headers"], json={
        "offering_id": world["service"], "slot_id": world["slot"], "quantity": 1})
    assert placed.status_code == 201, placed.get_json()
    reference = placed.get_json()["reference"]
    assert client.get(f"/api/v1/bookings/{reference}",
                      headers=world["headers"]).status_code == 200
    payments.mark_paid(reference, actor_id=world["staff"],
                       scope=Scope.of_provider(world["provider"]))
    if app.config["REDIS_URL"]:  # the events and the messages wait for a worker
        run_worker(app, ["events", "notifications"], burst=True, fork=False)
    db.session.expire_all()
    sent = db.session.scalar(select(db.func.count()).select_from(Notification).where(
        Notification.status == "sent", Notification.channel == "email"))
    assert sent >= 1
    after = scrape(client)

    def moved(name, **labels):
        return figure(after, name, **labels) - figure(before, name, **labels)

    assert moved("bookwell_bookings_total", event="placed") == 1
    assert moved("bookwell_bookings_total", event="confirmed") == 1
    assert moved("bookwell_events_total", topic="booking.created") == 1
    assert moved("bookwell_payments_total", outcome="succeeded", gateway="manual") == 1
    assert moved("bookwell_events_total", topic="payment.succeeded") == 1
    assert moved("bookwell_messages_total", channel="email", outcome="sent") == sent
    assert moved("bookwell_http_requests_total", method="POST", route="/api/v1/bookings",
                 status="201") == 1
    # The route template, never the reference itself.
    template = [labels for name, labels in after
                if name == "bookwell_http_requests_total" and ("method", "GET") in labels
                and dict(labels)["route"].startswith("/api/v1/bookings/")]
    assert template and all("<" in dict(labels)["route"] for labels in template)
    assert moved("bookwell_http_request_duration_seconds_count", method="POST",
                 route="/api/v1/bookings") == 1
    assert reference not in client.get("/metrics").get_data(as_text=True)


def test_an_unmatched_path_is_counted_under_one_label(client):
    before = scrape(client)
    assert client.get("/no/such/page/ABC123").status_code == 404
    after = scrape(client)
    labels = dict(method="GET", route=metrics.UNMATCHED, status="404")
    assert (figure(after, "bookwell_http_requests_total", **labels)
            - figure(before, "bookwell_http_requests_total", **labels)) == 1
    assert "ABC123" not in client.get("/metrics").get_data(as_text=True)


def test_a_token_guards_the_metrics_when_set(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-scrape-token")
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers=bearer("wrong")).status_code == 401
    ok = client.get("/metrics", headers=bearer("s3cret-scrape-token"))
    assert ok.status_code == 200
    assert b"bookwell_http_requests_total" in ok.data


def test_without_a_token_only_loopback_in_development_and_no_one_in_production(
        client, app, monkeypatch):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 404
    monkeypatch.setitem(app.config, "BOOKWELL_ENV", "production")
    assert client.get("/metrics").status_code == 404


def test_metrics_off_count_nothing_and_answer_404(client, monkeypatch):
    before = scrape(client)
    monkeypatch.setattr(metrics, "_enabled", False)
    assert client.get("/metrics").status_code == 404
    metrics.events_committed([("booking.created", {})])
    monkeypatch.setattr(metrics, "_enabled", True)
    after = scrape(client)
    assert figure(after, "bookwell_bookings_total", event="placed") == figure(
        before, "bookwell_bookings_total", event="placed")


def test_queue_depth_and_oldest_job_age_are_read_at_scrape_time(client, app, monkeypatch):
    # Without TEST_REDIS_URL the app's Redis is fakeredis; the gauges read it all the same.
    if not app.config["REDIS_URL"]:
        monkeypatch.setitem(app.config, "REDIS_URL", "redis://fake")
    with app.app_context():
        queue = get_queue("notifications")
        jobs = [queue.enqueue("app.metrics.enabled") for _ in range(3)]
        jobs[0].enqueued_at = utcnow() - timedelta(minutes=5)
        jobs[0].save()
    figures = scrape(client)
    assert figure(figures, "bookwell_queue_jobs", queue="notifications") == 3
    assert figure(figures, "bookwell_queue_jobs", queue="payments") == 0
    assert 299 <= figure(figures, "bookwell_queue_oldest_job_age_seconds",
                         queue="notifications") < 600
    assert figure(figures, "bookwell_queue_oldest_job_age_seconds", queue="payments") == 0
    assert figure(figures, "bookwell_metrics_source_up", source="redis") == 1


def test_outbox_lag_and_the_payment_webhook_backlog(client, app_ctx):
    figures = scrape(client)
    assert figure(figures, "bookwell_outbox_lag_seconds") == 0
    assert figure(figures, "bookwell_payment_webhook_backlog") == 0
    ten_minutes_ago = utcnow() - timedelta(minutes=10)
    db.session.add(OutboxEvent(id="00000000-0000-4000-8000-000000000001",
                               topic="booking.created", payload={}, status=QUEUED,
                               attempts=0, created_at=ten_minutes_ago))
    db.session.add(PaymentEvent(gateway="stripe", event_id="evt_waiting",
                                type="payment_intent.succeeded", payload={},
                                received_at=ten_minutes_ago))
    db.session.commit()
    figures = scrape(client)
    assert figure(figures, "bookwell_outbox_queued_events") == 1
    assert 599 <= figure(figures, "bookwell_outbox_lag_seconds") < 900
    assert figure(figures, "bookwell_payment_webhook_backlog") == 1
    assert 599 <= figure(figures, "bookwell_payment_webhook_backlog_age_seconds") < 900
    assert figure(figures, "bookwell_webhook_deliveries_pending") == 0
    assert figure(figures, "bookwell_metrics_source_up", source="database") == 1


def test_database_pool_use_is_counted(client, app):
    figures = scrape(client)
    # The scrape's own statements hold a connection of the default pool while it runs
    # only; afterwards what is checked out is never negative.
    assert figure(figures, "bookwell_db_pool_checked_out", pool="default") >= 0
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert figure(figures, "bookwell_db_pool_size", pool="default") >= 1


def test_a_worker_serves_its_own_figures_on_a_port_of_its_own(app):
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = metrics.serve_on_port(port, "127.0.0.1")
    try:
        metrics.message_attempted("sms", "failed")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            body = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    figures = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
               for family in text_string_to_metric_families(body) for sample in family.samples}
    assert figure(figures, "bookwell_messages_total", channel="sms", outcome="failed") >= 1


def test_events_count_once_committed_and_never_when_rolled_back(client, app_ctx):
    from app import events
    from app.services.transactions import unit_of_work

    before = scrape(client)
    with pytest.raises(RuntimeError):
        with unit_of_work():
            events.publish("metrics.probe", {"n": 1})
            raise RuntimeError("changed our mind")
    assert figure(scrape(client), "bookwell_events_total", topic="metrics.probe") == figure(
        before, "bookwell_events_total", topic="metrics.probe")
    with unit_of_work():
        events.publish("metrics.probe", {"n": 2})
        events.publish("metrics.probe", {"n": 3})
    assert figure(scrape(client), "bookwell_events_total", topic="metrics.probe") == figure(
        before, "bookwell_events_total", topic="metrics.probe") + 2
