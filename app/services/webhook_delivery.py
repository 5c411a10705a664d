"""Sending webhook deliveries: one job per attempt, retried by its due time, never by sleeping.

``deliver(delivery_id)`` (the ``webhooks.deliver`` job, queue ``webhooks``) works in three
steps so that no database transaction or row lock is held over the network call:

1. claim, in one unit of work: the delivery row is locked (``SKIP LOCKED`` on PostgreSQL: a
   second job for it simply leaves), and taken only while pending and due, its endpoint
   active, and, for an ``ordered`` endpoint, no earlier delivery of that endpoint still
   pending. Taking it moves ``next_attempt_at`` past the call's longest duration (a lease):
   a crash during the call leaves a pending delivery that falls due again and is retried
   (receivers dedupe on ``webhook-id``);
2. the signed POST (:mod:`app.gateways.webhook_post`), outside any transaction;
3. record, in another unit of work: the attempt row, then the outcome. 2xx: succeeded, and
   the endpoint's failures are forgotten. A timeout, a connection error, a 5xx or a 429:
   due again after :func:`backoff` (base ``WEBHOOK_RETRY_BASE_SECONDS``, three times longer
   each attempt, at most ``WEBHOOK_RETRY_MAX_SECONDS``, ±20 % jitter; a ``Retry-After`` is
   honoured up to ``WEBHOOK_RETRY_AFTER_MAX_SECONDS``), until the delivery is
   ``WEBHOOK_RETRY_FOR_HOURS`` old: then failed (given up). Any other answer (4xx, a 3xx:
   redirects are not followed) or a refused address: failed at once; 410 Gone disables the
   endpoint too. Every failure counts on the endpoint; ``WEBHOOK_DISABLE_AFTER_FAILURES``
   in a row spanning ``WEBHOOK_DISABLE_AFTER_HOURS`` disable it, its pending deliveries are
   cancelled and its staff (a platform endpoint: the platform admins) are emailed once,
   through notification rows written in the same transaction.

Due deliveries are handed to the queue by ``hand_over_due`` (periodic, and the sweep kind
``webhooks``); the end of an ordered endpoint's delivery hands over its next one at once.
An endpoint whose attempt took longer than ``WEBHOOK_SLOW_AFTER_SECONDS`` (or timed out) is
delivered to on the ``webhooks_slow`` queue for the next hour (``slow_until``), so that a
slow receiver holds up only other slow ones, never the quick receivers' deliveries.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import aliased

from app import jobqueue
from app.extensions import db
from app.gateways import webhook_post
from app.models import Account, Provider
from app.models.types import utcnow
from app.models.webhooks import (
    CANCELLED,
    EXCERPT_BYTES,
    FAILED,
    PENDING,
    SUCCEEDED,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.services import notification_templates as templates
from app.services import staff_notifications
from app.services.display_formats import format_local_time
from app.services.notifications import enqueue_sends
from app.services.roles import ADMIN
from app.services.transactions import after_commit, unit_of_work
from app.services.webhook_topics import TEST_TOPIC

log = logging.getLogger(__name__)

DELIVER_JOB = "webhooks.deliver"
DELIVER_SLOW_JOB = "webhooks.deliver_slow"  # the same, on the ``webhooks_slow`` queue
SLOW_FOR = timedelta(hours=1)
DISABLED_TEMPLATE = "staff_webhook_disabled"
JITTER = 0.2
LEASE_MARGIN = timedelta(seconds=60)  # past the call's longest duration
HAND_OVER_BATCH = 500
# A new delivery is handed over by its fan-out; the periodic hand-over takes it only once
# it has waited this long (a lost job), not while it waits its turn in a busy queue.
FRESH_GRACE = timedelta(minutes=2)

# outcomes of ``deliver``
SENT, RETRYING, GAVE_UP, REFUSED, SKIPPED, WAITING, MOVED = (
    "succeeded", "retrying", "failed", "refused", "skipped", "waiting", "moved")
QUICK, SLOW = "quick", "slow"  # the lane (queue) a delivery job runs in


# --- new deliveries ------------------------------------------------------------------------------

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


def delivery_values(endpoint_id: int, *, topic: str, event_id: str | None,
                    occurred_at: datetime, data: dict, provider_id: int | None,
                    now: datetime) -> dict:
    """The columns of a new pending delivery, due now."""
    return dict(endpoint_id=endpoint_id, provider_id=provider_id, event_id=event_id,
                message_id=new_message_id(), topic=topic,
                payload=envelope(topic, occurred_at, data), status=PENDING, attempts=0,
                next_attempt_at=now, occurred_at=occurred_at, created_at=now)


def add_test_delivery(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` delivery for the endpoint (in the caller's unit of work)."""
    now = utcnow()
    data = {"endpoint_id": endpoint.id,
            "message": "A test event from Bookwell: your endpoint receives and verifies "
                       "webhooks."}
    delivery = WebhookDelivery(**delivery_values(
        endpoint.id, topic=TEST_TOPIC, event_id=None, occurred_at=now, data=data,
        provider_id=endpoint.provider_id, now=now))
    db.session.add(delivery)
    db.session.flush()
    return delivery


