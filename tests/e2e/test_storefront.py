"""Customers on the storefront, in a real browser at desktop and phone sizes.

The journey: land from a TikTok ad → search near a city → the provider's page → pick a
day in the week the clocks go forward → review → register and sign in → a declined test
card, then a good one → receipt PDF and calendar file (both parsed) → change the time →
cancel in the free window and see the refund. Then a guest managing a booking from the
emailed link, a German browser, and two browsers racing for the last place. axe-core
checks every page visited.
"""
from __future__ import annotations

import io
import re
from datetime import datetime
from email import message_from_bytes
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Booking
from app.services import bookings
from tests.e2e.accessibility import assert_accessible
from tests.builders import PASSWORD as BUILT_PASSWORD
from tests.e2e.conftest import REPORT_CSP_VIOLATIONS, SIZES, BrowserErrors, Screenshots
from tests.fakes.google_maps import geocoded, google_maps_for, maps_settings
from tests.notifications.conftest import run_jobs

BERLIN = ZoneInfo("Europe/Berlin")
PHONES = {"phone-360": {"width": 360, "height": 740}, "phone-390": SIZES["phone"]}
PASSWORD = "a-long-enough-password"


def _at(day: int, hour: int) -> datetime:
    """In March 2027, Berlin: the clocks go forward on Sunday the 28th."""
    return datetime(2027, 3, day, hour, 0, tzinfo=BERLIN)


def _studio(build, *, capacity: int = 6):
    provider = build.provider(name="Harbor Yoga Studio", slug="harbor-yoga",
                              timezone="Europe/Berlin")
    location = build.location(provider, name="Harbor loft", address="Hafenstraße 1, Berlin",
                              lat=52.52, lng=13.405)
    offering = build.offering(provider, name="Sunrise yoga", price_minor=4200,
                              description="Slow flow by the water.", location_id=location,
                              free_cancellation_hours=24)
    slots = {"sat": build.slot(offering, _at(27, 9), capacity=capacity),
             "sun": build.slot(offering, _at(28, 10), capacity=capacity),
             "mon": build.slot(offering, _at(29, 9), capacity=capacity)}
    return provider, offering, slots


def _look(page, step: str) -> None:
    """axe-core on the page as it is, then screenshots at both sizes."""
    assert_accessible(page)
    page.screenshots.take(step)


def _booking(reference: str) -> Booking:
    db.session.expire_all()
    return db.session.scalar(select(Booking).where(Booking.reference == reference))


def _pick_sunday_ten(page) -> None:
    """The picker opens on the month of the soonest free time (March 2027, three months
    ahead); a month without one says so; then Sunday 28 March."""
    expect(page.locator(".picker-month-label")).to_have_text("March 2027")
    page.get_by_role("link", name="Previous month").click()
    expect(page.locator(".picker-month-label")).to_have_text("February 2027")
    expect(page.locator("#picker")).to_contain_text("Nothing free this month")
    page.get_by_role("link", name="Next month").first.click()
    expect(page.locator(".picker-month-label")).to_have_text("March 2027")
    page.get_by_role("link", name=re.compile(r"^Sunday, March 28, 2027")).click()
    expect(page.locator(".picker-times h3")).to_have_text("Sunday, March 28, 2027")


