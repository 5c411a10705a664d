"""The storefront's choice of person for a service done by staff: "Anyone available" or
a named barber above the calendar, the days and times following the choice, the choice
kept through the review into the booking, the booking page naming who it is with; a
chosen barber booked meanwhile is a clear message, and a bad choice is never a 500."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, ResourceBooking
from app.services import bookings, resources
from app.services.scopes import Scope
from tests.storefront.conftest import sign_in

BERLIN = ZoneInfo("Europe/Berlin")
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}


@pytest.fixture
def barbers(build):
    """A barbershop: a haircut by Ada or Bob (and a chair); 10:00 and 11:00 in three
    days, Ada booked at 10:00 already."""
    provider = build.provider(name="Sharp Cuts", timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada", kind="staff").id
    bob = resources.create_resource(scope=scope, name="Bob", kind="staff").id
    chairs = [resources.create_resource(scope=scope, name=f"Chair {n}", kind="room").id
              for n in (1, 2)]
    cut = build.offering(provider, name="Haircut", price_minor=3000)
    resources.set_offering_resources(cut, [ada, bob, *chairs], scope=scope)
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    ten = build.slot(cut, _at(day, 10), capacity=3)
    eleven = build.slot(cut, _at(day, 11), capacity=3)
    bookings.place_booking(customer_id=build.customer(), offering_id=cut, slot_id=ten,
                           resource_id=ada)
    other = build.offering(provider, name="Beard trim", price_minor=1500)
    carl = resources.create_resource(scope=scope, name="Carl", kind="staff").id
    resources.set_offering_resources(other, [carl], scope=scope)
    customer = build.customer()
    return {"cut": cut, "ada": ada, "bob": bob, "carl": carl, "ten": ten,
            "eleven": eleven, "day": day, "customer": customer,
            "email": build.email_of(customer)}


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), BERLIN).astimezone(timezone.utc)


def _page(client, path: str, **headers):
    response = client.get(path, headers=headers)
    return response.status_code, response.get_data(as_text=True)


def _review_links(page: str) -> set[str]:
    return set(re.findall(r'href="(/shop/offerings/\d+/review\?[^"]+)"', page))


def test_the_choice_is_above_the_calendar_and_the_times_follow_it(client, barbers):
    cut = barbers["cut"]
    _, anyone = _page(client, f"/shop/offerings/{cut}")
    assert 'class="picker-people"' in anyone and ">Anyone available</a>" in anyone
    assert ">Ada</a>" in anyone and ">Bob</a>" in anyone
    assert "Chair 1" not in anyone and "Carl" not in anyone  # no rooms, no other's staff
    assert anyone.index("picker-people") < anyone.index("picker-grid")
    assert f"slot_id={barbers['ten']}&amp;quantity=1\"" in anyone  # Bob is free at ten

    _, with_ada = _page(client, f"/shop/offerings/{cut}?resource={barbers['ada']}")
    links = _review_links(with_ada)
    assert links == {f"/shop/offerings/{cut}/review?slot_id={barbers['eleven']}&amp;"
                     f"quantity=1&amp;resource={barbers['ada']}"}
    assert re.search(r'class="picker-person chosen"[^>]*\n?[^>]*aria-current="true">Ada<',
                     with_ada)
    # Every picker link keeps the choice but "Anyone available"; the places form too.
    without = [href for href in re.findall(r'href="(/shop/offerings/\d+\?[^"]+)"', with_ada)
               if "resource=" not in href]
    assert without == [f"/shop/offerings/{cut}?quantity=1#picker"]
    assert f'name="resource" value="{barbers["ada"]}"' in with_ada

    _, with_bob = _page(client, f"/shop/offerings/{cut}?resource={barbers['bob']}")
    assert {barbers["ten"], barbers["eleven"]} == {
        int(slot) for slot in re.findall(r"review\?slot_id=(\d+)", with_bob)}


def test_the_chosen_barber_reaches_the_booking_and_its_page_names_them(app, barbers):
    client = app.test_client()
    sign_in(client, barbers["email"])
    cut, ada = barbers["cut"], barbers["ada"]
    status, review = _page(client, f"/shop/offerings/{cut}/review?slot_id="
                                   f"{barbers['eleven']}&quantity=1&resource={ada}")
    assert status == 200
    assert re.search(r"<dt>With</dt><dd class=\"review-with\">Ada</dd>", review)
    assert f'name="resource" value="{ada}"' in review
    assert f"resource={ada}#picker" in review  # "Change" keeps the choice
    token = re.search(r'name="submission" value="([0-9a-f]+)"', review).group(1)

    response = client.post(f"/shop/offerings/{cut}/book", data={
        "slot_id": barbers["eleven"], "quantity": 1, "submission": token, "resource": ada})

    assert response.status_code == 302
    reference = response.headers["Location"].rsplit("/", 1)[1]
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert ada in db.session.scalars(select(ResourceBooking.resource_id).where(
        ResourceBooking.booking_id == booking.id)).all()
    _, page = _page(client, f"/shop/bookings/{reference}")
    assert '<dt>With</dt><dd class="booking-with">Ada</dd>' in page
    assert "Chair 1" not in page  # rooms are not named to customers


def test_anyone_available_names_who_it_is_with_on_the_booking_page(client, barbers):
    cut = barbers["cut"]
    _, review = _page(client, f"/shop/offerings/{cut}/review?slot_id={barbers['ten']}"
                              "&quantity=1")
    assert '<dd class="review-with">Anyone available</dd>' in review
    assert 'name="resource"' not in review
    token = re.search(r'name="submission" value="([0-9a-f]+)"', review).group(1)
    response = client.post(f"/shop/offerings/{cut}/book-as-guest", data={
        "slot_id": barbers["ten"], "quantity": 1, "submission": token, "locale": "de",
        "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"},
        headers=GERMAN)
    assert response.status_code == 302
    _, page = _page(client, response.headers["Location"], **GERMAN)
    assert '<dt>Mit</dt><dd class="booking-with">Bob</dd>' in page  # Ada was busy at ten


def test_a_guest_keeps_the_choice_through_a_form_error(client, barbers):
    cut, bob = barbers["cut"], barbers["bob"]
    _, review = _page(client, f"/shop/offerings/{cut}/review?slot_id={barbers['ten']}"
                              f"&quantity=1&resource={bob}")
    token = re.search(r'name="submission" value="([0-9a-f]+)"', review).group(1)
    form = {"slot_id": barbers["ten"], "quantity": 1, "submission": token, "resource": bob,
            "first_name": "Grace", "last_name": "Hopper", "email": "not-an-address"}
    again = client.post(f"/shop/offerings/{cut}/book-as-guest", data=form)
    assert again.status_code == 422, again.get_data(as_text=True)[:3000]
    assert f'name="resource" value="{bob}"' in again.get_data(as_text=True)
    response = client.post(f"/shop/offerings/{cut}/book-as-guest",
                           data={**form, "email": "grace@example.com"})
    _, page = _page(client, response.headers["Location"])
    assert '<dd class="booking-with">Bob</dd>' in page


def test_a_chosen_barber_booked_meanwhile_is_a_clear_message(app, barbers, build):
    client = app.test_client()  # a guest with a German browser
    cut, bob = barbers["cut"], barbers["bob"]
    _, review = _page(client, f"/shop/offerings/{cut}/review?slot_id={barbers['eleven']}"
                              f"&quantity=1&resource={bob}")
    token = re.search(r'name="submission" value="([0-9a-f]+)"', review).group(1)
    bookings.place_booking(customer_id=build.customer(), offering_id=cut,
                           slot_id=barbers["eleven"], resource_id=bob)
    count = db.session.scalar(select(func.count()).select_from(Booking))

    guest = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"}
    response = client.post(f"/shop/offerings/{cut}/book-as-guest", data={
        "slot_id": barbers["eleven"], "quantity": 1, "submission": token, "resource": bob,
        **guest}, headers=GERMAN)

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Bob ist zu dieser Zeit nicht mehr frei." in page
    assert 'id="picker"' in page and 'aria-current="true">Bob<' in page  # still Bob
    assert db.session.scalar(select(func.count()).select_from(Booking)) == count
    english = client.post(f"/shop/offerings/{cut}/book-as-guest", data={
        "slot_id": barbers["eleven"], "quantity": 1, "submission": token, "resource": bob,
        **guest})
    assert "Bob is no longer free at that time. Please choose another time." in \
        english.get_data(as_text=True)


@pytest.mark.parametrize("value", ["abc", "-1", "99999999", "1e3", "carl"])
def test_a_bad_choice_is_not_a_server_error(client, barbers, value):
    cut = barbers["cut"]
    value = str(barbers["carl"]) if value == "carl" else value  # another offering's barber
    status, page = _page(client, f"/shop/offerings/{cut}?resource={value}")
    assert status == 200
    assert "That person does not do this service. Showing the times of anyone " \
        "available." in page
    assert f"slot_id={barbers['ten']}" in page  # everyone's times

    status, review = _page(client, f"/shop/offerings/{cut}/review?slot_id="
                                   f"{barbers['ten']}&quantity=1&resource={value}")
    assert status == 422 and "That person does not do this service." in review

    response = client.post(f"/shop/offerings/{cut}/book-as-guest", data={
        "slot_id": barbers["ten"], "quantity": 1, "resource": value,
        "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.offering_id == cut)) == 1


def test_the_choice_in_german(client, barbers):
    _, page = _page(client, f"/shop/offerings/{barbers['cut']}", **GERMAN)
    assert ">Mit</span>" in page and ">Beliebige freie Person</a>" in page


def test_a_service_without_staff_has_no_choice(client, store):
    _, page = _page(client, f"/shop/offerings/{store.offering_id}?resource=7")
    assert "picker-people" not in page and "does not do this" not in page
    assert f"review?slot_id={store.slot_id}&amp;quantity=1\"" in page
