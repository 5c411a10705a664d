"""The message templates screen: every default, customise, preview, revert; tenant by tenant."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import NotificationTemplate
from tests.views.conftest import _tenant
from tests.views.console import page_text, signed_in

TEMPLATES = "/notificationtemplateview"
CONFIRMED_EMAIL = {"key": "booking_confirmed", "channel": "email", "locale": "en"}


def overrides(provider_id):
    db.session.expire_all()
    return db.session.scalars(select(NotificationTemplate).where(
        NotificationTemplate.provider_id == provider_id)).all()


def test_staff_see_every_default_with_readable_names(app, build):
    alpha = _tenant(build, "Alpha Spa")
    page = page_text(signed_in(app, alpha.staff_email).get(f"{TEMPLATES}/list/"))
    assert "No records found" not in page
    for name in ("Booking confirmed — email — English", "Booking confirmed — SMS — German",
                 "Receipt or credit note — email — English",
                 "New booking (to staff) — email — German"):
        assert name in page
    assert page.count("Platform default") >= 30 and "Customised" not in page
    assert "Someone tried to register" not in page  # the platform's own message


def test_customise_preview_and_revert(app, build):
    alpha = _tenant(build, "Alpha Spa")
    client = signed_in(app, alpha.staff_email)
    response = client.post(f"{TEMPLATES}/customise", data=CONFIRMED_EMAIL)
    (row,) = overrides(alpha.provider_id)
    assert response.status_code == 302 and response.location.endswith(f"/edit/{row.id}")
    assert "{{ booking_reference }}" in row.body_text and row.subject and row.body_html
    # Customising again opens the same override.
    again = client.post(f"{TEMPLATES}/customise", data=CONFIRMED_EMAIL)
    assert again.location.endswith(f"/edit/{row.id}") and len(overrides(alpha.provider_id)) == 1

    client.post(f"{TEMPLATES}/edit/{row.id}", data={
        "subject": "Alpha says yes: {{ booking_reference }}", "body_text": row.body_text,
        "body_html": row.body_html})
    listing = page_text(client.get(f"{TEMPLATES}/list/"))
    assert "Customised" in listing and "Revert to default" in listing

    preview = page_text(client.get(f"{TEMPLATES}/preview_template", query_string=CONFIRMED_EMAIL))
    assert "Alpha says yes: BK7Q2M4X" in preview
    assert 'sandbox=""' in preview  # the HTML in a frame that runs nothing

    confirm = client.get(f"{TEMPLATES}/revert/{row.id}")
    assert confirm.status_code == 200 and "Revert" in page_text(confirm)
    assert len(overrides(alpha.provider_id)) == 1  # a GET changes nothing
    done = client.post(f"{TEMPLATES}/revert/{row.id}", follow_redirects=True)
    assert "back to the platform default" in page_text(done)
    assert overrides(alpha.provider_id) == []
    preview = page_text(client.get(f"{TEMPLATES}/preview_template", query_string=CONFIRMED_EMAIL))
    assert "Booking confirmed: Deep tissue massage" in preview


def test_staff_never_see_or_change_another_providers_override(app, build):
    alpha, beta = _tenant(build, "Alpha Spa"), _tenant(build, "Beta Barbers")
    beta_client = signed_in(app, beta.staff_email)
    beta_client.post(f"{TEMPLATES}/customise", data=CONFIRMED_EMAIL)
    (theirs,) = overrides(beta.provider_id)
    theirs.subject = "BETA-SECRET {{ booking_reference }}"
    db.session.commit()

    client = signed_in(app, alpha.staff_email)
    listing = page_text(client.get(f"{TEMPLATES}/list/"))
    assert "Customised" not in listing and f"/revert/{theirs.id}" not in listing
    assert "BETA-SECRET" not in page_text(client.get(f"{TEMPLATES}/preview_template",
                                                     query_string=CONFIRMED_EMAIL))
    for path in (f"/revert/{theirs.id}", f"/edit/{theirs.id}", f"/preview/{theirs.id}",
                 f"/show/{theirs.id}"):
        assert client.get(TEMPLATES + path).status_code == 404, path
    assert client.post(f"{TEMPLATES}/revert/{theirs.id}").status_code == 404
    assert len(overrides(beta.provider_id)) == 1
    # A made-up default is no default.
    assert client.post(f"{TEMPLATES}/customise", data=dict(CONFIRMED_EMAIL, key="nope")
                       ).status_code == 404
    assert client.get(f"{TEMPLATES}/preview_template",
                      query_string=dict(CONFIRMED_EMAIL, locale="xx")).status_code == 404


def test_a_broken_edit_is_a_form_error_and_a_broken_override_previews_its_error(app, build):
    alpha = _tenant(build, "Alpha Spa")
    client = signed_in(app, alpha.staff_email)
    client.post(f"{TEMPLATES}/customise", data=CONFIRMED_EMAIL)
    (row,) = overrides(alpha.provider_id)
    response = client.post(f"{TEMPLATES}/edit/{row.id}", data={
        "subject": "{{ nope }}", "body_text": "{% if %}", "body_html": ""})
    page = page_text(response)
    assert response.status_code == 200 and "unknown variable nope" in page
    assert "Does not render" in page
    # Saved broken behind the form's back (an older release, say): the preview says why.
    row.subject = "{{ nope }}"
    db.session.commit()
    preview = client.get(f"{TEMPLATES}/preview_template", query_string=CONFIRMED_EMAIL)
    assert preview.status_code == 200 and "preview-error" in page_text(preview)


def test_admins_edit_the_platform_default(app, build):
    alpha = _tenant(build, "Alpha Spa")
    admin_email = build.email_of(build.admin())
    signed_in(app, alpha.staff_email).post(f"{TEMPLATES}/customise", data=CONFIRMED_EMAIL)
    client = signed_in(app, admin_email)
    listing = page_text(client.get(f"{TEMPLATES}/list/"))
    assert "Edit default" in listing and "Someone tried to register" in listing
    assert "Alpha Spa" in listing  # the providers' overrides, named
    response = client.post(f"{TEMPLATES}/edit_default", data=CONFIRMED_EMAIL)
    default = db.session.scalar(select(NotificationTemplate).where(
        NotificationTemplate.provider_id.is_(None), NotificationTemplate.key == "booking_confirmed",
        NotificationTemplate.channel == "email", NotificationTemplate.locale == "en"))
    assert response.location.endswith(f"/edit/{default.id}")
    # Staff cannot reach the defaults' editing.
    staff = signed_in(app, alpha.staff_email)
    assert staff.post(f"{TEMPLATES}/edit_default", data=CONFIRMED_EMAIL).status_code == 404
    assert staff.get(f"{TEMPLATES}/edit/{default.id}").status_code == 404
