"""The booking page in a browser: a pay-at-venue booking is marked paid, partly refunded
and moved to another time, by the provider's staff, at desktop and phone sizes."""
from __future__ import annotations

from playwright.sync_api import expect

from app.services import bookings
from tests.e2e.console import sign_in

PHONE = {"width": 390, "height": 844}


def _seed(build):
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    offering = build.offering(provider, name="Evening flow", price_minor=1500,
                              pay_at_venue=True)
    booked = build.future_slot(offering, days=2, capacity=8)
    later = build.future_slot(offering, days=4, capacity=8, booked=3)
    customer = build.customer()
    reference = bookings.place_booking(customer_id=customer, offering_id=offering,
                                       slot_id=booked, quantity=2).reference
    return staff_email, reference, later


def test_staff_mark_paid_refund_and_move_a_booking(page, build):
    staff_email, reference, later_slot = _seed(build)
    sign_in(page, staff_email)
    page.goto("/bookingview/list/")
    page.get_by_role("row", name=reference).get_by_role("link").first.click()

    expect(page.get_by_role("heading", name="Evening flow", level=1)).to_contain_text("Pending")
    expect(page.get_by_text("No payment yet: to be paid at the venue.")).to_be_visible()
    actions = page.locator(".booking-actions button")
    # Only what the state allows: a future, unpaid pay-at-venue booking.
    expect(actions).to_have_text(["Confirm", "Mark paid", "Cancel"], use_inner_text=True)
    page.screenshots.take("pending")

    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_text(f"{reference}: marked paid.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Confirmed")
    expect(page.locator(".booking-actions button")).not_to_contain_text(["Mark paid"])
    payments = page.locator("#payments")
    expect(payments).to_contain_text("30.00 EUR")
    expect(payments).to_contain_text("can still refund 30.00 EUR")

    payments.get_by_label("Amount (EUR)").fill("12.50")
    payments.get_by_label("Reason").fill("Arrived late")
    payments.get_by_role("button", name="Refund").click()
    expect(page.locator("#payments")).to_contain_text("can still refund 17.50 EUR")
    expect(page.locator(".booking-refunds")).to_contain_text("12.50 EUR")
    page.screenshots.take("refunded")

    move = page.locator("#reschedule")
    choice = page.locator(f'input[name="slot_id"][value="{later_slot}"]')
    target_time = move.locator("label.slot-choice", has=choice).locator("span").inner_text()
    choice.check()
    move.get_by_role("button", name="Move the booking").click()
    expect(page.locator(".booking-when")).to_have_text(target_time)
    expect(page.locator("#history")).to_contain_text("Moved to another time")
    page.screenshots.take("moved")

    page.set_viewport_size(PHONE)
    too_wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                     && !e.parentElement.closest('.table-responsive'))
        .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
    assert not too_wide, too_wide
    expect(page.locator(".booking-actions button").first).to_be_in_viewport()
