"""Sending webhook deliveries: one job per delivery, retried by its due time.

(The sending itself follows in the next change; this module holds what the endpoints'
management needs: new deliveries and handing them to the ``webhooks`` queue.)
"""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone

from sqlalchemy import update

from app import jobqueue
from app.extensions import db
from app.models.types import utcnow
from app.models.webhooks import CANCELLED, PENDING, WebhookDelivery, WebhookEndpoint
from app.services.webhook_topics import TEST_TOPIC

log = logging.getLogger(__name__)

DELIVER_JOB = "webhooks.deliver"


def new_message_id() -> str:
    """``webhook-id``: unique per delivery, the same on all its attempts."""
    return f"msg_{uuid.uuid4().hex}"


def envelope(topic: str, occurred_at: datetime, data: dict) -> str:
    """The JSON body every attempt of a delivery sends: ``type``, ``timestamp``, ``data``."""
    return json.dumps({"type": topic, "timestamp": iso(occurred_at), "data": data},
                      separators=(",", ":"), ensure_ascii=False)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2026-12-06T09:30:00Z``."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def add_delivery(endpoint: WebhookEndpoint, *, topic: str, event_id: str | None,
                 occurred_at: datetime, data: dict,
                 provider_id: int | None) -> WebhookDelivery:
    """A pending delivery for the endpoint, due now (in the caller's unit of work)."""
    now = utcnow()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, provider_id=provider_id,
                               event_id=event_id, message_id=new_message_id(), topic=topic,
                               payload=envelope(topic, occurred_at, data), status=PENDING,
                               attempts=0, next_attempt_at=now, occurred_at=occurred_at,
                               created_at=now)
    db.session.add(delivery)
    db.session.flush()
    return delivery


def add_test_delivery(endpoint: WebhookEndpoint) -> WebhookDelivery:
    now = utcnow()
    data = {"endpoint_id": endpoint.id,
            "message": "A test event from Bookwell: your endpoint receives and verifies "
                       "webhooks."}
    return add_delivery(endpoint, topic=TEST_TOPIC, event_id=None, occurred_at=now,
                        data=data, provider_id=endpoint.provider_id)


def disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Inactive, and what was still to go is cancelled (in the caller's transaction)."""
    endpoint.active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason[:500]
    db.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING)
        .values(status=CANCELLED, next_attempt_at=None))


def hand_over(delivery_id: int) -> None:
    """Queue the delivery's job (after commit); a failure leaves it to the sweep."""
    try:
        jobqueue.enqueue(DELIVER_JOB, delivery_id, job_id=f"webhook-delivery-{delivery_id}")
    except Exception:
        log.exception("handing webhook delivery %s over failed; the sweep will", delivery_id)
