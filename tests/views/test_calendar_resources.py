"""Staff, rooms and equipment on the console's calendar and booking page: the calendar's
"Who" filter (only the provider's own resources, grouped by kind, kept while moving about;
another provider's resource is a 404), who does each booking, and the booking page's
"With"."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.services import booking_calendar, resources
from app.services.bookings import Actor, Scope, cancel_booking, place_booking
from tests.views.console import select_options, signed_in

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2030, 6, 4)  # a Tuesday; test data sits years ahead
PAST = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(timezone.utc)


def _shown(page: str) -> list[str]:
    return re.findall(r'class="calendar-booking [^"]*" data-reference="([^"]+)"', page)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _block(page: str, reference: str) -> str:
    """One booking's block on the calendar."""
    start = page.index(f'data-reference="{reference}"')
    return page[start:page.index("calendar-booking-foot", start)]


@pytest.fixture
def barbers(build, tenant_a, tenant_b):
    """Alpha's barbers Ada and Bob, chairs 1 and 2 and an inactive Cy; a cut needs a
    barber and a chair. Beta has a barber of its own, Zed."""
    scope = Scope.of_provider(tenant_a.provider_id)

    def resource(name, kind="staff", scope=scope):
        return resources.create_resource(scope=scope, name=name, kind=kind).id

    ids = {name: resource(name, kind) for name, kind in (
        ("Ada", "staff"), ("Bob", "staff"), ("Chair 1", "room"), ("Chair 2", "room"),
        ("Cy", "staff"), ("Clippers", "equipment"))}
    resources.update_resource(ids["Cy"], scope=scope, active=False)
    zed = resource("Zed", scope=Scope.of_provider(tenant_b.provider_id))
    cut = build.offering(tenant_a.provider_id, name="Cut", price_minor=0)
    resources.set_offering_resources(cut, [ids["Ada"], ids["Bob"], ids["Chair 1"],
                                           ids["Chair 2"]], scope=scope)
    plain = build.offering(tenant_a.provider_id, name="Consultation", price_minor=0)

    def book(offering, starts_at, **choice):
        key = (offering, starts_at)
        if key not in slots:
            slots[key] = build.slot(offering, starts_at, capacity=3)
        slot = slots[key]
        booking = place_booking(customer_id=build.customer(), offering_id=offering,
                                slot_id=slot, now=PAST, **choice)
        booked[booking.reference] = booking.id
        return booking.reference

    booked: dict[str, int] = {}
    slots: dict[tuple, int] = {}

    return {**ids, "zed": zed, "cut": cut, "plain": plain, "book": book, "scope": scope,
            "booked": booked}


def test_who_filters_the_calendar_to_one_persons_bookings(app, tenant_a, barbers):
    with_ada = barbers["book"](barbers["cut"], _at(10), resource_id=barbers["Ada"])
    with_bob = barbers["book"](barbers["cut"], _at(10), resource_id=barbers["Bob"])
    nobody = barbers["book"](barbers["plain"], _at(12))
    staff = signed_in(app, tenant_a.staff_email)

    everyone = staff.get(f"/calendar/day?day={DAY}")
    only_ada = staff.get(f"/calendar/day?day={DAY}&resource_id={barbers['Ada']}")

    assert sorted(_shown(_text(everyone))) == sorted([with_ada, with_bob, nobody])
    assert _shown(_text(only_ada)) == [with_ada]
    page = _text(only_ada)
    assert "1 booking with Ada" in page
    # Active resources only, staff first, then rooms and equipment, each kind by name.
    assert select_options(everyone, "calendar-resource") == [
        "Everyone", "Ada", "Bob", "Chair 1", "Chair 2", "Clippers"]
    assert '<optgroup label="Staff">' in page and '<optgroup label="Rooms">' in page
    assert '<optgroup label="Equipment">' in page
    assert f'<option value="{barbers["Ada"]}" selected>' in page
    assert "Zed" not in _text(everyone) and "Cy" not in select_options(
        everyone, "calendar-resource")


