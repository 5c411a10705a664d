"""The API docs: Swagger UI renders from the installed package under the docs' CSP."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def test_api_docs_render_swagger_ui(page):
    page.goto("/api/v1/docs")

    expect(page.get_by_role("heading", name=re.compile(r"^Bookwell API"))).to_be_visible()
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    expect(page.get_by_role("button", name="post /api/v1/bookings", exact=True)).to_be_visible()
    page.screenshots.take("docs")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="Available authorizations")).to_be_visible()
    # Two ways in: a person's token and a provider API key, each with its own form.
    expect(page.locator(".auth-container")).to_have_count(2)
    expect(page.locator(".auth-container", has_text="apiKey")).to_be_visible()
    page.screenshots.take("authorize")
    page.get_by_role("button", name="Close", exact=True).first.click()

    # "Try it out" calls the API from the page: connect-src allows this site.
    page.get_by_role("button", name="get /api/v1/offerings", exact=True).click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.get_by_role("heading", name="Server response")).to_be_visible()
    live_response = page.locator(".live-responses-table")  # Swagger UI names it no other way
    expect(live_response.get_by_role("cell", name="200", exact=True)).to_be_visible()
    page.screenshots.take("try-it-out")
