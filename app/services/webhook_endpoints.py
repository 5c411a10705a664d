"""Managing webhook endpoints: what the provider API and the console call.

Every function takes a :class:`~app.services.scopes.Scope`. A provider scope sees and
changes only that provider's endpoints (a platform endpoint, ``provider_id`` NULL, is
invisible to it: 404 like any foreign row); the all-providers scope (platform admins)
sees every endpoint and creates platform endpoints (``provider_id=None``) or a
provider's.

The secret is returned in full only by :func:`create_endpoint` and :func:`rotate_secret`
(the row carries it; the edges show it then and mask it everywhere else with
:func:`masked_secret`); the audit log never stores it (``audit.MASKED_FIELDS``).
"""
from __future__ import annotations

import base64
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.gateways import outbound_address
from app.models.tenancy import Provider
from app.models.types import utcnow
from app.models.webhooks import (
    DELIVERY_STATUSES,
    DESCRIPTION_LENGTH,
    PENDING,
    URL_LENGTH,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.services import audit, validation, webhook_delivery, webhook_fanout
from app.services.scopes import Scope, require_scope
from app.services.tenancy import get_owned, scoped
from app.services.transactions import after_commit, unit_of_work
from app.services.webhook_topics import PUBLIC_TOPICS, unknown_topics

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
ALL_TOPICS = "*"  # subscribes to every public topic, those added later included
MAX_ENDPOINTS_PER_OWNER = 20
MAX_OVERLAP_HOURS = 24 * 7
DELIVERY_PAGE = 50
CURRENT_VERSION = "1"
VERSIONS = ("1",)
INVALID = "webhook_endpoint.invalid"


@dataclass(frozen=True)
class DeliveryDetail:
    """A delivery with its attempts, newest first."""

    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


# --- reading ---------------------------------------------------------------------------------

def list_endpoints(*, scope: Scope) -> list[WebhookEndpoint]:
    """The scope's endpoints (admins: every provider's and the platform's), oldest first."""
    query = scoped(select(WebhookEndpoint), WebhookEndpoint, scope=scope)
    return list(db.session.scalars(query.order_by(WebhookEndpoint.id)))


def get_endpoint(endpoint_id: int, *, scope: Scope) -> WebhookEndpoint:
    """One endpoint the scope may see; another provider's or the platform's is NotFound."""
    return get_owned(WebhookEndpoint, endpoint_id, scope=scope, label="webhook_endpoint")


def list_deliveries(endpoint_id: int, *, scope: Scope, status: str | None = None,
                    limit: int = DELIVERY_PAGE,
                    before_id: int | None = None) -> list[WebhookDelivery]:
    """The endpoint's deliveries, newest first; ``status`` filters, ``before_id`` pages."""
    endpoint = get_endpoint(endpoint_id, scope=scope)
    if status is not None and status not in DELIVERY_STATUSES:
        raise ValidationFailed("webhook_delivery.invalid_status",
                               f"Unknown delivery status {status!r}.",
                               {"status": [f"One of {', '.join(DELIVERY_STATUSES)}."]})
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    limit = max(1, min(int(limit), 200))
    return list(db.session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def get_delivery(endpoint_id: int, delivery_id: int, *, scope: Scope) -> DeliveryDetail:
    """A delivery of the endpoint with its attempts (newest first)."""
    delivery = _delivery_of(endpoint_id, delivery_id, scope=scope)
    attempts = list(db.session.scalars(select(WebhookAttempt).where(
        WebhookAttempt.delivery_id == delivery.id).order_by(WebhookAttempt.attempted_at.desc(),
                                                            WebhookAttempt.id.desc())))
    return DeliveryDetail(delivery, attempts)


def masked_secret(secret: str | None) -> str:
    """``whsec_…abcd``: enough to tell two secrets apart, nothing to sign with."""
    if not secret:
        return ""
    return f"{SECRET_PREFIX}…{secret[-4:]}"


# --- changing ----------------------------------------------------------------------------------

def create_endpoint(*, scope: Scope, url: str, topics, description: str = "",
                    ordered: bool = False, active: bool = True, provider_id: int | None = None,
                    version: str = CURRENT_VERSION) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (read it from the row once: it is shown only now).

    Provider staff create their provider's endpoints (``provider_id`` is theirs or None);
    admins create a provider's (``provider_id``) or a platform endpoint (None)."""
    require_scope(scope)
    owner = _owner_for(scope, provider_id)
    values = dict(url=normalised_url(url), topics=normalised_topics(topics),
                  description=_description(description), ordered=bool(ordered),
                  active=bool(active), version=_version(version))
    with unit_of_work():
        owned = select(WebhookEndpoint.id).where(
            WebhookEndpoint.provider_id.is_(None) if owner is None
            else WebhookEndpoint.provider_id == owner)
        if len(db.session.scalars(owned).all()) >= MAX_ENDPOINTS_PER_OWNER:
            raise Conflict("webhook_endpoint.too_many",
                           f"At most {MAX_ENDPOINTS_PER_OWNER} webhook endpoints each.",
                           {"url": [f"Remove one first (at most {MAX_ENDPOINTS_PER_OWNER})."]})
        endpoint = WebhookEndpoint(provider_id=owner, secret=new_secret(), **values)
        db.session.add(endpoint)
        after_commit(webhook_fanout.forget_endpoints)
    return endpoint


def update_endpoint(endpoint_id: int, *, scope: Scope, **changes) -> WebhookEndpoint:
    """Change any of ``url``, ``topics``, ``description``, ``ordered``, ``active``,
    ``version``. Setting ``active`` true re-enables a disabled endpoint (see
    :func:`enable_endpoint`); false disables it (:func:`disable_endpoint`)."""
    allowed = {"url", "topics", "description", "ordered", "active", "version"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise TypeError(f"update_endpoint() got unexpected fields {unknown}")
    values = {}
    if "url" in changes:
        values["url"] = normalised_url(changes["url"])
    if "topics" in changes:
        values["topics"] = normalised_topics(changes["topics"])
    if "description" in changes:
        values["description"] = _description(changes["description"])
    if "ordered" in changes:
        values["ordered"] = bool(changes["ordered"])
    if "version" in changes:
        values["version"] = _version(changes["version"])
    with unit_of_work():
        endpoint = _locked(endpoint_id, scope)
        if values.get("topics", endpoint.topics) != endpoint.topics:
            endpoint.listening_since = utcnow()
        for key, value in values.items():
            setattr(endpoint, key, value)
        if "active" in changes and bool(changes["active"]) != endpoint.active:
            if changes["active"]:
                _enable(endpoint)
            else:
                _disable(endpoint, "Disabled by staff.", utcnow())
        after_commit(webhook_fanout.forget_endpoints)
    return endpoint


def delete_endpoint(endpoint_id: int, *, scope: Scope) -> None:
    """The endpoint goes, with its deliveries and their attempts."""
    with unit_of_work():
        endpoint = _locked(endpoint_id, scope)
        db.session.delete(endpoint)
        after_commit(webhook_fanout.forget_endpoints)


def rotate_secret(endpoint_id: int, *, scope: Scope,
                  overlap_hours: float | None = None) -> WebhookEndpoint:
    """A new secret; the old one keeps signing beside it for ``overlap_hours`` (default
    ``WEBHOOK_SECRET_OVERLAP_HOURS``; 0 ends it at once), so receivers can switch over."""
    if overlap_hours is None:
        overlap_hours = current_app.config.get("WEBHOOK_SECRET_OVERLAP_HOURS", 24)
    try:
        overlap = float(overlap_hours)
    except (TypeError, ValueError):
        overlap = -1.0
    if not 0 <= overlap <= MAX_OVERLAP_HOURS:
        raise ValidationFailed(INVALID, "Check the overlap.", {"overlap_hours": [
            f"Between 0 and {MAX_OVERLAP_HOURS} hours."]})
    now = utcnow()
    with unit_of_work():
        endpoint = _locked(endpoint_id, scope)
        if overlap > 0:
            endpoint.previous_secret = endpoint.secret
            endpoint.previous_secret_expires_at = now + timedelta(hours=overlap)
        else:
            endpoint.previous_secret = endpoint.previous_secret_expires_at = None
        endpoint.secret = new_secret()
        audit.record("webhook_endpoint.secret_rotated", entity="webhook_endpoint",
                     subject=endpoint, changes={
                         "secret": masked_secret(endpoint.secret),
                         "previous_secret_expires_at": endpoint.previous_secret_expires_at})
    return endpoint


def enable_endpoint(endpoint_id: int, *, scope: Scope) -> WebhookEndpoint:
    """Active again, its failures forgotten (new events are delivered from now on)."""
    with unit_of_work():
        endpoint = _locked(endpoint_id, scope)
        _enable(endpoint)
        after_commit(webhook_fanout.forget_endpoints)
    return endpoint


def disable_endpoint(endpoint_id: int, *, scope: Scope,
                     reason: str = "Disabled by staff.") -> WebhookEndpoint:
    """No more deliveries; those still pending are cancelled (redeliver them by hand)."""
    with unit_of_work():
        endpoint = _locked(endpoint_id, scope)
        if endpoint.active:
            _disable(endpoint, reason, utcnow())
    return endpoint


def redeliver(endpoint_id: int, delivery_id: int, *, scope: Scope) -> WebhookDelivery:
    """Send the delivery again now, whatever became of it: the same body and
    ``webhook-id`` (receivers that saw it already can tell). A retryable failure of this
    attempt is retried while the delivery is within its retry window."""
    delivery = _delivery_of(endpoint_id, delivery_id, scope=scope)
    with unit_of_work():
        endpoint = _locked(endpoint_id, scope)
        if not endpoint.active:
            raise Conflict("webhook_endpoint.disabled",
                           "The endpoint is disabled; enable it first.",
                           {"active": ["Disabled."]})
        db.session.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == delivery.id).values(status=PENDING, next_attempt_at=utcnow()))
        audit.record("webhook_delivery.redelivered", entity="webhook_delivery",
                     entity_id=delivery.id, provider_id=delivery.provider_id,
                     changes={"message_id": delivery.message_id})
        after_commit(webhook_delivery.hand_over, delivery.id,
                     slow=webhook_delivery.is_slow(endpoint))
    db.session.refresh(delivery)
    return delivery


def send_test_event(endpoint_id: int, *, scope: Scope) -> WebhookDelivery:
    """A ``webhook.test`` delivery to the endpoint, sent now (enabled endpoints only)."""
    with unit_of_work():
        endpoint = _locked(endpoint_id, scope)
        if not endpoint.active:
            raise Conflict("webhook_endpoint.disabled",
                           "The endpoint is disabled; enable it first.",
                           {"active": ["Disabled."]})
        delivery = webhook_delivery.add_test_delivery(endpoint)
        audit.record("webhook_endpoint.test_sent", entity="webhook_endpoint",
                     subject=endpoint, changes={"message_id": delivery.message_id})
        after_commit(webhook_delivery.hand_over, delivery.id,
                     slow=webhook_delivery.is_slow(endpoint))
    return delivery


# --- rules -------------------------------------------------------------------------------------

def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def normalised_url(url) -> str:
    """An http(s) address outside the platform's own networks; https unless the host is
    allow-listed (``WEBHOOK_ALLOWED_HOSTS``) or ``WEBHOOK_REQUIRE_HTTPS`` is off.
    Host names are resolved again, and checked, at every delivery."""
    address = (url or "").strip() if isinstance(url, str) else ""
    config = current_app.config
    allowed = outbound_address.allow_list(config.get("WEBHOOK_ALLOWED_HOSTS"))
    parts, problem = validation.http_address_problem(
        address, max_length=URL_LENGTH,
        example="An http or https address, e.g. https://example.com/hooks/bookwell")
    if problem is None and (parts.username or parts.password):
        problem = "Put no user name or password in the address."
    if problem is None:
        host = parts.hostname.lower()
        host_allowed = outbound_address.host_in_allow_list(host, allowed)
        if parts.scheme.lower() != "https" and not host_allowed \
                and config.get("WEBHOOK_REQUIRE_HTTPS", True):
            problem = "Use an https address."
        elif not host_allowed and _inside_host(host, allowed):
            problem = "The address leads to a private or local network."
    if problem:
        raise ValidationFailed(INVALID, "Check the webhook address.", {"url": [problem]})
    return address


def normalised_topics(topics) -> list[str]:
    """A list of public topic names (or ``["*"]``: all of them), each once, in order."""
    if isinstance(topics, str) or not isinstance(topics, (list, tuple)) or not topics:
        raise ValidationFailed(INVALID, "Choose the events to send.", {"topics": [
            "A list of one or more topics, e.g. [\"booking.confirmed\"], or [\"*\"]."]})
    names = []
    for topic in topics:
        if not isinstance(topic, str):
            raise ValidationFailed(INVALID, "Choose the events to send.",
                                   {"topics": ["Topics are names."]})
        if topic not in names:
            names.append(topic)
    if ALL_TOPICS in names:
        return [ALL_TOPICS]
    unknown = unknown_topics(names)
    if unknown:
        raise ValidationFailed(INVALID, "Unknown event topics.", {"topics": [
            f"Unknown: {', '.join(unknown)}. Known: {', '.join(PUBLIC_TOPICS)}."]})
    return names


def _inside_host(host: str, allowed) -> bool:
    """A literal private, loopback or link-local address (or localhost): refused at once.
    Host names are checked after DNS resolution, at delivery."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not outbound_address.address_allowed(address, outbound_address.networks(allowed))


def _description(value) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > DESCRIPTION_LENGTH:
        raise ValidationFailed(INVALID, "Check the description.", {"description": [
            f"At most {DESCRIPTION_LENGTH} characters."]})
    return text


def _version(value) -> str:
    if value not in VERSIONS:
        raise ValidationFailed(INVALID, "Unknown payload version.", {"version": [
            f"One of {', '.join(VERSIONS)}."]})
    return value


def _owner_for(scope: Scope, provider_id: int | None) -> int | None:
    if not scope.every_provider:
        if provider_id not in (None, scope.provider_id):
            raise NotFound("provider.not_found", f"No provider with id {provider_id}.")
        return scope.provider_id
    if provider_id is not None and db.session.get(Provider, provider_id) is None:
        raise ValidationFailed(INVALID, "Unknown provider.", {"provider_id": [
            f"No provider with id {provider_id}."]})
    return provider_id


def _locked(endpoint_id: int, scope: Scope) -> WebhookEndpoint:
    row = db.session.scalar(scoped(select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id), WebhookEndpoint, scope=scope)
        .with_for_update().execution_options(populate_existing=True))
    if row is None:
        raise NotFound("webhook_endpoint.not_found", f"No webhook endpoint with id {endpoint_id}.")
    return row


def _delivery_of(endpoint_id: int, delivery_id: int, *, scope: Scope) -> WebhookDelivery:
    endpoint = get_endpoint(endpoint_id, scope=scope)
    delivery = db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id))
    if delivery is None:
        raise NotFound("webhook_delivery.not_found", f"No webhook delivery with id {delivery_id}.")
    return delivery


def _enable(endpoint: WebhookEndpoint) -> None:
    if not endpoint.active:
        endpoint.listening_since = utcnow()
    endpoint.active = True
    endpoint.disabled_at = endpoint.disabled_reason = endpoint.failing_since = None
    endpoint.consecutive_failures = 0


def _disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    webhook_delivery.disable(endpoint, reason, now)
