"""Message templates: defaults shipped as files, provider overrides, sandboxed rendering.

Defaults live in ``templates/notifications/<key>.<channel>.<locale>.<part>`` (email parts:
``subject``, ``txt``, ``html``; SMS: ``txt``). ``load_defaults`` copies them into the
database as the platform defaults (``provider_id`` empty), where admins may edit them;
providers' staff keep overrides of their own. Which template a message uses, for one
locale: the provider's override, else the platform default in the database, else the
file; a locale with none of these falls back to ``en``. The file fallback means a fresh
install (and every test) renders before the loader has ever run.

Templates are rendered by Jinja's ``SandboxedEnvironment`` with ``StrictUndefined``
against a fixed set of variables (``VARIABLES``): an unknown name, an attribute the
sandbox forbids or any other render error refuses the template on save
(``validate_template``) and fails a message on send, never silently prints nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.models import AuditLog
from app.models.notifications import CHANNELS, EMAIL, SMS, TEMPLATE_KEYS, NotificationTemplate
from app.services.transactions import end_read, unit_of_work

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "notifications"
DEFAULT_LOCALE = "en"
PARTS = {EMAIL: ("subject", "body_text", "body_html"), SMS: ("body_text",)}
_FILE_SUFFIX = {"subject": "subject", "body_text": "txt", "body_html": "html"}
MAX_LENGTH = {"subject": 300, "body_text": 20_000, "body_html": 50_000}
SMS_MAX_LENGTH = 1600  # Twilio's limit for one message body

# The only names a template may use; every message gets all of them (empty when the
# message is not about that: a confirmation has no refund amount).
VARIABLES = {
    "customer_name": "The customer's full name",
    "customer_first_name": "The customer's first name",
    "provider_name": "The provider's name",
    "provider_email": "The provider's contact email",
    "provider_phone": "The provider's contact phone",
    "offering_name": "What was booked",
    "booking_reference": "The booking reference, e.g. BK7Q2M4X",
    "starts_at_local": "Start in the provider's time zone, with the zone named: "
                       "'Mon, Aug 3, 2026, 09:00 CEST (Europe/Berlin)'",
    "quantity": "Places or items booked",
    "total": "The booking's total, formatted with its currency: '€42.00'",
    "currency": "ISO currency code, e.g. EUR",
    "receipt_number": "The receipt or credit note number (receipt messages)",
    "credit_note": "True when the receipt message carries a credit note",
    "refund_amount": "The amount refunded, formatted (refund messages)",
    "fully_refunded": "True when the booking is refunded in full (refund messages)",
    "free_cancellation": "True when a cancellation was free of charge (cancellations)",
    "manage_url": "Where the customer manages the booking",
    "sign_in_url": "Where the customer signs in on the storefront",
    # Mostly for the staff messages:
    "customer_email": "The customer's email",
    "customer_phone": "The customer's phone, if known",
    "booking_url": "The booking's page in the console (staff messages)",
    "previous_starts_at_local": "Where a moved booking was before, like starts_at_local "
                                "(reschedule messages)",
    "cancelled_by_customer": "True when the customer cancelled (cancellations)",
    "hold_expires_local": "Until when an unpaid booking's place is held, like "
                          "starts_at_local (payment messages)",
    "failure_reason": "Why a payment did not go through, in one sentence in the message's "
                      "language, like \"Your bank declined the card.\" (payment messages)",
    "finish_account_url": "Where a guest chooses a password for their address (registration "
                          "messages to a guest)",
    "reset_url": "Where the holder chooses a new password (password reset messages)",
    "reset_minutes": "How many minutes the reset link works (password reset messages)",
    "verify_url": "Where the holder verifies their email address (verification messages)",
    "verify_hours": "How many hours the verification link works (verification messages)",
    "webhook_endpoint": "The webhook endpoint's description and address (webhook messages)",
    "webhook_reason": "Why the webhook endpoint was disabled (webhook messages)",
}

SAMPLE_CONTEXT = {
    "customer_name": "Ada Lovelace", "customer_first_name": "Ada",
    "provider_name": "Alpha Spa", "provider_email": "hello@alpha-spa.example",
    "provider_phone": "+4930123456", "offering_name": "Deep tissue massage",
    "booking_reference": "BK7Q2M4X",
    "starts_at_local": "Mon, Aug 3, 2026, 09:00 CEST (Europe/Berlin)", "quantity": 1,
    "total": "€42.00", "currency": "EUR", "receipt_number": "R-000042",
    "credit_note": False, "refund_amount": "€42.00", "fully_refunded": True,
    "free_cancellation": True, "manage_url": "https://bookwell.example/shop/bookings/BK7Q2M4X",
    "sign_in_url": "https://bookwell.example/shop/login",
    "customer_email": "ada@example.com", "customer_phone": "+4915112345678",
    "booking_url": "https://bookwell.example/bookingview/show/42",
    "previous_starts_at_local": "Fri, Jul 31, 2026, 17:30 CEST (Europe/Berlin)",
    "cancelled_by_customer": True,
    "hold_expires_local": "Mon, Aug 3, 2026, 08:30 CEST (Europe/Berlin)",
    "failure_reason": "Your bank declined the card.",
    "finish_account_url": "https://bookwell.example/shop/account/finish/EXAMPLE",
    "reset_url": "https://bookwell.example/shop/password/reset/EXAMPLE",
    "reset_minutes": 60,
    "verify_url": "https://bookwell.example/shop/account/verify/EXAMPLE",
    "verify_hours": 48,
    "webhook_endpoint": "Door lock (https://locks.example/hooks/bookwell)",
    "webhook_reason": "15 failed attempts in a row since Mon, Aug 3, 2026, 09:00 UTC; "
                      "the last: Timed out: no answer within 13 seconds.",
}


@dataclass(frozen=True)
class TemplateParts:
    subject: str | None
    body_text: str
    body_html: str | None
    source: str  # "override", "default" (database) or "file"
    locale: str


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body_text: str
    body_html: str | None


# --- the environments ----------------------------------------------------------------------

@lru_cache(maxsize=2)
def _environment(html: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=html,
                                keep_trailing_newline=True)


def _render_part(source: str | None, context: dict, *, html: bool) -> str | None:
    if source is None:
        return None
    return _environment(html).from_string(source).render(context)


def render(parts, context: dict) -> Rendered:
    """Render every part of a template (``TemplateParts`` or anything with the same
    attributes); raises Jinja's errors as they are."""
    subject = _render_part(parts.subject, context, html=False)
    return Rendered(
        subject=" ".join(subject.split()) if subject is not None else None,
        body_text=_render_part(parts.body_text, context, html=False),
        body_html=_render_part(parts.body_html, context, html=True),
    )


