"""Choosing a person in Chromium, at desktop and phone sizes: a customer of a barbershop
chooses a barber above the calendar, sees only that barber's free times (the picker
redrawn by its script), books one, and sees the barber's name on the review and the
booking page. axe-core checks every page visited."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Booking, Resource, ResourceBooking
from app.services import bookings, resources
from app.services.scopes import Scope
from tests.e2e.accessibility import assert_accessible
from tests.e2e.shop import sign_in

BERLIN = ZoneInfo("Europe/Berlin")


def _look(page, step: str) -> None:
    """axe-core on the page as it is, then screenshots at both sizes."""
    assert_accessible(page)
    page.screenshots.take(step)


def _barbershop(build):
    """A haircut by Ada or Bob (in one of two chairs) at 10:00, 11:00 and 14:00 in three
    days; Ada is booked at 10:00 already."""
    provider = build.provider(name="Sharp Cuts Barbers", timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada Barber", kind="staff").id
    bob = resources.create_resource(scope=scope, name="Bob Fade", kind="staff").id
    chairs = [resources.create_resource(scope=scope, name=f"Chair {n}", kind="room").id
              for n in (1, 2)]
    cut = build.offering(provider, name="Classic haircut", price_minor=3000,
                         description="Wash, cut and style.")
    resources.set_offering_resources(cut, [ada, bob, *chairs], scope=scope)
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    slots = {hour: build.slot(cut, datetime.combine(day, time(hour), BERLIN)
                              .astimezone(timezone.utc), capacity=2)
             for hour in (10, 11, 14)}
    bookings.place_booking(customer_id=build.customer(), offering_id=cut, slot_id=slots[10],
                           resource_id=ada)
    return cut, ada, day


def test_a_customer_chooses_a_barber_sees_their_times_and_books_them(page, build):
    cut, ada, day = _barbershop(build)
    sign_in(page, build.email_of(build.customer()))

    page.goto(f"/shop/offerings/{cut}")
    people = page.get_by_role("group", name="With")
    expect(people.get_by_role("link")).to_have_text(["Anyone available", "Ada Barber",
                                                      "Bob Fade"])
    expect(people.get_by_role("link", name="Anyone available")).to_have_attribute(
        "aria-current", "true")
    expect(page.locator("#picker")).not_to_contain_text("Chair")  # rooms are not chosen
    times = page.locator(".picker-time")
    expect(times).to_have_text(["10:00", "11:00", "14:00"])  # Bob is free at ten
    _look(page, "anyone-available")

    people.get_by_role("link", name="Ada Barber").click()
    expect(page).to_have_url(re.compile(rf"resource={ada}"))
    ada_link = page.get_by_role("group", name="With").get_by_role("link", name="Ada Barber")
    expect(ada_link).to_have_attribute("aria-current", "true")
    expect(ada_link).to_be_focused()  # the script redrew the picker and kept the place
    expect(page.locator(".picker-times h3")).to_contain_text(f"{day:%B} {day.day}, {day.year}")
    expect(times).to_have_text(["11:00", "14:00"])  # Ada is booked at ten
    # The places form keeps the choice too.
    page.get_by_label("Places").fill("1")
    page.get_by_role("button", name="Show free times").click()
    expect(page.locator("#picker")).not_to_have_attribute("aria-busy", "true")  # redrawn
    expect(page).to_have_url(re.compile(rf"resource={ada}"))
    expect(times).to_have_text(["11:00", "14:00"])
    _look(page, "ada-chosen")

    page.get_by_role("link", name="11:00").click()
    expect(page.get_by_role("heading", name="Review your booking")).to_be_visible()
    expect(page.locator(".review-with")).to_have_text("Ada Barber")
    _look(page, "review")
    page.get_by_role("button", name="Book", exact=True).click()

    expect(page.get_by_role("heading", name="Classic haircut")).to_be_visible()
    expect(page.locator(".booking-with")).to_have_text("Ada Barber")
    expect(page.locator(".booking-when")).to_contain_text("11:00")
    expect(page.locator(".booking-facts")).not_to_contain_text("Chair")
    _look(page, "booking")
    reference = page.locator(".booking-facts dd").first.inner_text()
    db.session.expire_all()
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert db.session.scalar(select(Resource.name).join(
        ResourceBooking, ResourceBooking.resource_id == Resource.id).where(
        ResourceBooking.booking_id == booking.id, Resource.kind == "staff")) == "Ada Barber"