def test_the_filter_survives_moving_about_the_calendar(app, tenant_a, barbers):
    reference = barbers["book"](barbers["cut"], _at(10), resource_id=barbers["Ada"])
    staff = signed_in(app, tenant_a.staff_email)
    who = f"resource_id={barbers['Ada']}"

    week = _text(staff.get(f"/calendar/week?week={DAY}&{who}"))

    for rel in ("prev", "next"):
        link = re.search(rf'rel="{rel}" href="([^"]+)"', week).group(1)
        assert who in link, link
    day_link = re.search(rf'href="([^"]*/calendar/day\?[^"]*day={DAY}[^"]*)"', week).group(1)
    assert who in day_link
    move = re.search(r'class="calendar-move" href="([^"]+)"', week).group(1)
    assert who in move
    panel = _text(staff.get(move + "&fragment=1"))
    assert reference in panel
    close = re.search(r'class="calendar-move-close" href="([^"]+)"', panel).group(1)
    assert who in close and "/calendar/week" in close  # back to the same view
    for rel in ("prev", "next"):  # other days of the panel
        assert who in re.search(rf'rel="{rel}" href="([^"]+)"', panel).group(1)


def test_a_moved_booking_goes_back_to_the_filtered_calendar(app, build, tenant_a, barbers):
    reference = barbers["book"](barbers["cut"], _at(10), resource_id=barbers["Ada"])
    later = build.slot(barbers["cut"], _at(15), capacity=3)  # Ada is free then
    staff = signed_in(app, tenant_a.staff_email)
    panel = _text(staff.get(f"/calendar/move/{reference}?fragment=1&view=day&at={DAY}"
                            f"&start={DAY}&resource_id={barbers['Ada']}"))
    assert f'data-slot="{later}"' in panel
    assert f'name="resource_id" value="{barbers["Ada"]}"' in panel  # posted back

    moved = staff.post(f"/calendar/move/{reference}", data={
        "slot_id": str(later), "view": "day", "at": str(DAY),
        "resource_id": str(barbers["Ada"])})

    assert moved.status_code == 302
    location = moved.headers["Location"]
    assert f"resource_id={barbers['Ada']}" in location and f"day={DAY}" in location
    assert _shown(_text(staff.get(location))) == [reference]


def test_another_providers_or_an_unknown_resource_is_a_404(app, tenant_a, barbers):
    barbers["book"](barbers["cut"], _at(10), resource_id=barbers["Ada"])
    staff = signed_in(app, tenant_a.staff_email)

    for value in (barbers["zed"], 424242, "abc", "99999999999"):
        assert staff.get(f"/calendar/week?week={DAY}&resource_id={value}").status_code == 404
    # An inactive resource of their own still shows its bookings, named as inactive.
    inactive = staff.get(f"/calendar/week?week={DAY}&resource_id={barbers['Cy']}")
    assert inactive.status_code == 200
    assert "Cy (inactive)" in select_options(inactive, "calendar-resource")


def test_each_booking_says_who_does_it(app, tenant_a, barbers):
    with_ada = barbers["book"](barbers["cut"], _at(10), resource_id=barbers["Ada"])
    nobody = barbers["book"](barbers["plain"], _at(12))
    staff = signed_in(app, tenant_a.staff_email)

    page = _text(staff.get(f"/calendar/week?week={DAY}"))

    ada_block = _block(page, with_ada)
    assert "with Ada · Chair 1" in ada_block  # staff first, then the room
    assert 'title="' in ada_block and "· with Ada · Chair 1 ·" in ada_block
    assert "calendar-booking-with" not in _block(page, nobody)