def validate_template(*, channel: str, subject: str | None, body_text: str | None,
                      body_html: str | None = None) -> Rendered:
    """Render the parts against ``SAMPLE_CONTEXT``; a template that does not render is
    refused with ``notification_template.invalid`` naming the part and the reason."""
    if channel not in CHANNELS:
        raise ValidationFailed("notification_template.invalid", f"Unknown channel {channel!r}.",
                               {"channel": [f"One of {', '.join(CHANNELS)}."]})
    values = {"subject": subject, "body_text": body_text, "body_html": body_html}
    errors: dict[str, list[str]] = {}
    if not (body_text or "").strip():
        errors["body_text"] = ["A text body is required."]
    if channel == EMAIL and not (subject or "").strip():
        errors["subject"] = ["An email needs a subject."]
    rendered = {}
    for part in PARTS[channel]:
        source = values[part]
        if source is None:
            continue
        try:
            rendered[part] = render_part_sample(part, source)
        except ValueError as exc:
            errors.setdefault(part, []).append(str(exc))
    if channel == SMS and len(rendered.get("body_text") or "") > SMS_MAX_LENGTH:
        errors.setdefault("body_text", []).append(
            f"An SMS renders to at most {SMS_MAX_LENGTH} characters.")
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed("notification_template.invalid",
                               f"The template was refused: {first}", errors)
    return Rendered(subject=" ".join((rendered.get("subject") or "").split()) or None,
                    body_text=rendered.get("body_text") or "",
                    body_html=rendered.get("body_html"))