def test_a_customer_finds_books_pays_changes_and_cancels(page, build, app, live_app):
    _provider, offering, slots = _studio(build)

    page.goto("/shop/?utm_source=tiktok&utm_campaign=spring&ttclid=E2E-CLICK-1")
    _look(page, "landing")

    with google_maps_for(live_app) as maps:
        maps.answer_geocode("Berlin", geocoded(52.52, 13.405))
        page.get_by_role("searchbox", name="What").fill("yoga")
        page.get_by_label("Where").fill("Berlin")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("link", name="Sunrise yoga")).to_be_visible()
        _look(page, "search-near-berlin")
    page.get_by_role("link", name="Harbor Yoga Studio").first.click()
    expect(page.get_by_role("heading", name="Harbor Yoga Studio", level=1)).to_be_visible()
    _look(page, "provider")
    page.get_by_role("link", name="Sunrise yoga").first.click()
    expect(page.get_by_role("heading", name="Sunrise yoga", level=1)).to_be_visible()

    page.get_by_label("Places").fill("2")
    page.get_by_role("button", name="Show free times").click()
    expect(page).to_have_url(re.compile(r"quantity=2"))  # the picker was redrawn for two
    _pick_sunday_ten(page)
    # After the clocks went forward: summer time, named (the browser runs in UTC).
    expect(page.locator(".picker-zone")).to_contain_text("CEST")
    _look(page, "dst-week")
    page.get_by_role("link", name="10:00").click()

    expect(page.get_by_role("heading", name="Review your booking")).to_be_visible()
    expect(page.locator(".review-when")).to_contain_text("10:00–11:00 CEST")
    expect(page.locator(".review-total")).to_contain_text("€84.00")
    expect(page.locator(".review-policy")).to_contain_text("24 hours before the start")
    _look(page, "review")

    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    _look(page, "register")
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Review your booking")).to_be_visible()
    page.get_by_label("Notes for the provider (optional)").fill("First class, be gentle")
    page.get_by_role("button", name="Book", exact=True).click()

    expect(page.get_by_role("heading", name="Sunrise yoga")).to_be_visible()
    expect(page.locator(".status")).to_have_text("Waiting for payment")
    reference = page.locator(".booking-facts dd").first.inner_text()
    _look(page, "booking-pending")

    page.get_by_label("Test card").select_option(label="Declined card")
    page.get_by_role("button", name=re.compile("with the test card")).click()
    declined = page.get_by_role("alert")  # told once, in the Pay section
    expect(declined).to_have_count(1)
    expect(declined).to_have_text("The last attempt did not go through: Your bank declined "
                                  "the card. You can try again with another card.")
    expect(page.locator(".status")).to_have_text("Waiting for payment")
    _look(page, "declined")
    page.get_by_label("Test card").select_option(label="Visa (succeeds)")
    page.get_by_role("button", name=re.compile("with the test card")).click()
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    _look(page, "paid")

    booking = _booking(reference)
    assert booking.status == "confirmed" and booking.slot_id == slots["sun"]
    assert booking.attribution_row.ttclid == "E2E-CLICK-1"
    assert booking.attribution_row.utm_source == "tiktok"
    run_jobs(app)  # the receipt is rendered by a job

    page.goto(f"/shop/bookings/{reference}")
    receipt_link = page.get_by_role("link", name=re.compile(r"^Receipt R-"))
    expect(receipt_link).to_be_visible()
    pdf = page.request.get(receipt_link.get_attribute("href"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert reference in text and "84.00" in text
    ics = page.request.get(page.get_by_role("link", name="Add to calendar")
                           .get_attribute("href"))
    event = Calendar.from_ical(ics.body()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == _at(28, 10)  # 08:00 UTC: summer time already
    assert "Sunrise yoga" in str(event["summary"])
    _look(page, "booking-confirmed")

    page.get_by_role("link", name="Change the time").click()
    expect(page.locator(".picker-month-label")).to_have_text("March 2027")
    page.get_by_role("link", name=re.compile(r"^Monday, March 29, 2027")).click()
    expect(page.locator(".picker-times h3")).to_have_text("Monday, March 29, 2027")
    page.get_by_role("link", name="09:00").click()
    expect(page.locator(".move-confirm")).to_contain_text("Mar 29, 2027, 09:00–10:00 CEST")
    _look(page, "move")
    page.get_by_role("button", name="Move the booking").click()
    expect(page.get_by_text("Your booking has moved.")).to_be_visible()
    expect(page.locator(".booking-when")).to_contain_text("Mar 29, 2027, 09:00")
    assert _booking(reference).slot_id == slots["mon"]

    page.get_by_role("link", name="Cancel the booking").click()
    expect(page.locator(".cancel-refund")).to_contain_text("You get back €84.00")
    _look(page, "cancel")
    page.get_by_role("button", name="Yes, cancel the booking").click()
    expect(page.get_by_text("Your booking is cancelled.")).to_be_visible()
    # The refund of a free cancellation is made by a job, and its credit note by another:
    # worked as the site's own worker does, with the site's settings (its Stripe keys).
    with live_app.app_context():
        run_jobs(live_app)
    page.reload()
    expect(page.get_by_text("refunded €84.00")).to_be_visible()
    credit_note = page.get_by_role("link", name=re.compile(r"^Credit note CN-"))
    expect(credit_note).to_be_visible()
    number = re.search(r"CN-\d+", credit_note.inner_text()).group(0)
    pdf = page.request.get(credit_note.get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert number in text and reference in text
    _look(page, "cancelled-refunded")

    page.get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("heading", name="Past and cancelled")).to_be_visible()
    _look(page, "my-bookings")


@pytest.fixture
def outbox(app, live_app, tmp_path):
    """Messages become files (no SMTP): for the app that serves the pages (inline jobs)
    and for the test's own (jobs worked from Redis)."""
    folder = tmp_path / "outbox"
    settings = {"NOTIFICATION_OUTBOX_DIR": str(folder), "MAIL_SERVER": None,
                "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None}
    with maps_settings(app, **settings), maps_settings(live_app, **settings):
        yield folder


def _mails_to(folder, address: str) -> list:
    mails = [message_from_bytes(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]
    return [mail for mail in mails if address in (mail["To"] or "")]


def _text_of(mail) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


def _book_as_guest(page, email: str, *, first: str = "Grace", last: str = "Hopper",
                   button: str = "Book as a guest") -> None:
    page.get_by_label(re.compile("^(First name|Vorname)$")).fill(first)
    page.get_by_label(re.compile("^(Last name|Nachname)$")).fill(last)
    page.get_by_label(re.compile("^(Email|E-Mail)$")).fill(email)
    page.get_by_role("button", name=button).click()


def test_a_guest_books_and_manages_it_from_the_emailed_link(page, build, app, browser,
                                                             live_server, outbox):
    _provider, offering, slots = _studio(build)
    free = build.offering(_provider, name="Open meditation", price_minor=0)
    build.slot(free, _at(27, 18), capacity=10)

    page.goto(f"/shop/offerings/{free}?month=2027-03")
    page.get_by_role("link", name=re.compile(r"^Saturday, March 27, 2027")).click()
    page.get_by_role("link", name="18:00").click()
    _look(page, "guest-review")
    _book_as_guest(page, "grace@example.com")
    expect(page.locator(".status")).to_have_text("Confirmed")
    _look(page, "guest-booked")
    run_jobs(app)

    mails = _mails_to(outbox, "grace@example.com")
    assert mails, "no confirmation email to the guest"
    link = re.search(r"https?://\S+?(/shop/b/[\w.\-]+)", _text_of(mails[-1]))
    assert link, _text_of(mails[-1])

    # Another browser (the guest's phone, say), not signed in: the link opens the booking.
    context = browser.new_context(base_url=live_server, viewport=SIZES["phone"])
    other = context.new_page()
    errors = BrowserErrors()
    errors.watch(other)
    other.goto(link.group(1))
    expect(other.get_by_role("heading", name="Open meditation")).to_be_visible()
    other.get_by_role("link", name="Cancel the booking").click()
    expect(other.locator(".cancel-refund")).to_contain_text("Nothing has been paid")
    assert_accessible(other)
    other.get_by_role("button", name="Yes, cancel the booking").click()
    expect(other.get_by_text("Your booking is cancelled.")).to_be_visible()
    context.close()
    assert not errors, errors
    page.reload()
    expect(page.locator(".status")).to_have_text("Cancelled")
    page.screenshots.take("guest-cancelled-from-the-link")


def test_a_german_browser_books_in_german_and_is_mailed_in_german(browser, live_server,
                                                                   build, app, outbox,
                                                                   request):
    _provider, offering, slots = _studio(build)
    free = build.offering(_provider, name="Offene Meditation", price_minor=0)
    build.slot(free, _at(27, 18), capacity=10)
    context = browser.new_context(base_url=live_server, viewport=SIZES["desktop"],
                                  locale="de-DE", extra_http_headers={
                                      "Accept-Language": "de-DE,de;q=0.9"})
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    errors = BrowserErrors()
    errors.watch(page)
    page.screenshots = Screenshots(page, request.node.name)

    page.goto(f"/shop/offerings/{free}?month=2027-03")
    expect(page.get_by_role("heading", name="Termin wählen")).to_be_visible()
    expect(page.locator(".picker-month-label")).to_have_text("März 2027")
    _look(page, "de-offering")
    page.get_by_role("link", name=re.compile(r"^Samstag,? 27\.? März 2027")).click()
    page.get_by_role("link", name="18:00").click()
    expect(page.get_by_role("heading", name="Buchung prüfen")).to_be_visible()
    _look(page, "de-review")
    _book_as_guest(page, "hanna@example.de", first="Hanna", last="Schmidt",
                   button="Als Gast buchen")
    expect(page.locator(".status")).to_have_text("Bestätigt")
    _look(page, "de-booked")
    run_jobs(app)
    context.close()
    assert not errors, errors

    mails = _mails_to(outbox, "hanna@example.de")
    assert mails, "no confirmation email"
    text = _text_of(mails[-1])
    assert "Hallo Hanna" in text and "Offene Meditation" in text, text


def test_two_browsers_race_for_the_last_place(page, build, browser, live_server, request):
    _provider, offering, slots = _studio(build, capacity=1)
    sunday = slots["sun"]
    customers = [build.email_of(build.customer()) for _ in range(2)]
    pages, contexts, errors = [page], [], BrowserErrors()
    context = browser.new_context(base_url=live_server, viewport=SIZES["desktop"])
    contexts.append(context)
    pages.append(context.new_page())
    errors.watch(pages[1])

    for each, email in zip(pages, customers):
        each.goto("/shop/login")
        each.get_by_label("Email").fill(email)
        each.get_by_label("Password").fill(BUILT_PASSWORD)
        each.get_by_role("button", name="Sign in").click()
        each.goto(f"/shop/offerings/{offering}/review?slot_id={sunday}&quantity=1")
        expect(each.get_by_role("heading", name="Review your booking")).to_be_visible()

    pages[0].get_by_role("button", name="Book", exact=True).click()
    expect(pages[0].locator(".status")).to_have_text("Waiting for payment")
    pages[1].get_by_role("button", name="Book", exact=True).click()

    loser = pages[1]
    # They asked for one place: the time was taken, said once, and other times offered.
    expect(loser.get_by_role("alert")).to_have_text(
        "Someone has just booked that time. Please choose another one below.")
    expect(loser.locator("#picker")).to_be_visible()
    assert_accessible(loser)
    page.screenshots.take("race-winner")
    Screenshots(loser, request.node.name).take("race-loser")
    for each in contexts:
        each.close()
    # Chromium logs the refused booking's 409 answer as "Failed to load resource": that
    # answer is the point here; anything else is an error.
    assert not [e for e in errors if "409 (CONFLICT)" not in e], errors
    assert db.session.scalar(select(Booking.id).where(Booking.slot_id == sunday)) is not None


# Rows of the header: its items grouped by where they stand (items of a row are centred, so
# their tops differ by a few pixels); then the room between a box's bottom and another's top.
HEADER_ROWS = """() => {
    const header = document.querySelector('header');
    const items = [...header.querySelectorAll(':scope > a, :scope > form, nav > *')]
        .map(e => e.getBoundingClientRect()).filter(box => box.height > 0)
        .map(box => box.top).sort((a, b) => a - b);
    let rows = 0, last = -100;
    for (const top of items) { if (top > last + 12) { rows += 1; last = top; } }
    return {rows, height: Math.round(header.getBoundingClientRect().height),
            overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth};
}"""


@pytest.mark.parametrize("language", ["English", "Deutsch"])
def test_signed_in_phone_pages_have_a_two_row_header_and_room_under_pay(page, build,
                                                                         language):
    _provider, offering, slots = _studio(build)
    customer = build.customer()
    reference = bookings.place_booking(customer_id=customer, offering_id=offering,
                                       slot_id=slots["sun"]).reference
    page.goto("/shop/login")
    page.get_by_label("Email").fill(build.email_of(customer))
    page.get_by_label("Password").fill(BUILT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=language).click()

    for name, size in PHONES.items():
        page.set_viewport_size(size)
        page.goto(f"/shop/bookings/{reference}")
        header = page.evaluate(HEADER_ROWS)
        assert header["rows"] <= 2 and header["overflow"] == 0, (name, header)
        pay = page.locator("section.pay button[type=submit]").bounding_box()
        below = page.locator("#actions-title").bounding_box()
        assert below["y"] - (pay["y"] + pay["height"]) >= 16, (name, pay, below)
        assert_accessible(page)
        page.screenshots.take(f"booking-{language}", sizes={name: size})

        page.goto("/shop/bookings")
        assert page.evaluate(HEADER_ROWS)["rows"] <= 2
        shown = page.locator(".booking-card .reference").first
        expect(shown).to_have_text(reference)
        assert shown.evaluate("e => e.getClientRects().length") == 1  # one line, unbroken
        page.screenshots.take(f"my-bookings-{language}", sizes={name: size})