def hand_over(delivery_id: int, *, slow: bool = False) -> None:
    """Queue the delivery's job (after commit), on the slow lane for an endpoint that was
    slow of late; a failure leaves it to the sweep."""
    try:
        jobqueue.enqueue(DELIVER_SLOW_JOB if slow else DELIVER_JOB, delivery_id,
                         job_id=f"webhook-delivery-{delivery_id}")
    except Exception:
        log.exception("handing webhook delivery %s over failed; the sweep will", delivery_id)


def is_slow(endpoint: WebhookEndpoint, now: datetime | None = None) -> bool:
    """Delivered to on the slow lane: an attempt of late took long or timed out."""
    return endpoint.slow_until is not None and endpoint.slow_until > (now or utcnow())


def hand_over_due(*, now: datetime | None = None, limit: int = HAND_OVER_BATCH) -> int:
    """Queue every pending delivery that is due (retries, and jobs a crash lost: never
    tried and waiting for ``FRESH_GRACE``); for an ordered endpoint only its first pending
    one. Returns how many were handed over."""
    now = now or utcnow()
    earlier = aliased(WebhookDelivery)
    waits_its_turn = exists(select(earlier.id).where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id, earlier.status == PENDING,
        (earlier.occurred_at < WebhookDelivery.occurred_at)
        | ((earlier.occurred_at == WebhookDelivery.occurred_at)
           & (earlier.id < WebhookDelivery.id))))
    with unit_of_work():
        due = db.session.execute(
            select(WebhookDelivery.id, WebhookEndpoint.slow_until).join(
                WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now,
                   (WebhookDelivery.attempts > 0)
                   | (WebhookDelivery.next_attempt_at <= now - FRESH_GRACE),
                   ~(WebhookEndpoint.ordered & waits_its_turn))
            .order_by(WebhookDelivery.next_attempt_at).limit(limit)).all()
    for delivery_id, slow_until in due:
        hand_over(delivery_id, slow=slow_until is not None and slow_until > now)
    return len(due)


# --- one attempt -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    endpoint_id: int
    url: str
    message_id: str
    body: bytes
    secrets: list[str]


def deliver(delivery_id: int, *, now: datetime | None = None, lane: str | None = None) -> str:
    """One attempt of the delivery if it is due; returns what became of it. A job in the
    quick lane hands a delivery to a receiver that became slow over to the slow lane."""
    config = current_app.config
    limits = webhook_post.PostLimits.from_config(config)
    claim = _claim(delivery_id, now or utcnow(), limits, lane)
    if isinstance(claim, str):
        return claim
    result = webhook_post.post(claim.url, claim.body, message_id=claim.message_id,
                               secrets=claim.secrets, limits=limits)
    return _record(claim, result, now or utcnow())


def _claim(delivery_id: int, now: datetime, limits, lane: str | None) -> _Claim | str:
    with unit_of_work():
        query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        delivery = db.session.scalar(query.execution_options(populate_existing=True))
        if delivery is None:
            return SKIPPED  # gone, or another job holds it right now
        if delivery.status != PENDING or delivery.next_attempt_at is None \
                or delivery.next_attempt_at > now:
            return SKIPPED
        endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
        if not endpoint.active:
            delivery.status, delivery.next_attempt_at = CANCELLED, None
            return CANCELLED
        if endpoint.ordered and _earlier_pending(delivery):
            return WAITING  # the one before hands this over when it is done
        if lane == QUICK and is_slow(endpoint, now):
            after_commit(hand_over, delivery.id, slow=True)  # queued before it was slow
            return MOVED
        lease = timedelta(seconds=limits.connect_timeout + limits.read_timeout) + LEASE_MARGIN
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.next_attempt_at = now + lease
        return _Claim(delivery.id, endpoint.id, endpoint.url, delivery.message_id,
                      delivery.payload.encode("utf-8"), signing_secrets(endpoint, now))


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    found = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at \
            and endpoint.previous_secret_expires_at > now:
        found.append(endpoint.previous_secret)
    return found