def render_part_sample(part: str, source: str) -> str:
    """One part (``subject``, ``body_text``, ``body_html``) rendered with the sample
    values; ``ValueError`` saying why when it is too long or does not render (forms show
    it next to the field)."""
    if len(source) > MAX_LENGTH[part]:
        raise ValueError(f"At most {MAX_LENGTH[part]} characters.")
    env = _environment(part == "body_html")
    try:
        unknown = sorted(meta.find_undeclared_variables(env.parse(source)) - set(VARIABLES))
        if unknown:
            raise TemplateError(f"unknown variable{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(unknown)}")
        return env.from_string(source).render(SAMPLE_CONTEXT)
    except Exception as exc:  # any render failure refuses the template
        raise ValueError(f"Does not render: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    where = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
    return f"{type(exc).__name__}: {exc}{where}"


# --- where a template comes from -------------------------------------------------------------

def _locales(locale: str | None) -> list[str]:
    """"de-AT" → ["de-AT", "de", "en"]."""
    chain = []
    for candidate in (locale, (locale or "").replace("_", "-").split("-")[0], DEFAULT_LOCALE):
        if candidate and candidate not in chain:
            chain.append(candidate)
    return chain


def file_default(key: str, channel: str, locale: str) -> TemplateParts | None:
    """The shipped default, or None when no file exists for that locale."""
    if key not in TEMPLATE_KEYS or channel not in CHANNELS or "/" in locale or \
            locale.startswith("."):
        return None
    values = {}
    for part in PARTS[channel]:
        path = TEMPLATE_DIR / f"{key}.{channel}.{locale}.{_FILE_SUFFIX[part]}"
        if not path.is_file():
            return None
        text = path.read_text(encoding="utf-8")
        values[part] = text.strip() if part == "subject" or channel == SMS else text
    return TemplateParts(subject=values.get("subject"), body_text=values["body_text"],
                         body_html=values.get("body_html"), source="file", locale=locale)


def shipped_defaults() -> list[tuple[str, str, str]]:
    """(key, channel, locale) of every complete default on disk."""
    found = set()
    for path in TEMPLATE_DIR.glob("*.*.*.*"):
        key, channel, locale, _suffix = path.name.split(".", 3)
        if file_default(key, channel, locale) is not None:
            found.add((key, channel, locale))
    return sorted(found)


def template_row(key: str, channel: str, locale: str, provider_id: int | None):
    """The stored template of a provider (or, with None, the platform's), if any."""
    query = select(NotificationTemplate).where(
        NotificationTemplate.key == key, NotificationTemplate.channel == channel,
        NotificationTemplate.locale == locale)
    query = query.where(NotificationTemplate.provider_id.is_(None) if provider_id is None
                        else NotificationTemplate.provider_id == provider_id)
    return db.session.scalar(query)


def _parts_of(row: NotificationTemplate, source: str) -> TemplateParts:
    return TemplateParts(subject=row.subject, body_text=row.body_text,
                         body_html=row.body_html, source=source, locale=row.locale)


def resolve(key: str, channel: str, locale: str | None,
            provider_id: int | None = None) -> TemplateParts:
    """The template a message uses: override → database default → file, per locale."""
    for candidate in _locales(locale):
        if provider_id is not None:
            row = template_row(key, channel, candidate, provider_id)
            if row is not None:
                return _parts_of(row, "override")
        row = template_row(key, channel, candidate, None)
        if row is not None:
            return _parts_of(row, "default")
        parts = file_default(key, channel, candidate)
        if parts is not None:
            return parts
    raise ValidationFailed("notification_template.missing",
                           f"No template {key} for {channel} in any locale.")


def default_parts(key: str, channel: str, locale: str) -> TemplateParts:
    """What an override starts from: the platform default (database or file)."""
    return resolve(key, channel, locale, provider_id=None)


def preview(*, key: str, channel: str, locale: str = DEFAULT_LOCALE,
            provider_id: int | None = None, subject: str | None = None,
            body_text: str | None = None, body_html: str | None = None) -> Rendered:
    """The template rendered with sample values: the given parts (an unsaved edit), or
    the template in force for the provider. Refused like ``validate_template``."""
    if body_text is None:
        parts = resolve(key, channel, locale, provider_id)
        subject, body_text, body_html = parts.subject, parts.body_text, parts.body_html
    return validate_template(channel=channel, subject=subject, body_text=body_text,
                             body_html=body_html if channel == EMAIL else None)


def check_console_edit(row: NotificationTemplate) -> None:
    """:func:`check_template_row` for a console save: a refused edit is discarded from the
    session, so that nothing of it is committed with a later change."""
    try:
        check_template_row(row)
    except DomainError:
        end_read()
        raise


def check_template_row(row: NotificationTemplate) -> None:
    """Refuse a template row that could not be used (console saves call this)."""
    errors = {}
    if row.key not in TEMPLATE_KEYS:
        errors["key"] = [f"One of {', '.join(TEMPLATE_KEYS)}."]
    if not row.locale or len(row.locale) > 16 or not row.locale.replace("-", "").isalpha():
        errors["locale"] = ["A language code such as en or de-AT."]
    if errors:
        raise ValidationFailed("notification_template.invalid",
                               "The template was refused: " + next(iter(errors.values()))[0],
                               errors)
    if row.channel == SMS:
        row.subject = None
        row.body_html = None
    validate_template(channel=row.channel, subject=row.subject, body_text=row.body_text,
                      body_html=row.body_html)


# --- loading the files ----------------------------------------------------------------------

@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_edited: int = 0


@unit_of_work()
def load_defaults(*, force: bool = False) -> LoadReport:
    """Copy the shipped defaults into the database as platform defaults; idempotent.

    A default whose file changed is updated, unless an admin edited it in the console
    (its last audit entry names a person): that edit is kept unless ``force``. Provider
    overrides are never touched.
    """
    report = LoadReport()
    for key, channel, locale in shipped_defaults():
        parts = file_default(key, channel, locale)
        validate_template(channel=channel, subject=parts.subject, body_text=parts.body_text,
                          body_html=parts.body_html)
        row = template_row(key, channel, locale, None)
        if row is None:
            db.session.add(NotificationTemplate(
                provider_id=None, key=key, channel=channel, locale=locale,
                subject=parts.subject, body_text=parts.body_text, body_html=parts.body_html))
            report.created += 1
        elif (row.subject, row.body_text, row.body_html) == (
                parts.subject, parts.body_text, parts.body_html):
            report.unchanged += 1
        elif not force and _edited_by_a_person(row.id):
            report.kept_edited += 1
        else:
            row.subject, row.body_text, row.body_html = (
                parts.subject, parts.body_text, parts.body_html)
            report.updated += 1
    return report


def _edited_by_a_person(template_id: int) -> bool:
    actor = db.session.execute(
        select(AuditLog.actor_id).where(AuditLog.entity == "notification_template",
                                        AuditLog.entity_id == str(template_id))
        .order_by(AuditLog.id.desc()).limit(1)).first()
    return actor is not None and actor[0] is not None


