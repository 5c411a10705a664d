"""Webhooks in Chromium: a studio in Berlin connects its CRM. It adds an endpoint pointing at a
local receiver (a wrong address first), copies the secret shown once, sends a test event
and sees it delivered in the Deliveries tab with its attempt; a refused delivery shows the
receiver's answer and is redelivered once the receiver is fixed; the secret is rotated
with a week's overlap; the endpoint is disabled and enabled. Desktop and phone."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.console import open_tab, sign_in
from tests.fakes.webhook_receiver import Answer
from tests.integration.webhook_support import add_endpoint, run_jobs


@pytest.fixture
def live_receiver(app, receiver, live_app, monkeypatch):
    """The receiver (tests/e2e/conftest.py), reachable from the served app too: without
    Redis its jobs run there."""
    for key in ("WEBHOOK_ALLOWED_HOSTS", "WEBHOOK_CONNECT_TIMEOUT", "WEBHOOK_READ_TIMEOUT",
                "WEBHOOK_ENDPOINT_CACHE_SECONDS"):
        monkeypatch.setitem(live_app.config, key, app.config[key])
    return receiver


def send_test_event(page) -> None:
    """Click and wait for the answer (without Redis the delivery is made meanwhile)."""
    with page.expect_navigation():
        page.get_by_role("button", name="Send test event").click()


def _deliveries(page):
    return page.locator("#deliveries tr.webhook-delivery")


def test_staff_connect_their_crm_with_a_webhook(app, page, build, live_receiver):
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    sign_in(page, staff_email)
    page.wait_for_load_state("load")  # the menu opens by script
    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_text("Webhooks send your own systems", exact=False)).to_be_visible()
    page.screenshots.take("empty-list")

    page.get_by_role("link", name="Add endpoint").click()
    expect(page.get_by_label("All events")).to_be_checked()
    page.get_by_label("Endpoint address (URL)").fill("ftp://crm.example.com/hooks")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator(".has-error")).to_contain_text("An http or https address")
    page.screenshots.take("wrong-address")

    page.get_by_label("Endpoint address (URL)").fill(live_receiver.url("/crm"))
    page.get_by_label("Description (optional)").fill("Bookings into our CRM")
    page.get_by_label("All events").uncheck()
    page.get_by_label("All booking events").check()  # the group's box ticks its events
    expect(page.get_by_role("checkbox", name=re.compile("Customer did not come"))).to_be_checked()
    page.get_by_role("checkbox", name=re.compile("Payment succeeded")).check()
    page.get_by_label("Deliver in order").check()
    page.screenshots.take("form")
    page.get_by_role("button", name="Add endpoint").click()

    # The secret, once, with a copy button; the address is now the endpoint's page.
    secret_box = page.locator("#signing-secret")
    secret = secret_box.input_value()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]{40,}", secret)
    expect(page).to_have_url(re.compile(r"/webhookendpointview/show/\d+$"))
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-secret")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.locator(".webhook-verify-help summary").click()
    expect(page.get_by_text("Sign webhook-id.webhook-timestamp.body", exact=False)) \
        .to_be_visible()
    page.screenshots.take("secret-once")
    live_receiver.secrets.append(secret)
    page.reload()
    expect(page.locator("#signing-secret")).to_have_count(0)
    expect(page.locator(".webhook-secret-once")).to_have_count(0)
    expect(page.get_by_text(f"whsec_…{secret[-4:]}")).to_be_visible()

    # A test event, delivered and verified by the receiver.
    send_test_event(page)
    run_jobs(app)
    page.reload()
    open_tab(page, "Deliveries")
    row = _deliveries(page).first
    expect(row).to_contain_text("Test event")
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("200")
    expect(row).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T"))
    [message] = live_receiver.at("/crm")
    assert message.verified_by == [secret]
    page.screenshots.take("delivered")
    row.get_by_role("link", name="Test event").click()
    expect(page.locator(".webhook-payload")).to_contain_text('"type": "webhook.test"')
    attempt = page.locator(".webhook-attempt")
    expect(attempt).to_have_count(1)
    expect(attempt).to_contain_text("Answered 200")
    expect(attempt).to_contain_text(re.compile(r"\d+ ms"))
    attempt.locator("summary", has_text="Request headers").click()
    expect(attempt.get_by_text("webhook-signature")).to_be_visible()
    page.screenshots.take("delivery")

    # The receiver refuses the next one: its answer is shown; fixed, it is redelivered.
    live_receiver.answers["/crm"] = Answer(status=400, body=b'{"error": "unknown type"}')
    page.get_by_role("link", name="All deliveries").click()
    send_test_event(page)
    run_jobs(app)
    page.reload()
    open_tab(page, "Deliveries")
    page.locator(".webhook-delivery-filter").get_by_role("link", name="Failed").click()
    expect(_deliveries(page)).to_have_count(1)
    expect(_deliveries(page).first).to_contain_text("Failed")
    expect(_deliveries(page).first).to_contain_text("400")
    page.screenshots.take("failed-filter")
    _deliveries(page).first.get_by_role("link", name="Test event").click()
    expect(page.locator(".webhook-attempt-error")).to_contain_text("Answered 400")
    expect(page.locator(".webhook-excerpt")).to_contain_text("unknown type")
    page.screenshots.take("failed-delivery")

    live_receiver.answers["/crm"] = Answer(status=200)
    with page.expect_navigation():
        page.get_by_role("button", name="Redeliver").click()
    run_jobs(app)
    page.reload()
    expect(page.locator(".webhook-delivery-status")).to_contain_text("Succeeded")
    expect(page.locator(".webhook-attempt")).to_have_count(2)
    expect(page.locator(".webhook-attempt").first).to_contain_text("Answered 200")
    page.screenshots.take("redelivered")

    # A new secret; the old one keeps signing for a week.
    page.get_by_role("link", name="All deliveries").click()
    page.get_by_label("New signing secret:").select_option("168")
    page.get_by_role("button", name="Rotate secret").click()
    new_secret = page.locator("#signing-secret").input_value()
    assert new_secret.startswith("whsec_") and new_secret != secret
    expect(page.get_by_text("The old one also signs until", exact=False)).to_be_visible()
    page.screenshots.take("rotated")
    live_receiver.secrets.append(new_secret)
    page.reload()
    expect(page.get_by_text(f"The previous secret whsec_…{secret[-4:]} also signs until",
                            exact=False)).to_be_visible()
    send_test_event(page)
    run_jobs(app)
    assert sorted(live_receiver.at("/crm")[-1].verified_by) == sorted([secret, new_secret])

    # Edited: every payment event too.
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Deliver in order")).to_be_checked()
    expect(page.get_by_label("All booking events")).to_be_checked()
    page.get_by_label("All payment events").check()
    page.get_by_label("Description (optional)").fill("Bookings and payments into our CRM")
    page.screenshots.take("edit")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Webhook endpoint saved.")
    expect(page.locator(".webhook-heading")).to_contain_text("Bookings and payments into our CRM")

    # Disabled, it says so in the list; enabled again.
    page.get_by_role("button", name="Disable").click()
    expect(page.locator(".alert-success")).to_contain_text("Webhook endpoint disabled")
    page.get_by_role("link", name="All webhooks").click()
    listing = page.locator("table tr").filter(has_text="Bookings and payments into our CRM")
    expect(listing).to_contain_text("Disabled")
    expect(listing).to_contain_text("Disabled by staff since")
    expect(listing).to_contain_text("All booking events, all payment events")
    page.screenshots.take("list-disabled")
    listing.get_by_role("link", name=re.compile("Show", re.I)).first.click()
    page.get_by_role("button", name="Enable").click()
    expect(page.locator(".webhook-heading")).to_contain_text("Active")
    page.screenshots.take("enabled")


def test_deleting_asks_first(app, page, build, live_receiver):
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    add_endpoint(live_receiver, provider, path="/old", description="Old CRM")
    sign_in(page, staff_email)
    page.goto("/webhookendpointview/list/")
    page.locator("table tr").filter(has_text="Old CRM") \
        .get_by_role("link", name=re.compile("Show", re.I)).first.click()
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_text("Its delivery log goes too", exact=False)).to_be_visible()
    page.screenshots.take("confirm")
    page.get_by_role("button", name="Delete endpoint").click()
    expect(page.locator(".alert-success")).to_contain_text("Webhook endpoint deleted")
    expect(page.get_by_text("Old CRM")).to_have_count(0)
    page.screenshots.take("deleted")

    # The list's own delete button asks in a dialog, then deletes through the same route.
    add_endpoint(live_receiver, provider, path="/older", description="Older CRM")
    page.goto("/webhookendpointview/list/")
    page.wait_for_load_state("load")
    page.locator("table tr").filter(has_text="Older CRM").locator("a.confirm").click()
    expect(page.locator("#modal-confirm")).to_be_visible()
    with page.expect_navigation():
        page.locator("#modal-confirm-ok").click()
    expect(page.locator(".alert-success")).to_contain_text("Webhook endpoint deleted")
    expect(page.get_by_text("Older CRM")).to_have_count(0)


def test_admins_add_a_platform_wide_endpoint(app, page, build, live_receiver):
    alpha = build.provider(name="Alpha Spa", timezone="Europe/Berlin")
    add_endpoint(live_receiver, alpha, path="/alpha", description="Alpha's CRM")
    sign_in(page, build.email_of(build.admin()))
    page.goto("/webhookendpointview/add")
    page.get_by_label("Whose events").select_option(label="Platform-wide: every provider's events")
    page.get_by_label("Endpoint address (URL)").fill(live_receiver.url("/platform"))
    page.get_by_label("Description (optional)").fill("Platform data warehouse")
    page.screenshots.take("form")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator("#signing-secret")).to_have_value(re.compile("^whsec_"))
    expect(page.locator("#Home")).to_contain_text("Platform-wide")
    expect(page.locator("#Home")).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"))

    page.get_by_role("link", name="All webhooks").click()
    expect(page.locator("table th", has_text="Provider")).to_be_visible()
    expect(page.locator("table tr").filter(has_text="Alpha's CRM")).to_contain_text("Alpha Spa")
    expect(page.locator("table tr").filter(has_text="Platform data warehouse")) \
        .to_contain_text("Platform-wide")
    page.screenshots.take("list")