def _earlier_pending(delivery: WebhookDelivery) -> bool:
    return db.session.scalar(select(WebhookDelivery.id).where(
        WebhookDelivery.endpoint_id == delivery.endpoint_id,
        WebhookDelivery.status == PENDING,
        (WebhookDelivery.occurred_at < delivery.occurred_at)
        | ((WebhookDelivery.occurred_at == delivery.occurred_at)
           & (WebhookDelivery.id < delivery.id))).limit(1)) is not None


def _record(claim: _Claim, result: webhook_post.PostResult, now: datetime) -> str:
    config = current_app.config
    with unit_of_work():
        # Endpoint before delivery: the order disabling (endpoint, then its deliveries) takes.
        endpoint = db.session.get(WebhookEndpoint, claim.endpoint_id, with_for_update=True,
                                  populate_existing=True)
        delivery = db.session.get(WebhookDelivery, claim.delivery_id, with_for_update=True,
                                  populate_existing=True)
        if delivery is None or endpoint is None:
            return SKIPPED  # deleted meanwhile
        db.session.add(WebhookAttempt(
            delivery_id=delivery.id, provider_id=delivery.provider_id, attempted_at=now,
            request_headers=result.request_headers, response_status=result.status,
            response_excerpt=(result.excerpt or "")[:EXCERPT_BYTES] or None,
            duration_ms=result.duration_ms, error=(result.error or None) and result.error[:500],
            error_kind=result.kind))
        outcome = _outcome(delivery, result, now, config)
        if delivery.status == PENDING:  # not cancelled meanwhile
            if outcome == RETRYING:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts, result, config)
            else:
                delivery.status = SUCCEEDED if outcome == SENT else FAILED
                delivery.next_attempt_at = None
        if result.kind == webhook_post.TIMEOUT or result.duration_ms > 1000 * float(
                config.get("WEBHOOK_SLOW_AFTER_SECONDS", 2)):
            endpoint.slow_until = now + SLOW_FOR
        if result.ok:
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
        else:
            _count_failure(endpoint, result, now, config)
        if endpoint.ordered and delivery.status != PENDING:
            after_commit(_hand_over_next, endpoint.id, is_slow(endpoint, now))
    return outcome


def _outcome(delivery: WebhookDelivery, result, now: datetime, config) -> str:
    if result.ok:
        return SENT
    if not retryable(result):
        return REFUSED
    if now - delivery.created_at >= timedelta(hours=config.get("WEBHOOK_RETRY_FOR_HOURS", 72)):
        return GAVE_UP
    return RETRYING


def retryable(result: webhook_post.PostResult) -> bool:
    """Timeouts, connection errors, 5xx and 429 are tried again; anything else is final."""
    if result.kind in (webhook_post.TIMEOUT, webhook_post.NETWORK):
        return True
    return result.status is not None and (result.status >= 500 or result.status == 429)


def backoff(attempts: int, config, *, rand=random.random) -> float:
    """Seconds before the next attempt after ``attempts`` attempts: base × 3^(n-1), at
    most the cap, ±20 % jitter (so that receivers that come back are not hit at once)."""
    base = float(config.get("WEBHOOK_RETRY_BASE_SECONDS", 15))
    cap = float(config.get("WEBHOOK_RETRY_MAX_SECONDS", 12 * 3600))
    delay = min(base * 3 ** max(attempts - 1, 0), cap)
    return delay * (1 - JITTER + 2 * JITTER * rand())


def retry_delay(attempts: int, result, config) -> timedelta:
    delay = backoff(attempts, config)
    if result.retry_after is not None:  # the receiver's wish, within reason
        delay = max(delay, min(result.retry_after,
                               float(config.get("WEBHOOK_RETRY_AFTER_MAX_SECONDS", 6 * 3600))))
    return timedelta(seconds=delay)


