"""The home dashboards: exact figures from seeded data, per tenant; check-ins; admin health."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

from app.extensions import db
from app.models import Booking, Location, Notification, OutboxEvent, Payment, PaymentEvent
from tests.dashboard_data import booking, hours_from_now, studio_week
from tests.builders import PASSWORD
from tests.views.console import console_client, csrf_token, page_text, signed_in


def _figure(text: str, kpi: str) -> str:
    """The text of one figure box on the page, whitespace collapsed."""
    match = re.search(rf'id="kpi-{kpi}">(.*?)</div></div>', text, re.S)
    assert match, f"no figure {kpi!r} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def _section(text: str, section_id: str) -> str:
    start = text.index(f'id="{section_id}"')
    return text[start:start + 6000]


def _rival(build):
    """Another provider with bookings of its own, in another currency, and problems."""
    provider_id = build.provider(name="Rival Barbers", timezone="UTC", currency="GBP")
    offering = build.offering(provider_id, name="Rival fade", price_minor=99_900,
                              currency="GBP")
    slot = build.slot(offering, hours_from_now(-30), capacity=3)
    booking_id, _ = booking(slot, status="no_show", quantity=3)
    build.staff(provider_id)
    db.session.add(Payment(provider_id=provider_id, booking_id=booking_id, gateway="manual",
                           amount_minor=99_900, currency="GBP", status="failed",
                           attention="Rival's flagged payment"))
    db.session.commit()
    return provider_id


def _problems(provider_id: int, booking_reference: str):
    """One flagged payment, one failed message and one address the map could not find."""
    booking_id = db.session.query(Booking.id).filter_by(reference=booking_reference).scalar()
    db.session.add_all([
        Payment(provider_id=provider_id, booking_id=booking_id, gateway="manual",
                amount_minor=5000, currency="EUR", status="succeeded",
                attention="Received 40.00 EUR, expected 50.00 EUR"),
        Notification(provider_id=provider_id, dedupe_key=f"test:{uuid.uuid4()}",
                     template_key="booking_confirmed", channel="email",
                     recipient="jo@example.com", status="failed", error="mailbox full"),
        Location(provider_id=provider_id, name="Back studio", address="Nowhere 1",
                 geocode_status="zero_results"),
    ])
    db.session.commit()


def test_staff_see_their_weeks_figures_exactly(app, build):
    week = studio_week()
    _rival(build)
    client = signed_in(app, week.staff_email)

    text = page_text(client.get("/"))

    assert _figure(text, "bookings").startswith("Bookings 5")
    assert _figure(text, "revenue") == ("Revenue 125.00 EUR 80.00 USD "
                                        "confirmed, completed and no-show")
    assert _figure(text, "occupancy") == "Occupancy 29 % 7 of 24 places"
    assert _figure(text, "no-show") == "No-show rate 33 % 1 of 3 checked in"
    assert "Rival" not in text and "GBP" not in text  # nothing of the other provider


def test_the_period_switcher_widens_the_figures_to_30_days(app, build):
    week = studio_week()
    _rival(build)
    client = signed_in(app, week.staff_email)

    text = page_text(client.get("/?days=30"))

    assert _figure(text, "bookings").startswith("Bookings 6")
    assert _figure(text, "revenue").startswith("Revenue 150.00 EUR 80.00 USD")
    assert _figure(text, "occupancy") == "Occupancy 28 % 8 of 29 places"
    assert _figure(text, "no-show") == "No-show rate 50 % 2 of 4 checked in"
    assert re.search(r'aria-current="page"\s+href="/\?days=30"', text)
    # An unknown period is the default week, not an error.
    assert _figure(page_text(client.get("/?days=abc")), "bookings").startswith("Bookings 5")


def test_the_day_lists_show_local_times_with_the_zone(app, build):
    week = studio_week()
    client = signed_in(app, week.staff_email)

    text = page_text(client.get("/"))

    timeline = _section(text, "timeline")
    assert week.done_today in timeline and week.later_today in timeline
    assert week.waiting in timeline  # tomorrow is on the timeline too
    local = hours_from_now(-3).astimezone(__import__("zoneinfo").ZoneInfo(week.zone))
    assert f'{local.strftime("%H:%M")}–' in timeline and local.strftime("%Z") in timeline
    assert f"times in {week.zone}" in text
    waiting = _section(text, "awaiting-confirmation")
    assert week.waiting in waiting and "pays at the venue" in waiting
    check_ins = _section(text, "check-ins")
    assert week.done_today in check_ins and week.later_today in check_ins
    assert week.waiting not in check_ins.split('id="awaiting-confirmation"')[0]
    # The ended booking can be completed; the later one not yet.
    assert f'aria-label="{week.done_today} completed"' in text
    assert f'aria-label="{week.later_today} completed"' not in text


def test_charts_are_accessible_svg_and_show_only_the_own_provider(app, build):
    week = studio_week()
    _rival(build)
    client = signed_in(app, week.staff_email)

    text = page_text(client.get("/"))

    assert text.count('role="img"') == 4  # bookings, revenue in EUR and in USD, occupancy
    assert '<title id="chart-bookings-title">Bookings per day</title>' in text
    assert '<title id="chart-revenue-eur-title">Revenue per day in EUR</title>' in text
    occupancy = re.search(r'<desc id="chart-occupancy-desc">(.*?)</desc>', text).group(1)
    assert "Morning flow: 36 % (5/14)" in occupancy
    assert "Private session: 20 % (2/10)" in occupancy
    assert "Rival" not in occupancy and "<script" not in _section(text, "chart-bookings-panel")


def test_needs_attention_counts_link_to_the_filtered_lists(app, build):
    week = studio_week()
    rival = _rival(build)
    _problems(week.provider_id, week.done_today)
    _problems(rival, week.completed)  # (a booking id only: the rows are the rival's)
    client = signed_in(app, week.staff_email)

    attention = _section(page_text(client.get("/")), "needs-attention")

    links = dict(re.findall(r'href="([^"]+)" data-key="([a-z_]+)">\s*<span class="badge">1',
                            attention))
    assert set(links.values()) == {"flagged_payments", "failed_messages",
                                   "geocoding_zero_results"}
    for link, key in links.items():
        listed = page_text(client.get(link.replace("&amp;", "&")))
        marker = {"flagged_payments": "Received 40.00 EUR",
                  "failed_messages": "jo@example.com",
                  "geocoding_zero_results": "Back studio"}[key]
        assert marker in listed, key
        assert "Rival" not in listed


def test_nothing_to_look_at_says_so(app, build):
    week = studio_week()
    client = signed_in(app, week.staff_email)
    assert "Nothing needs attention." in page_text(client.get("/"))


def test_check_in_marks_completed_and_no_show(app, build):
    week = studio_week()
    client = signed_in(app, week.staff_email)

    response = client.post("/dashboard/check-in", data={
        "reference": week.done_today, "outcome": "completed", "days": "30"})

    assert response.status_code == 302 and response.location.endswith("/?days=30")
    db.session.expire_all()
    assert db.session.query(Booking.status).filter_by(
        reference=week.done_today).scalar() == "completed"
    assert f"{week.done_today}: completed." in page_text(client.get("/"))


def test_check_in_of_a_future_booking_is_refused_and_flashed(app, build):
    week = studio_week()
    client = signed_in(app, week.staff_email)

    for outcome in ("completed", "no_show"):
        client.post("/dashboard/check-in", data={"reference": week.later_today,
                                                 "outcome": outcome})
        text = page_text(client.get("/"))
        assert f"{week.later_today}: " in text and "once it has" in text

    db.session.expire_all()
    assert db.session.query(Booking.status).filter_by(
        reference=week.later_today).scalar() == "confirmed"


def test_check_in_of_another_providers_booking_changes_nothing(app, build):
    week = studio_week()
    rival = studio_week(name="Rival Pilates")
    client = signed_in(app, week.staff_email)

    client.post("/dashboard/check-in", data={"reference": rival.done_today,
                                             "outcome": "completed"})

    db.session.expire_all()
    assert db.session.query(Booking.status).filter_by(
        reference=rival.done_today).scalar() == "confirmed"
    assert "Rival Pilates" not in page_text(client.get("/"))


def test_check_in_needs_the_csrf_token(csrf_app, build):
    week = studio_week()
    client = console_client(csrf_app)
    client.post("/login/", data={"username": week.staff_email, "password": PASSWORD,
                                 "csrf_token": csrf_token(client.get("/login/"))})
    data = {"reference": week.done_today, "outcome": "completed"}

    assert client.post("/dashboard/check-in", data=data).status_code == 400
    token = csrf_token(client.get("/"))
    assert client.post("/dashboard/check-in",
                       data={**data, "csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.query(Booking.status).filter_by(
        reference=week.done_today).scalar() == "completed"


def test_a_bad_check_in_is_a_message_not_an_error(app, build):
    week = studio_week()
    client = signed_in(app, week.staff_email)

    response = client.post("/dashboard/check-in", data={"reference": week.done_today,
                                                        "outcome": "teleported"})

    assert response.status_code == 302
    assert "Choose a booking and whether the customer came." in page_text(client.get("/"))


def test_admin_sees_every_provider_and_the_platforms_health(app, build, admin_email):
    studio_week()
    _rival(build)
    db.session.add_all([
        OutboxEvent(id=str(uuid.uuid4()), topic="booking.created", payload={},
                    status="failed", last_error="boom"),
        OutboxEvent(id=str(uuid.uuid4()), topic="booking.created", payload={},
                    status="queued", created_at=hours_from_now(-2)),
        PaymentEvent(event_id="evt_waiting", type="payment_intent.succeeded", payload={},
                     status="received"),
    ])
    db.session.commit()
    client = signed_in(app, admin_email)

    text = page_text(client.get("/"))

    assert "Platform dashboard" in text
    # Both providers' bookings; each currency on its own, never added up. The admin's days
    # are UTC days: after 22:00 UTC the studio's booking two hours ahead is tomorrow's.
    later_is_today = hours_from_now(2).date() == datetime.now(timezone.utc).date()
    assert _figure(text, "bookings").startswith(f"Bookings {6 if later_is_today else 5}")
    assert _figure(text, "revenue").startswith(
        f"Revenue 2997.00 GBP {'125.00' if later_is_today else '100.00'} EUR 80.00 USD")
    breakdown = _section(text, "provider-breakdown")
    assert "Lotus Yoga Studio" in breakdown and "Rival Barbers" in breakdown
    # Among a platform's many offerings, occupancy is charted per provider.
    occupancy = _section(text, "chart-occupancy-panel")
    assert "Occupancy of the busiest providers" in occupancy
    assert "Lotus Yoga Studio" in occupancy and "Rival Barbers" in occupancy
    assert "100 %" in breakdown  # the rival's no-show rate
    health = _section(text, "platform-health")
    assert re.search(r'data-key="failed_events">\s*<span class="pull-right health-bad">1<',
                     health)
    assert re.search(r'data-key="outbox_lag">\s*<span class="pull-right health-bad">2 h<',
                     health)
    assert re.search(r'data-key="webhook_backlog">\s*<span class="pull-right ">1<', health)
    assert "Failed jobs" in health
    failed_events = re.search(r'href="([^"]+)" data-key="failed_events"', health).group(1)
    assert "boom" in page_text(client.get(failed_events.replace("&amp;", "&")))


def test_staff_never_see_the_platforms_health_or_other_providers(app, build):
    week = studio_week()
    _rival(build)
    text = page_text(signed_in(app, week.staff_email).get("/"))
    assert 'id="platform-health"' not in text and 'id="provider-breakdown"' not in text


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login/" in response.location