def test_staff_with_no_resources_get_no_who_filter(app, build, tenant_b, barbers):
    # Zed is Beta's only resource: one group, no heading; none at all for a provider
    # without resources.
    staff = signed_in(app, tenant_b.staff_email)
    beta = _text(staff.get(f"/calendar/week?week={DAY}"))
    provider = build.provider(name="Gamma Gym")
    gamma = signed_in(app, build.email_of(build.staff(provider)))
    bare = _text(gamma.get(f"/calendar/week?week={DAY}"))

    assert 'id="calendar-resource"' in beta and "<optgroup" not in beta
    assert 'id="calendar-resource"' not in bare


def test_admins_filter_by_who_once_they_choose_a_provider(app, tenant_a, tenant_b, barbers,
                                                          admin_email):
    with_ada = barbers["book"](barbers["cut"], _at(10), resource_id=barbers["Ada"])
    barbers["book"](barbers["cut"], _at(11), resource_id=barbers["Bob"])
    admin = signed_in(app, admin_email)

    everyone = _text(admin.get(f"/calendar/week?week={DAY}"))
    alpha = admin.get(f"/calendar/week?week={DAY}&provider_id={tenant_a.provider_id}"
                      f"&resource_id={barbers['Ada']}")

    assert 'id="calendar-resource"' not in everyone
    assert "filter by offering or by who does it" in everyone
    assert _shown(_text(alpha)) == [with_ada]
    assert "Zed" not in select_options(alpha, "calendar-resource")
    # Beta's barber on Alpha's calendar: not found.
    assert admin.get(f"/calendar/week?week={DAY}&provider_id={tenant_a.provider_id}"
                     f"&resource_id={barbers['zed']}").status_code == 404


def test_the_layout_filters_and_names_in_one_read(app_ctx, tenant_a, barbers):
    with_ada = barbers["book"](barbers["cut"], _at(10), resource_id=barbers["Ada"])
    barbers["book"](barbers["cut"], _at(10), resource_id=barbers["Bob"])

    view = booking_calendar.calendar_view(scope=barbers["scope"], first_day=DAY, days=1,
                                          resource_id=barbers["Ada"])

    [booking] = view.days[0].bookings
    assert (booking.reference, booking.resources) == (with_ada, ("Ada", "Chair 1"))
    assert view.resource_id == barbers["Ada"]
    choices = booking_calendar.calendar_resources(scope=barbers["scope"])
    assert [(c.name, c.kind) for c in choices] == [
        ("Ada", "staff"), ("Bob", "staff"), ("Chair 1", "room"), ("Chair 2", "room"),
        ("Clippers", "equipment")]
    assert booking_calendar.calendar_resources(scope=Scope.all_providers()) == []


# --- the booking page ----------------------------------------------------------------------

def test_the_booking_page_says_who_does_it(app, tenant_a, tenant_b, barbers):
    reference = barbers["book"](barbers["cut"], _at(10), resource_id=barbers["Bob"])
    booking_id = barbers["booked"][reference]
    staff = signed_in(app, tenant_a.staff_email)

    page = _text(staff.get(f"/bookingview/show/{booking_id}"))

    row = re.search(r'<th>With</th><td class="booking-with">(.*?)</td>', page, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    assert text == "Bob (Staff member) · Chair 1 (Room)"
    assert f"/calendar/day?day={DAY}&amp;resource_id={barbers['Bob']}" in \
        response_html(staff.get(f"/bookingview/show/{booking_id}"))
    other = signed_in(app, tenant_b.staff_email)
    assert other.get(f"/bookingview/show/{booking_id}").status_code == 404

    cancel_booking(reference, actor=Actor(None, "test"), scope=barbers["scope"])
    assert "booking-with" not in _text(staff.get(f"/bookingview/show/{booking_id}"))


def test_a_booking_without_resources_has_no_with_row(app, tenant_a, barbers):
    reference = barbers["book"](barbers["plain"], _at(12) + timedelta(days=1))
    booking_id = barbers["booked"][reference]
    staff = signed_in(app, tenant_a.staff_email)

    assert "<th>With</th>" not in _text(staff.get(f"/bookingview/show/{booking_id}"))


def response_html(response) -> str:
    return response.get_data(as_text=True)
