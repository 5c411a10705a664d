"""Figures read at scrape time: queue depth and age, outbox lag, inbox and delivery backlogs.

A scrape reads them fresh from Redis and PostgreSQL, in the web process answering
``/metrics``: a few statements, each on an index (``ix_outbox_event_status_created``,
``ix_outbox_event_webhooks_pending``, ``ix_payment_event_status_received``,
``ix_webhook_delivery_status_next``), and two Redis calls per queue. A source that does
not answer is reported as ``bookwell_metrics_source_up{source} 0`` and skipped; the rest
of the scrape still works.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from app.extensions import db
from app.jobqueue import QUEUES, get_queue
from app.models.events import QUEUED, OutboxEvent
from app.models.payments import EVENT_RECEIVED, PaymentEvent
from app.models.types import utcnow
from app.models.webhooks import PENDING, WebhookDelivery

log = logging.getLogger(__name__)


def _age(oldest: datetime | None, now: datetime) -> float:
    return max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0


class StateCollector:
    """A prometheus-client collector; ``collect`` runs inside the scrape's app context."""

    def collect(self):
        up = GaugeMetricFamily("bookwell_metrics_source_up",
                               "Whether the source of the scrape-time figures answered.",
                               labels=["source"])
        for source, read in (("database", self._database), ("redis", self._redis)):
            if source == "redis" and not current_app.config.get("REDIS_URL"):
                continue  # embedded mode: jobs run inline, there are no queues
            try:
                families = list(read())
            except Exception:
                log.exception("metrics: reading the %s failed", source)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up

    def _database(self):
        now = utcnow()
        with db.engine.connect() as conn:
            outbox = conn.execute(select(func.count(), func.min(OutboxEvent.created_at))
                                  .where(OutboxEvent.status == QUEUED)).one()
            marked = conn.execute(select(func.count(), func.min(OutboxEvent.created_at))
                                  .where(OutboxEvent.webhooks_pending)).one()
            inbox = conn.execute(select(func.count(), func.min(PaymentEvent.received_at))
                                 .where(PaymentEvent.status == EVENT_RECEIVED)).one()
            deliveries = conn.execute(select(func.count())
                                      .where(WebhookDelivery.status == PENDING)).scalar_one()
        yield _gauge("bookwell_outbox_queued_events",
                     "Committed domain events not yet handled by their consumers.",
                     outbox[0])
        yield _gauge("bookwell_outbox_lag_seconds",
                     "Age of the oldest domain event not yet handled (0: none waiting).",
                     _age(outbox[1], now))
        yield _gauge("bookwell_webhook_fanout_pending_events",
                     "Events waiting for the outgoing webhook fan-out.", marked[0])
        yield _gauge("bookwell_webhook_fanout_lag_seconds",
                     "Age of the oldest event waiting for the webhook fan-out.",
                     _age(marked[1], now))
        yield _gauge("bookwell_payment_webhook_backlog",
                     "Payment gateway webhooks stored but not yet processed.", inbox[0])
        yield _gauge("bookwell_payment_webhook_backlog_age_seconds",
                     "Age of the oldest payment gateway webhook not yet processed.",
                     _age(inbox[1], now))
        yield _gauge("bookwell_webhook_deliveries_pending",
                     "Outgoing webhook deliveries not yet delivered (due or waiting to "
                     "retry).", deliveries)

    def _redis(self):
        depth = GaugeMetricFamily("bookwell_queue_jobs", "Jobs waiting in each RQ queue.",
                                  labels=["queue"])
        age = GaugeMetricFamily("bookwell_queue_oldest_job_age_seconds",
                                "Age of the job waiting longest in each RQ queue "
                                "(0: empty).", labels=["queue"])
        now = utcnow()
        for name in QUEUES:
            queue = get_queue(name)
            depth.add_metric([name], queue.count)
            oldest = None
            for job_id in queue.get_job_ids(0, 1):
                job = queue.fetch_job(job_id)
                oldest = job.enqueued_at if job is not None else None
            if oldest is not None and oldest.tzinfo is None:  # RQ stores UTC, naive
                oldest = oldest.replace(tzinfo=now.tzinfo)
            age.add_metric([name], _age(oldest, now))
        yield depth
        yield age


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
