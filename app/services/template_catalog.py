"""The message templates screen: every platform default next to the provider's overrides.

Staff customise a default (an override of their own, starting from the default's text),
preview what is in force for them with sample values, and revert to the default (the
override is deleted). Admins edit the platform defaults themselves: the first edit copies
the shipped file into the database (``notification_templates.load_defaults`` does the
same for all of them). A provider's override of another provider is never found (404).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel import Locale, UnknownLocaleError
from sqlalchemy import select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import NotificationTemplate, Provider
from app.models.notifications import EMAIL, STAFF_TEMPLATE_KEYS
from app.services import notification_templates as templates
from app.services.scopes import Scope, require_scope
from app.services.transactions import unit_of_work

KEY_LABELS = {
    "booking_confirmed": "Booking confirmed",
    "booking_cancelled": "Booking cancelled",
    "booking_rescheduled": "Booking moved",
    "booking_reminder": "Booking reminder",
    "waitlist_offered": "Waiting list: a place came free",
    "payment_declined": "Payment declined (place still held)",
    "payment_failed": "Payment failed",
    "payment_refunded": "Payment refunded",
    "receipt": "Receipt or credit note",
    "registration_attempt": "Someone tried to register with an existing email",
    "password_reset": "Password reset link",
    "email_verification": "Email address verification link",
    "staff_booking_new": "New booking (to staff)",
    "staff_booking_awaiting_confirmation": "Booking waiting for confirmation (to staff)",
    "staff_booking_cancelled": "Booking cancelled (to staff)",
    "staff_webhook_disabled": "Webhook endpoint disabled (to staff)",
    "staff_booking_rescheduled": "Booking moved (to staff)",
}
CHANNEL_LABELS = {EMAIL: "email", "sms": "SMS"}
# Messages about the platform account itself: no provider's override would ever be used.
PLATFORM_ONLY = frozenset({"registration_attempt", "password_reset", "email_verification"})


def template_name(key: str, channel: str, locale: str) -> str:
    """"Booking confirmed — email — English"."""
    return " — ".join((KEY_LABELS.get(key, key.replace("_", " ").capitalize()),
                       CHANNEL_LABELS.get(channel, channel), language_name(locale)))


def language_name(locale: str) -> str:
    try:
        return Locale.parse(locale.replace("-", "_")).get_display_name("en")
    except (ValueError, UnknownLocaleError):
        return locale


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    channel: str
    locale: str
    name: str
    audience: str  # "Customers" or "Staff"
    override_id: int | None  # the provider's override, when it has one
    override_updated_at: datetime | None


@dataclass(frozen=True)
class ProviderOverride:
    id: int
    provider_name: str
    name: str
    updated_at: datetime


def _defaults() -> list[tuple[str, str, str]]:
    """(key, channel, locale) of every platform default: shipped, or added in the database."""
    found = set(templates.shipped_defaults())
    found.update(tuple(row) for row in db.session.execute(select(
        NotificationTemplate.key, NotificationTemplate.channel, NotificationTemplate.locale)
        .where(NotificationTemplate.provider_id.is_(None))).all())
    # Customers' messages, then the staff's; email before SMS; the default language first.
    return sorted(found, key=lambda d: (d[0] in STAFF_TEMPLATE_KEYS, d[0], d[1],
                                        d[2] != templates.DEFAULT_LOCALE, d[2]))


def template_catalog(*, scope: Scope) -> list[CatalogEntry]:
    """Every platform default, with the scope's provider's override of it (none for
    admins, who edit the defaults)."""
    require_scope(scope)
    overrides = {}
    if not scope.every_provider:
        overrides = {(row.key, row.channel, row.locale): row for row in db.session.scalars(
            select(NotificationTemplate).where(
                NotificationTemplate.provider_id == scope.provider_id))}
    entries = []
    for key, channel, locale in _defaults():
        if key in PLATFORM_ONLY and not scope.every_provider:
            continue
        row = overrides.get((key, channel, locale))
        entries.append(CatalogEntry(
            key, channel, locale, template_name(key, channel, locale),
            "Staff" if key in STAFF_TEMPLATE_KEYS else "Customers",
            row.id if row is not None else None, row.updated_at if row is not None else None))
    return entries


def provider_overrides(*, scope: Scope) -> list[ProviderOverride]:
    """Every override the scope may see, by provider (admins: all providers')."""
    rows = db.session.execute(require_scope(scope).filter(
        select(NotificationTemplate, Provider.name)
        .join(Provider, Provider.id == NotificationTemplate.provider_id)
        .order_by(Provider.name, NotificationTemplate.key, NotificationTemplate.channel,
                  NotificationTemplate.locale), NotificationTemplate)).all()
    return [ProviderOverride(row.id, name, template_name(row.key, row.channel, row.locale),
                             row.updated_at) for row, name in rows]


def _check_default(key: str, channel: str, locale: str, scope: Scope) -> None:
    if (key, channel, locale) not in set(_defaults()) or (
            key in PLATFORM_ONLY and not scope.every_provider):
        raise NotFound("notification_template.not_found",
                       f"No platform default {key} ({channel}, {locale}).")


def customise_template(*, key: str, channel: str, locale: str, scope: Scope) -> int:
    """The provider's override of a default, created from the default's text if it has
    none yet; its id. Admins edit the defaults instead (``edit_default``)."""
    require_scope(scope)
    if scope.every_provider:
        raise ValidationFailed("notification_template.admin_override",
                               "Platform admins edit the platform default itself.")
    with unit_of_work():
        _check_default(key, channel, locale, scope)
        row = templates.template_row(key, channel, locale, scope.provider_id)
        if row is None:
            parts = templates.default_parts(key, channel, locale)
            row = NotificationTemplate(
                provider_id=scope.provider_id, key=key, channel=channel, locale=locale,
                subject=parts.subject, body_text=parts.body_text, body_html=parts.body_html)
            db.session.add(row)
            db.session.flush()
        return row.id


def edit_default(*, key: str, channel: str, locale: str, scope: Scope) -> int:
    """The platform default's database row (copied from the shipped file on first use),
    for an admin to edit; its id. Staff have no such reach (404)."""
    require_scope(scope)
    if not scope.every_provider:
        raise NotFound("notification_template.not_found", "No such template.")
    with unit_of_work():
        _check_default(key, channel, locale, scope)
        row = templates.template_row(key, channel, locale, None)
        if row is None:
            parts = templates.file_default(key, channel, locale)
            row = NotificationTemplate(
                provider_id=None, key=key, channel=channel, locale=locale,
                subject=parts.subject, body_text=parts.body_text, body_html=parts.body_html)
            db.session.add(row)
            db.session.flush()
        return row.id


def revert_template(template_id: int, *, scope: Scope) -> str:
    """Delete a provider's override: its messages use the platform default again.
    Returns the template's name. Another provider's override, or a default: 404."""
    with unit_of_work():
        row = get_override(template_id, scope=scope)
        name = template_name(row.key, row.channel, row.locale)
        db.session.delete(row)
    return name


def get_override(template_id: int, *, scope: Scope) -> NotificationTemplate:
    """A provider's override the scope may see (for the revert confirmation); else 404."""
    require_scope(scope)
    row = db.session.scalar(scope.filter(
        select(NotificationTemplate).where(NotificationTemplate.id == template_id,
                                           NotificationTemplate.provider_id.is_not(None)),
        NotificationTemplate))
    if row is None:
        raise NotFound("notification_template.not_found",
                       f"No customised template {template_id}.")
    return row


def preview_in_force(*, key: str, channel: str, locale: str, scope: Scope):
    """The template in force for the scope's provider (its override, else the default),
    rendered with sample values: ``notification_templates.Rendered``."""
    require_scope(scope)
    _check_default(key, channel, locale, scope)
    provider_id = None if scope.every_provider else scope.provider_id
    return templates.preview(key=key, channel=channel, locale=locale, provider_id=provider_id)
