"""The waiting list in Chromium, at desktop and phone sizes: a customer opens a fully booked
day in the time picker, joins its waiting list and sees it in "My bookings"; the booking
holding the place is cancelled, and the customer is offered the place, sees the offer in
"My bookings" and on the booking page, and takes it by paying with the test card. Then a
German browser joins the waiting list of a time paid at the venue and takes the place
offered with a click, in German. axe-core checks every page visited."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Booking, Slot, WaitlistEntry
from app.models.bookings import CONFIRMED
from app.models.waitlist import BOOKED, OFFERED, WAITING
from app.services import bookings
from app.services.scopes import Actor, Scope
from tests.builders import PASSWORD
from tests.e2e.accessibility import assert_accessible
from tests.e2e.shop import sign_in
from tests.notifications.conftest import run_jobs

BERLIN = ZoneInfo("Europe/Berlin")


def _look(page, step: str) -> None:
    """axe-core on the page as it is, then screenshots at both sizes."""
    assert_accessible(page)
    page.screenshots.take(step)


def _studio(build, **offering_fields):
    """A time 3 days ahead whose 2 places are both booked, and one with places 4 days
    ahead."""
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    offering = build.offering(provider, name="Sunrise yoga", price_minor=4200,
                              description="Slow flow by the water.",
                              free_cancellation_hours=24, **offering_fields)
    full = build.future_slot(offering, days=3, capacity=2)
    holder = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                    slot_id=full, quantity=2)
    build.future_slot(offering, days=4, capacity=6)
    day = db.session.get(Slot, full).starts_at.astimezone(BERLIN).date()
    return offering, full, holder.reference, day


def _entry(customer_id: int) -> WaitlistEntry:
    db.session.expire_all()
    return db.session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.customer_id == customer_id))


def test_a_customer_waits_for_a_full_time_and_takes_the_place(page, build, app):
    offering, full, holder_reference, day = _studio(build)
    customer = build.customer()
    sign_in(page, build.email_of(customer))

    page.goto(f"/shop/offerings/{offering}?month={day:%Y-%m}")
    full_day = page.get_by_role(
        "link", name=f"{format_date(day, 'full', locale='en')}: fully booked, waiting list open")
    expect(full_day).to_have_class(re.compile(r"\bfull\b"))
    expect(page.locator(".picker-legend")).to_contain_text("Fully booked")
    full_day.click()
    expect(page.locator(".picker-times h3")).to_have_text(format_date(day, "full",
                                                                       locale="en"))
    expect(page.get_by_text("No free times on this day.")).to_be_visible()
    expect(page.get_by_role("heading", name="Fully booked")).to_be_visible()
    expect(page.locator(".picker-zone")).to_contain_text("Europe/Berlin")
    join = page.get_by_role("button", name=re.compile(r"^Join the waiting list for \d\d:\d\d$"))
    expect(join).to_have_count(1)
    expect(join).to_be_focused()  # the script moved focus to the day's first choice
    _look(page, "picker-fully-booked")

    join.click()
    expect(page.get_by_text("You are on the waiting list, number 1 in line.")).to_be_visible()
    waiting = page.locator("#waitlist")
    expect(waiting.get_by_role("heading", name="Waiting lists")).to_be_visible()
    expect(waiting).to_contain_text("On the waiting list")
    expect(waiting).to_contain_text("Number 1 in line")
    expect(waiting).to_contain_text("1 place")
    expect(waiting).to_contain_text("(Europe/Berlin)")
    expect(waiting.get_by_role("button", name="Leave the waiting list")).to_be_visible()
    _look(page, "my-bookings-waiting")
    assert _entry(customer).status == WAITING

    # The booking holding both places is cancelled: the customer is offered one.
    bookings.cancel_booking(holder_reference, actor=Actor(None, "test"),
                            scope=Scope.all_providers())
    run_jobs(app)
    entry = _entry(customer)
    assert entry.status == OFFERED
    page.reload()
    expect(waiting).to_contain_text("A place is held for you")
    expect(waiting.locator(".waitlist-offer")).to_contain_text(
        re.compile(r"held for you until .*\d\d:\d\d CES?T \(Europe/Berlin\)"))
    expect(page.locator("body")).not_to_contain_text("None")
    _look(page, "my-bookings-offered")

    waiting.get_by_role("link", name="Take the place").click()
    offer = page.locator(".offer")
    expect(offer.get_by_role("heading", name="A place came free for you")).to_be_visible()
    expect(offer).to_contain_text(re.compile(
        r"A place from the waiting list is held for you until .*\d\d:\d\d CES?T "
        r"\(Europe/Berlin\)"))
    expect(offer.get_by_role("button", name="Decline")).to_be_visible()
    expect(offer.get_by_role("button", name="Take the place")).to_have_count(0)
    expect(page.get_by_role("link", name="Cancel the booking")).to_have_count(0)
    _look(page, "booking-offer")

    page.get_by_label("Test card").select_option(label="Visa (succeeds)")
    page.get_by_role("button", name=re.compile("with the test card")).click()
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    run_jobs(app)  # the confirmation books the waiting list's entry
    offered_booking = db.session.get(Booking, entry.booking_id)
    db.session.refresh(offered_booking)
    assert offered_booking.status == CONFIRMED and offered_booking.slot_id == full
    assert _entry(customer).status == BOOKED

    page.goto("/shop/bookings")
    expect(waiting).to_contain_text("Booked")
    expect(waiting.get_by_role("link", name="See the booking")).to_be_visible()
    expect(waiting.get_by_role("button")).to_have_count(0)
    _look(page, "my-bookings-booked")


def test_a_german_browser_waits_and_takes_a_place_paid_at_the_venue(browser_page, build,
                                                                     app):
    offering, _full, holder_reference, day = _studio(build, pay_at_venue=True)
    customer = build.customer()
    db.session.get(Account, customer).locale = "de"  # the account's language decides
    db.session.commit()
    page = browser_page("german", locale="de-DE")
    page.goto("/shop/login")
    page.get_by_label("E-Mail").fill(build.email_of(customer))
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()

    page.goto(f"/shop/offerings/{offering}?day={day.isoformat()}")
    expect(page.get_by_role("heading", name="Ausgebucht")).to_be_visible()
    expect(page.get_by_text("An diesem Tag ist nichts frei.")).to_be_visible()
    _look(page, "de-picker-fully-booked")
    page.get_by_role("button", name=re.compile(r"^Auf die Warteliste setzen")).click()
    expect(page.get_by_text("Sie stehen auf der Warteliste, auf Position 1.")).to_be_visible()
    expect(page.locator("#waitlist")).to_contain_text("Position 1 auf der Warteliste")
    _look(page, "de-my-bookings-waiting")

    bookings.cancel_booking(holder_reference, actor=Actor(None, "test"),
                            scope=Scope.all_providers())
    run_jobs(app)
    page.reload()
    page.locator("#waitlist").get_by_role("link", name="Platz annehmen").click()
    offer = page.locator(".offer")
    expect(offer).to_contain_text(re.compile(
        r"Ein Platz von der Warteliste ist bis .*\d\d:\d\d CES?T \(Europe/Berlin\) für Sie "
        r"reserviert\."))
    expect(offer).to_contain_text("Sie bezahlen vor Ort")
    _look(page, "de-booking-offer")
    offer.get_by_role("button", name="Platz annehmen").click()
    expect(page.get_by_text("Der Platz gehört Ihnen. Sie bezahlen vor Ort")).to_be_visible()
    expect(page.locator(".offer")).to_have_count(0)
    _look(page, "de-booking-taken")
    assert _entry(customer).status == BOOKED
