"""Templates: sandboxed, strict, resolved override → default → file, times in the
provider's zone with the zone named."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.errors import ValidationFailed
from app.extensions import db
from app.models import NotificationTemplate
from app.services import display_formats
from app.services import notification_templates as templates


def refused(**parts):
    with pytest.raises(ValidationFailed) as caught:
        templates.validate_template(**{"channel": "email", "subject": "Hi",
                                       "body_text": "x", "body_html": None, **parts})
    assert caught.value.code == "notification_template.invalid"
    return caught.value


def test_every_shipped_default_renders():
    shipped = templates.shipped_defaults()
    for key in ("booking_confirmed", "booking_cancelled", "booking_reminder",
                "payment_failed", "payment_refunded", "receipt"):
        for channel in ("email", "sms"):
            assert (key, channel, "en") in shipped and (key, channel, "de") in shipped
    assert {("registration_attempt", "email", "en"),
            ("registration_attempt", "email", "de")} <= set(shipped)
    for key, channel, locale in shipped:
        parts = templates.file_default(key, channel, locale)
        templates.validate_template(channel=channel, subject=parts.subject,
                                    body_text=parts.body_text, body_html=parts.body_html)


def test_sandbox_refuses_reaching_into_python():
    error = refused(body_text="{{ ''.__class__.__mro__ }}")
    assert "body_text" in error.errors
    refused(body_text="{{ customer_name.__class__.__base__.__subclasses__() }}")
    refused(subject="{{ cycler.__init__.__globals__ }}")


def test_unknown_variables_are_refused():
    error = refused(body_text="Hello {{ customer_nme }}")
    assert "customer_nme" in error.errors["body_text"][0]
    refused(body_html="<p>{{ secret_key }}</p>")
    refused(body_text="{{ customer_name.nope }}")  # StrictUndefined on attributes too
    refused(body_text="{% for %}")  # a syntax error


def test_html_is_escaped_and_text_is_not():
    rendered = templates.render(
        templates.TemplateParts("S", "{{ customer_name }}", "<p>{{ customer_name }}</p>",
                                "file", "en"), {"customer_name": "<b>Ada & Co</b>"})
    assert rendered.body_text == "<b>Ada & Co</b>"
    assert rendered.body_html == "<p>&lt;b&gt;Ada &amp; Co&lt;/b&gt;</p>"


@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 8, 3, 7, 0, tzinfo=timezone.utc),
     "Mon, Aug 3, 2026, 09:00 CEST (Europe/Berlin)"),
    (datetime(2026, 1, 12, 7, 0, tzinfo=timezone.utc),
     "Mon, Jan 12, 2026, 08:00 CET (Europe/Berlin)"),
])
def test_times_in_the_providers_zone_with_the_zone_named(moment, expected):
    assert display_formats.format_local_time(moment, "Europe/Berlin") == expected


def test_german_times_and_money_read_as_german():
    moment = datetime(2026, 8, 3, 7, 0, tzinfo=timezone.utc)
    assert display_formats.format_local_time(moment, "Europe/Berlin", "de") == \
        "Mo., 3. Aug. 2026, 09:00 CEST (Europe/Berlin)"
    assert display_formats.format_local_time(moment, "America/New_York", "de-AT") == \
        "Mo., 3. Aug. 2026, 03:00 EDT (America/New_York)"
    assert display_formats.format_amount(4250, "EUR", "de") == "42,50\xa0€"
    assert display_formats.format_amount(4250, "EUR", "en") == "€42.50"
    assert display_formats.format_amount(4250, "JPY", "xx-unknown") == "¥4,250"


def test_resolution_override_then_default_then_file(app_ctx, build):
    provider = build.provider()
    other = build.provider()
    assert templates.resolve("booking_confirmed", "email", "en", provider).source == "file"
    assert templates.resolve("booking_confirmed", "email", "fr-CA", provider).locale == "en"
    assert templates.resolve("booking_confirmed", "email", "de-AT", provider).locale == "de"
    db.session.add(NotificationTemplate(provider_id=None, key="booking_confirmed",
                                        channel="email", locale="en", subject="Default",
                                        body_text="default", body_html=None))
    db.session.add(NotificationTemplate(provider_id=provider, key="booking_confirmed",
                                        channel="email", locale="en", subject="Mine",
                                        body_text="mine", body_html=None))
    db.session.commit()
    assert templates.resolve("booking_confirmed", "email", "en", provider).subject == "Mine"
    assert templates.resolve("booking_confirmed", "email", "en", other).subject == "Default"


def test_loader_is_idempotent_and_leaves_overrides_alone(app_ctx, build):
    provider = build.provider()
    db.session.add(NotificationTemplate(provider_id=provider, key="receipt", channel="sms",
                                        locale="en", body_text="my own"))
    db.session.commit()
    first = templates.load_defaults()
    assert first.created == len(templates.shipped_defaults()) and first.updated == 0
    row = templates.template_row("receipt", "sms", "en", None)
    row.body_text = "stale"
    db.session.commit()
    second = templates.load_defaults()
    assert (second.created, second.updated) == (0, 1)
    assert templates.template_row("receipt", "sms", "en", None).body_text == \
        templates.file_default("receipt", "sms", "en").body_text
    assert templates.template_row("receipt", "sms", "en", provider).body_text == "my own"


def test_preview_renders_sample_values(app_ctx):
    rendered = templates.preview(key="booking_confirmed", channel="email")
    assert "BK7Q2M4X" in rendered.subject + rendered.body_text
    assert "<strong>BK7Q2M4X</strong>" in rendered.body_html