def _count_failure(endpoint: WebhookEndpoint, result, now: datetime, config) -> None:
    endpoint.consecutive_failures += 1
    endpoint.failing_since = endpoint.failing_since or now
    if not endpoint.active:
        return
    if result.status == 410:
        _disable_and_tell(endpoint, "The receiver answered 410 Gone: it asked for no more "
                                    "deliveries.", now)
        return
    failures = int(config.get("WEBHOOK_DISABLE_AFTER_FAILURES", 15))
    span = timedelta(hours=float(config.get("WEBHOOK_DISABLE_AFTER_HOURS", 24)))
    if endpoint.consecutive_failures >= failures and now - endpoint.failing_since >= span:
        since = format_local_time(endpoint.failing_since, "UTC")
        _disable_and_tell(endpoint, f"{endpoint.consecutive_failures} failed attempts in a "
                                    f"row since {since}; the last: {result.error}", now)


def _hand_over_next(endpoint_id: int, slow: bool) -> None:
    """An ordered endpoint's next pending delivery, once the one before it is done."""
    with unit_of_work():
        next_id = db.session.scalar(select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == PENDING)
            .order_by(WebhookDelivery.occurred_at, WebhookDelivery.id).limit(1))
    if next_id is not None:
        hand_over(next_id, slow=slow)


# --- the log's retention ---------------------------------------------------------------------

def purge_log(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Delete finished deliveries (with their attempts) created more than
    ``WEBHOOK_LOG_DAYS`` ago; pending ones stay whatever their age. Returns how many."""
    now = now or utcnow()
    cutoff = now - timedelta(days=float(current_app.config.get("WEBHOOK_LOG_DAYS", 30)))
    removed = 0
    while True:
        with unit_of_work():
            ids = list(db.session.scalars(select(WebhookDelivery.id).where(
                WebhookDelivery.status != PENDING, WebhookDelivery.created_at < cutoff)
                .order_by(WebhookDelivery.id).limit(batch)))
            if ids:
                db.session.execute(delete(WebhookAttempt).where(
                    WebhookAttempt.delivery_id.in_(ids)))
                db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
        removed += len(ids)
        if len(ids) < batch:
            return removed


# --- disabling ---------------------------------------------------------------------------------

def disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Inactive, and what was still to go is cancelled (in the caller's transaction)."""
    endpoint.active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason[:500]
    db.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING)
        .values(status=CANCELLED, next_attempt_at=None))


def _disable_and_tell(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    disable(endpoint, reason, now)
    ids = []
    provider = db.session.get(Provider, endpoint.provider_id) if endpoint.provider_id else None
    shown = f"{endpoint.description} ({endpoint.url})" if endpoint.description else endpoint.url
    for address, locale in _people_to_tell(endpoint.provider_id):
        digest = hashlib.sha256(address.encode()).hexdigest()[:24]
        notification_id = staff_notifications.queue_staff_email(
            DISABLED_TEMPLATE, address, locale, provider_id=endpoint.provider_id,
            dedupe=f"webhook-disabled:{endpoint.id}:{int(now.timestamp())}:{digest}",
            context=lambda _locale: _disabled_context(provider, shown, endpoint))
        if notification_id is not None:
            ids.append(notification_id)
    after_commit(enqueue_sends, ids)


def _disabled_context(provider: Provider | None, shown: str,
                      endpoint: WebhookEndpoint) -> dict:
    context = {name: "" for name in templates.VARIABLES}
    context.update(provider_name=provider.name if provider else "the platform",
                   webhook_endpoint=shown, webhook_reason=endpoint.disabled_reason,
                   quantity=0, credit_note=False, fully_refunded=False,
                   free_cancellation=False, cancelled_by_customer=False)
    return context


def _people_to_tell(provider_id: int | None) -> list[tuple[str, str]]:
    """(address, locale): the provider's staff addresses, or the platform admins."""
    if provider_id is not None:
        return staff_notifications.staff_addresses(provider_id)
    role = Account.roles.property.mapper.class_  # Flask-AppBuilder's Role
    admins = db.session.scalars(select(Account).join(Account.roles).where(
        Account.active.is_(True), role.name == ADMIN).order_by(Account.id)).all()
    found: dict[str, str] = {}
    for account in admins:
        if account.email:
            found.setdefault(account.email.lower(),
                             account.locale or templates.DEFAULT_LOCALE)
    return list(found.items())
