"""Staff make a message their own: the templates screen, customise, preview, revert."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.console import sign_in

ROW = "Booking confirmed — email — English"


def test_staff_customise_preview_and_revert_a_message(page, build):
    provider = build.provider(name="Harbor Yoga Studio")
    staff_email = build.email_of(build.staff(provider))

    sign_in(page, staff_email)

    page.get_by_role("link", name="Messages").first.click()
    page.get_by_role("link", name="Message templates").click()
    row = page.locator("tr.template-row", has_text=ROW)
    expect(row.get_by_text("Platform default").filter(visible=True)).to_be_visible()
    page.screenshots.take("templates")

    row.get_by_role("button", name="Customise").click()
    subject = page.get_by_label("Subject")
    expect(subject).to_have_value("Booking confirmed: {{ offering_name }} on {{ starts_at_local }}")
    subject.fill("See you at Harbor Yoga: {{ offering_name }}, {{ starts_at_local }}")
    page.screenshots.take("customise")
    page.get_by_role("button", name="Save").click()

    page.goto("/notificationtemplateview/list/")
    row = page.locator("tr.template-row", has_text=ROW)
    expect(row.get_by_text("Customised").filter(visible=True)).to_be_visible()
    row.get_by_role("link", name="Preview").click()
    expect(page.locator(".preview-subject")).to_have_text(
        "See you at Harbor Yoga: Deep tissue massage, Mon, Aug 3, 2026, 09:00 CEST (Europe/Berlin)")
    page.screenshots.take("preview")

    page.goto("/notificationtemplateview/list/", timeout=5000)
    page.locator("tr.template-row", has_text=ROW).get_by_role(
        "link", name="Revert to default").click()
    page.screenshots.take("revert-confirm")
    page.get_by_role("button", name="Revert to default").click()
    expect(page.get_by_text("back to the platform default")).to_be_visible()
    expect(page.locator("tr.template-row", has_text=ROW).get_by_text("Platform default").filter(visible=True)
           ).to_be_visible()
    page.screenshots.take("reverted")
