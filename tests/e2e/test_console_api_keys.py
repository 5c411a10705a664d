"""API keys in Chromium: a provider's staff member makes a key through the menu, copies
it from the one page that shows it, finds it in the list, calls the API with it, sees the
call on the key's page and revokes it; another provider's staff never see it."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.console import sign_in


def test_staff_make_use_and_revoke_an_api_key(page, build, browser_page):
    provider = build.provider(name="Harbor Yoga Studio")
    build.category(provider, name="Classes")
    staff_email = build.email_of(build.staff(provider))
    other_email = build.email_of(build.staff(build.provider(name="Beta Barbers")))

    sign_in(page, staff_email)
    page.locator(".navbar-nav > li > a.dropdown-toggle", has_text="Integrations").click()
    page.locator(".navbar-nav .dropdown-menu").get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No API keys found")).to_be_visible()
    page.get_by_role("link", name="Make an API key").click()
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_label("Read categories, locations, offerings, variants").check()
    page.get_by_label("Mark bookings paid at the venue").check()
    expect(page.get_by_text("Europe/Berlin time")).to_be_visible()
    page.screenshots.take("form")
    page.get_by_role("button", name="Make the key").click()

    expect(page.get_by_text("Copy the key now: it is shown only this once.")).to_be_visible()
    key = page.get_by_label("API key “CRM sync”").input_value()
    assert key.startswith("bwk_") and len(key) == 56
    page.get_by_role("button", name="Copy").click()
    page.screenshots.take("shown-once")

    answer = page.request.get("/api/v1/provider/categories",
                              headers={"Authorization": f"Bearer {key}"})
    assert answer.status == 200 and [c["name"] for c in answer.json()] == ["Classes"]

    page.get_by_role("link", name="I have copied it").click()
    expect(page.get_by_text("GET /api/v1/provider/categories")).to_be_visible()
    assert key not in page.content()
    page.screenshots.take("key-page")

    page.goto("/api-keys/list/")
    row = page.locator("table tr", has_text="CRM sync")
    expect(row).to_contain_text(key[:12])
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Read categories, locations, offerings, variants")
    expect(row).to_contain_text("CET")  # last used, on the provider's clock
    page.screenshots.take("list")

    other = browser_page("other-provider")
    sign_in(other, other_email)
    other.goto("/api-keys/list/")
    expect(other.get_by_text("No API keys found")).to_be_visible()
    expect(other.get_by_text("CRM sync")).to_have_count(0)
    other.screenshots.take("other-provider")

    page.goto("/api-keys/list/")
    row.locator("a[href*='/api-keys/show/']").first.click()
    page.get_by_role("link", name="Revoke this key…").click()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    page.screenshots.take("revoke-confirm")
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_text("is revoked: its next call is refused")).to_be_visible()
    expect(page.locator(".api-key-status")).to_have_text("Revoked")
    expect(page.get_by_text("CET by ")).to_be_visible()  # when, and by whom
    page.screenshots.take("revoked")
    refused = page.request.get("/api/v1/provider/categories",
                               headers={"Authorization": f"Bearer {key}"})
    assert refused.status == 401 and refused.json()["code"] == "auth.invalid_api_key"


def test_admins_see_every_providers_keys_with_the_provider(page, build):
    build.api_key(build.provider(name="Harbor Yoga Studio"), "catalog:read", name="CRM sync")
    build.api_key(build.provider(name="Beta Barbers"), "payments:read", name="Accounting")
    sign_in(page, build.email_of(build.admin()))
    page.locator(".navbar-nav > li > a.dropdown-toggle", has_text="Integrations").click()
    page.locator(".navbar-nav .dropdown-menu").get_by_role("link", name="API keys").click()
    expect(page.locator("table tr", has_text="CRM sync")).to_contain_text("Harbor Yoga Studio")
    expect(page.locator("table tr", has_text="Accounting")).to_contain_text("Beta Barbers")
    expect(page.locator("table tr", has_text="Accounting")).to_contain_text(
        "Read payments and refunds")
    page.screenshots.take("admin-list")
    page.get_by_role("link", name="Make an API key").click()
    expect(page.get_by_label("Provider")).to_be_visible()
    page.screenshots.take("admin-form")
