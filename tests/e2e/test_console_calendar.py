"""Staff open the calendar in the week the clocks go back, switch between week and day,
and move a booking to a free slot from the calendar."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from app.extensions import db
from app.models import Account, Booking
from app.services.bookings import place_booking
from tests.e2e.console import sign_in

BERLIN = ZoneInfo("Europe/Berlin")
# Europe's next clock change back after this test was written: Sunday 31 October 2027,
# 03:00 CEST -> 02:00 CET. Its week starts on Monday 25 October.
WEEK = date(2027, 10, 25)
SUNDAY = date(2027, 10, 31)


def _at(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN).replace(fold=fold).astimezone(
        timezone.utc)


def _customer(build, first: str, last: str) -> int:
    customer_id = build.customer()
    account = db.session.get(Account, customer_id)
    account.first_name, account.last_name = first, last
    db.session.commit()
    return customer_id


def _book(build, offering_id: int, starts_at: datetime, customer_id: int, *,
          minutes: int = 60) -> str:
    slot_id = build.slot(offering_id, starts_at, minutes=minutes, capacity=6)
    return place_booking(customer_id=customer_id, offering_id=offering_id, slot_id=slot_id,
                         quantity=1, now=starts_at - timedelta(days=30)).reference


def test_staff_use_the_calendar_in_the_week_the_clocks_go_back(page, build):
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    yoga = build.offering(provider, name="Vinyasa flow", price_minor=0, duration_minutes=60)
    night = build.offering(provider, name="Night sauna", price_minor=0, duration_minutes=60)
    monday = _book(build, yoga, _at(WEEK, 10), _customer(build, "Ada", "Lovelace"))
    overlapping = _book(build, yoga, _at(WEEK, 10, 30), _customer(build, "Grace", "Hopper"))
    before_change = _book(build, night, _at(SUNDAY, 1, 30), _customer(build, "Alan", "Turing"),
                          minutes=45)
    second_pass = _book(build, night, _at(SUNDAY, 2, 15, fold=1),
                        _customer(build, "Edsger", "Dijkstra"), minutes=30)
    sunday_class = _book(build, yoga, _at(SUNDAY, 10), _customer(build, "Barbara", "Liskov"))
    free_slot = build.slot(yoga, _at(SUNDAY, 11), capacity=6, booked=2)
    build.slot(yoga, _at(SUNDAY, 12), capacity=2, booked=2)  # full: never offered

    sign_in(page, staff_email)
    page.goto(f"/calendar/week?week={SUNDAY.isoformat()}")

    expect(page.get_by_role("heading", name="25–31 October 2027")).to_be_visible()
    expect(page.get_by_text("Clocks go back on Sun 31 Oct")).to_be_visible()
    expect(page.get_by_text("25-hour day")).to_have_count(2)  # the notice and the day's tag
    for reference in (monday, overlapping, before_change, second_pass, sunday_class):
        expect(page.locator(f'.calendar-booking[data-reference="{reference}"]')).to_be_visible()
    expect(page.locator(f'[data-reference="{before_change}"]')).to_contain_text(
        "01:30–02:15 CEST")
    expect(page.locator(f'[data-reference="{second_pass}"]')).to_contain_text(
        "02:15–02:45 CET")
    # Overlapping bookings sit side by side; the repeated hour is below the first 02:00.
    first = page.locator(f'[data-reference="{monday}"]').bounding_box()
    second = page.locator(f'[data-reference="{overlapping}"]').bounding_box()
    assert second["x"] >= first["x"] + first["width"] - 1
    early = page.locator(f'[data-reference="{before_change}"]').bounding_box()
    late = page.locator(f'[data-reference="{second_pass}"]').bounding_box()
    assert late["y"] > early["y"] + early["height"]
    page.screenshots.take("week-of-the-clock-change")

    page.get_by_role("link", name="Sun 31 Oct").click()
    expect(page).to_have_url(f"/calendar/day?day={SUNDAY.isoformat()}")
    expect(page.get_by_role("heading", name="Sunday 31 October 2027")).to_be_visible()
    expect(page.locator(f'[data-reference="{monday}"]')).to_have_count(0)
    expect(page.locator(f'[data-reference="{sunday_class}"]')).to_be_visible()
    page.screenshots.take("day-of-the-clock-change")

    page.get_by_role("link", name="Week", exact=True).click()
    expect(page.get_by_role("heading", name="25–31 October 2027")).to_be_visible()
    expect(page.locator(".calendar[data-ready]")).to_have_count(1)  # its script is bound
    page.get_by_role("link", name=f"Move {monday} to another slot").click()
    panel = page.locator("#calendar-popover")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name=f"Move {monday}")).to_be_visible()
    offered = panel.locator(f'button[data-slot="{free_slot}"]')
    expect(offered).to_contain_text("11:00–12:00 CET")
    expect(offered).to_contain_text("4 places left")
    expect(panel.get_by_text("12:00–13:00 CET")).to_have_count(0)
    page.screenshots.take("move-panel")

    offered.click()
    expect(page.get_by_text(f"{monday} moved to Sun 31 Oct 2027, 11:00 CET.")).to_be_visible()
    moved = page.locator(f'[data-reference="{monday}"]')
    expect(moved).to_contain_text("11:00–12:00 CET")
    expect(moved).to_have_attribute("data-starts", "2027-10-31T11:00:00+01:00")
    page.screenshots.take("moved")
    db.session.expire_all()
    assert db.session.query(Booking).filter_by(reference=monday).one().slot_id == free_slot


def test_staff_drag_a_booking_onto_a_free_slot(page, build):
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    staff_email = build.email_of(build.staff(provider))
    yoga = build.offering(provider, name="Vinyasa flow", price_minor=0, duration_minutes=60)
    tuesday = WEEK + timedelta(days=1)
    reference = _book(build, yoga, _at(tuesday, 9), _customer(build, "Ada", "Lovelace"))
    free_slot = build.slot(yoga, _at(tuesday, 14), capacity=6, booked=0)

    sign_in(page, staff_email)
    page.goto(f"/calendar/week?week={tuesday.isoformat()}")

    block = page.locator(f'.calendar-booking[data-reference="{reference}"]')
    box = block.bounding_box()
    # Chromium starts a drag after the pointer moves twice with the button down.
    block.locator(".calendar-booking-time").hover()
    page.mouse.down()
    page.mouse.move(box["x"] + 30, box["y"] + 40)
    page.mouse.move(box["x"] + 60, box["y"] + 120)
    zone = page.locator(f'.calendar-drop[data-slot="{free_slot}"]')
    expect(zone).to_be_visible()
    expect(zone).to_contain_text("14:00 CEST")
    page.screenshots.take("dragging")
    zone.hover()
    page.mouse.up()

    expect(page.get_by_text(f"{reference} moved to Tue 26 Oct 2027, 14:00 CEST.")).to_be_visible()
    expect(page.locator(f'[data-reference="{reference}"]')).to_contain_text("14:00–15:00 CEST")
    page.screenshots.take("dropped")
    db.session.expire_all()
    assert db.session.query(Booking).filter_by(reference=reference).one().slot_id == free_slot
