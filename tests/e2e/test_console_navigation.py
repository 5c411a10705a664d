"""Staff and admins find their way: one-row menu at 1366 px, every group opens, lists
scroll sideways on a phone instead of being cut off."""
from __future__ import annotations

from playwright.sync_api import expect

from app.extensions import db
from app.models import Account
from app.services import bookings
from tests.e2e.console import sign_in

WIDE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def navbar_height(page) -> float:
    return page.locator(".navbar").first.evaluate("n => n.getBoundingClientRect().height")


def open_each_group(page, groups: list[str]) -> None:
    for group in groups:
        page.locator(".navbar-nav > li > a.dropdown-toggle", has_text=group).click()
        menu = page.locator(".navbar-nav > li.open > .dropdown-menu")
        expect(menu).to_be_visible()
        page.screenshots.take(f"menu-{group.lower().replace(' ', '-')}")
        page.keyboard.press("Escape")


def _seed(build) -> str:
    provider = build.provider(name="Harbor Yoga Studio")
    staff_id = build.staff(provider)
    # A long name, as people have: the menu must still fit one row.
    staff = db.session.get(Account, staff_id)
    staff.first_name, staff.last_name = "Alexandra", "Papadopoulos-Whitfield"
    db.session.commit()
    staff_email = build.email_of(staff_id)
    offering = build.offering(provider, name="Evening flow", price_minor=1800)
    slot = build.future_slot(offering, days=2, capacity=8)
    bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                           slot_id=slot, quantity=2)
    return staff_email


def test_staff_menu_fits_one_row_and_every_group_opens(page, build):
    staff_email = _seed(build)
    sign_in(page, staff_email)
    page.set_viewport_size(WIDE)
    one_row = navbar_height(page)
    assert one_row <= 52, f"the navbar wraps at 1366 px: {one_row} px high"
    open_each_group(page, ["Bookings", "Catalog", "Payments", "Messages", "Marketing",
                           "Integrations", "Your business"])


def test_admin_menu_fits_one_row_and_every_group_opens(page, build):
    _seed(build)
    sign_in(page, build.email_of(build.admin()))
    page.set_viewport_size(WIDE)
    one_row = navbar_height(page)
    assert one_row <= 52, f"the navbar wraps at 1366 px: {one_row} px high"
    open_each_group(page, ["Bookings", "Catalog", "Payments", "Messages", "Marketing",
                           "Integrations", "Platform"])


def test_lists_are_cards_on_a_phone(page, build):
    staff_email = _seed(build)
    sign_in(page, staff_email)
    page.set_viewport_size(PHONE)
    # The menu folds behind the toggle and opens from it.
    page.get_by_role("button", name="Toggle navigation").click()
    expect(page.locator(".navbar-collapse.in")).to_be_visible()
    expect(page.get_by_role("link", name="Your business")).to_be_in_viewport()
    page.screenshots.take("phone-menu")
    for path, name in (("/bookingview/list/", "bookings"), ("/slotview/list/", "slots"),
                       ("/offeringview/list/", "offerings"), ("/auditlogview/list/", "audit-log")):
        page.goto(path)
        page.set_viewport_size(PHONE)
        page.screenshots.take(f"phone-{name}")
        # Nothing runs off the screen: no table cut off after its second column.
        too_wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                         && getComputedStyle(e).display !== 'none')
            .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
        assert not too_wide, (name, too_wide)
        # Each row is a card whose lines are labelled with the column's name.
        headers = page.locator("table.console-list > thead th").all_inner_texts()
        labels = page.evaluate("""() => [...document.querySelectorAll(
            'table.console-list > tbody > tr:first-child > td[data-label]')]
            .map(td => getComputedStyle(td, '::before').content.replace(/^"|"$/g, ''))""")
        assert labels and labels == [h.strip() for h in headers if h.strip()][-len(labels):], (
            name, labels, headers)
        # The last line of the card (empty cells are left out of a card).
        last = page.locator("table.console-list > tbody > tr:first-child > td:not(:empty)").last
        last.scroll_into_view_if_needed()
        expect(last).to_be_in_viewport()
        page.screenshots.take(f"phone-{name}-card")
