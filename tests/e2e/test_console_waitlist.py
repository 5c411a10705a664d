"""The waiting lists in Chromium: staff go from a full time on the slots list to its line,
see who holds an offer and who waits in which place, open the offer's booking; the
whole list under Bookings, as cards on a phone; admins see every provider's lines."""
from __future__ import annotations

from playwright.sync_api import expect

from app.extensions import db
from app.models import Account
from app.services import bookings, waitlist
from app.services.scopes import Actor, Scope
from tests.e2e.console import sign_in
from tests.notifications.conftest import run_jobs

PHONE = {"width": 390, "height": 844}


def _person(build, first: str, last: str) -> int:
    account_id = build.customer(email=f"{first.lower()}.{last.lower()}@example.com")
    account = db.session.get(Account, account_id)
    account.first_name, account.last_name = first, last
    db.session.commit()
    return account_id


def _full_time(build, offering: int, days: float, people) -> tuple[int, str]:
    """A time of 2 places, booked out, with ``people`` in its line."""
    slot = build.future_slot(offering, days=days, capacity=2)
    holder = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                    slot_id=slot, quantity=2)
    for first, last, places in people:
        waitlist.join(customer_id=_person(build, first, last), slot_id=slot, quantity=places)
    return slot, holder.reference


def _seed(app, build) -> dict:
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    flow = build.offering(provider, name="Evening flow", price_minor=1800)
    sunrise = build.offering(provider, name="Sunrise flow", price_minor=1500)
    slot, holder = _full_time(build, flow, 2, [("Ada", "Lovelace", 2), ("Grace", "Hopper", 1),
                                               ("Alan", "Turing", 1)])
    _full_time(build, sunrise, 4, [("Katherine", "Johnson", 1)])
    # Two places of the evening free up: Ada, first in line and wanting two, is offered them.
    bookings.cancel_booking(holder, actor=Actor(None, "test"), scope=Scope.all_providers())
    run_jobs(app)
    other = build.provider(name="Beta Barbers", timezone="America/New_York")
    _full_time(build, build.offering(other, name="Skin fade", price_minor=3500), 3,
               [("Barbara", "Liskov", 1)])
    return {"staff_email": staff_email, "slot": slot}


def _nothing_runs_off_the_screen(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                     && getComputedStyle(e).display !== 'none')
        .slice(0, 5).map(e => e.tagName + '.' + e.className)""")


def test_staff_follow_a_full_time_to_its_line_and_the_offer(app, page, build):
    seeded = _seed(app, build)
    sign_in(page, seeded["staff_email"])

    page.goto("/slotview/list/")
    link = page.get_by_role("link", name="2 waiting, 1 offered")
    expect(link).to_be_visible()
    page.screenshots.take("slots")
    link.click()

    rows = page.locator("table.console-list > tbody > tr")
    expect(rows).to_have_count(3)
    # The line in order: the offer, then the waiting in their places.
    expect(rows.nth(0)).to_contain_text("Ada Lovelace")
    expect(rows.nth(0)).to_contain_text("Offered a place")
    expect(rows.nth(1)).to_contain_text("Grace Hopper")
    expect(rows.nth(2)).to_contain_text("Alan Turing")
    places = page.locator("table.console-list > tbody > tr > td[data-label='Place in line']")
    expect(places).to_have_text(["", "1", "2"])
    # The filters say what is applied: the offering and the time on the studio's clock.
    chosen = page.locator("#filter_form select.filter-op option:checked")
    assert sorted(chosen.all_inner_texts()) == ["At (Europe/Berlin)", "Is"]
    for hidden in ("Katherine", "Barbara", "Skin fade", "Harbor Yoga Studio"):
        expect(page.locator("table.console-list")).not_to_contain_text(hidden)
    page.screenshots.take("line-of-a-time")

    page.get_by_role("link", name="Bookings").click()
    page.get_by_role("link", name="Waiting lists").click()
    expect(page.locator(".list-count")).to_have_text("4 waiting list entries")
    page.screenshots.take("waiting-lists")

    page.set_viewport_size(PHONE)
    assert not _nothing_runs_off_the_screen(page)
    card = page.locator("table.console-list > tbody > tr").filter(has_text="Ada Lovelace")
    for label in ("Starts (local time)", "Customer", "Status", "Offer held until", "Booking"):
        expect(card.locator(f"td[data-label='{label}']")).to_be_visible()
    card.scroll_into_view_if_needed()
    page.screenshots.take("waiting-lists-phone", sizes={"phone": PHONE})

    card.locator("td[data-label='Booking'] a").click()
    expect(page.get_by_role("heading", name="Evening flow", level=1)).to_contain_text(
        "Pending")
    expect(page.locator(".booking-customer-name")).to_have_text("Ada Lovelace")
    note = page.locator(".booking-waitlist")
    expect(note).to_contain_text("Offered from the waiting list")
    expect(note.get_by_role("link")).to_have_text("2 waiting, 1 offered for this time")
    page.screenshots.take("the-offers-booking")
    note.get_by_role("link").click()
    expect(page.locator("table.console-list > tbody > tr")).to_have_count(3)


def test_admins_see_every_providers_lines(app, page, build):
    _seed(app, build)
    sign_in(page, build.email_of(build.admin()))
    page.goto("/waitlistview/list/")
    expect(page.locator(".list-count")).to_have_text("5 waiting list entries")
    table = page.locator("table.console-list")
    expect(table.locator("thead")).to_contain_text("Provider")
    expect(table).to_contain_text("Beta Barbers")
    expect(table).to_contain_text("Harbor Yoga Studio")
    # Each provider's time on its own clock, with its zone.
    barbara = table.locator("tbody > tr").filter(has_text="Barbara Liskov")
    expect(barbara.locator("td[data-label='Starts (local time)']")).to_contain_text("EST")
    page.screenshots.take("admin-waiting-lists")
    page.locator("table.console-list > tbody > tr").filter(has_text="Barbara Liskov") \
        .get_by_role("link", name="Show").click()
    expect(page.locator(".panel-title, h1, h2").first).to_be_visible()
    expect(page.get_by_text("Left the list")).to_have_count(0)
    page.screenshots.take("admin-entry")
