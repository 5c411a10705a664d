"""Every list and show page of the console reads like the business, for admins and staff.

One walk over all screens Flask-AppBuilder has registered (so it guards screens added
later too): no ``None``, ``True``/``False``, microseconds, ``+00:00``, "List Booking"
titles, "Record Count", reprs like ``<Account`` or role lists like ``[Admin]``.
"""
from __future__ import annotations

import html
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_appbuilder import ModelView
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditLog,
    ConsumedEvent,
    ConversionEvent,
    Notification,
    OutboxEvent,
    Payment,
    PaymentEvent,
    Refund,
)
from app.models.types import utcnow
from app.services import resources, waitlist
from app.services.bookings import place_booking
from app.services.scopes import Scope
from tests.views.console import signed_in

# Flask-AppBuilder's own security screens that are off the console's menu (views/menu.py).
OFF_MENU = {"/groups", "/permissions", "/viewmenus", "/permissionviews", "/registeruser",
            "/apikeys"}

UNREADABLE = {
    "None": re.compile(r"\bNone\b"),
    "a raw boolean": re.compile(r"\b(True|False)\b"),
    "microseconds": re.compile(r"\d\d:\d\d:\d\d\.\d+"),
    "an offset instead of a zone": re.compile(r"\+00:00"),
    "Record Count": re.compile(r"Record Count"),
    "a model repr": re.compile(r"<[A-Z][A-Za-z]+ "),
    "a role list": re.compile(r"\[(Admin|Provider|Customer)\]"),
    "a changed-row label": re.compile(r"Changed Row"),
}


def visible_text(page: str) -> str:
    """What a person reads: no scripts (the search form's JSON), no tags, no attributes."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


SCAFFOLD_TITLE = re.compile(r"^(List|Show|Add|Edit) [A-Z]")


def titles(page: str) -> list[str]:
    """The tab title and the panel headings."""
    found = re.findall(r"<title>(.*?)</title>", page, re.S)
    found += re.findall(r'class="panel-title"[^>]*>(.*?)</', page, re.S)
    return [" ".join(html.unescape(title).split()) for title in found]


def unreadable_parts(text: str) -> list[str]:
    found = []
    for what, pattern in UNREADABLE.items():
        for match in pattern.finditer(text):
            context = text[max(0, match.start() - 60):match.end() + 60]
            found.append(f"{what}: …{' '.join(context.split())}…")
    return found


def seed(build) -> dict:
    """One provider with a row on every screen, and one staff member."""
    provider = build.provider(name="Harbor Yoga Studio", timezone="Europe/Berlin")
    staff = build.staff(provider)
    customer = build.customer()
    location = build.location(provider, name="Main hall")
    category = build.category(provider, name="Classes")
    offering = build.offering(provider, name="Evening flow", price_minor=1800,
                              category_id=category, location_id=location, pay_at_venue=True)
    build.variant(offering, name="Drop-in")
    build.rule(offering, weekday=0)
    build.closed_day(provider, date.today() + timedelta(days=20))
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada", kind="staff")
    resources.set_offering_resources(offering, [ada.id], scope=scope)
    resources.add_time_off(ada.id, scope=scope, reason="Holiday",
                           starts_at=datetime(2031, 1, 15, 9, 0, 0, 123456, tzinfo=timezone.utc),
                           ends_at=datetime(2031, 1, 16, 9, tzinfo=timezone.utc))
    slot = build.future_slot(offering, days=2, capacity=8)
    booking = place_booking(customer_id=customer, offering_id=offering, slot_id=slot)
    full = build.future_slot(offering, days=3, capacity=1)
    place_booking(customer_id=build.customer(), offering_id=offering, slot_id=full)
    waitlist.join(customer_id=customer, slot_id=full)  # a line on the waiting lists
    payment = Payment(provider_id=provider, booking_id=booking.id, gateway="manual",
                      amount_minor=1800, received_minor=1800, currency="EUR",
                      status="succeeded", method="cash", succeeded_at=utcnow())
    db.session.add(payment)
    db.session.flush()
    db.session.add(Refund(provider_id=provider, payment_id=payment.id, amount_minor=500,
                          currency="EUR", status="succeeded", reason="late start"))
    db.session.add(PaymentEvent(event_id="evt_readable_1", type="charge.refunded",
                                payload={"id": "evt_readable_1", "livemode": False},
                                provider_id=provider, status="failed", attempts=2,
                                outcome="timeout"))
    event_id = str(uuid.uuid4())
    db.session.add(OutboxEvent(id=event_id, topic="booking.placed", provider_id=provider,
                               payload={"booking_id": booking.id, "flag": True}, status="done",
                               processed_at=datetime(2031, 1, 15, 9, 0, 0, 123456,
                                                     tzinfo=timezone.utc)))
    db.session.flush()
    db.session.add(ConsumedEvent(consumer="app.services.notifications.on_booking_placed",
                                 event_id=event_id))
    db.session.add(Notification(provider_id=provider, booking_id=booking.id,
                                customer_id=customer, dedupe_key=f"{event_id}:email",
                                template_key="booking_confirmed", channel="email",
                                recipient="jo@example.com", subject="Your booking",
                                body_text="See you", status="sent", sent_at=utcnow()))
    db.session.add(ConversionEvent(provider_id=provider, event_id=f"bw-{uuid.uuid4()}",
                                   event_name="CompletePayment", booking_id=booking.id,
                                   payload={"event": "CompletePayment"}, status="failed",
                                   http_status=500, response_message="server error"))
    db.session.commit()
    return {"provider": provider, "staff_email": build.email_of(staff)}


def list_urls(app) -> list[tuple[str, str]]:
    screens = []
    for view in app.appbuilder.baseviews:
        name = type(view).__name__
        if isinstance(view, ModelView) and view.route_base not in OFF_MENU:
            screens.append((name, f"{view.route_base}/list/"))
    return screens


def walk(client, app) -> dict[str, list[str]]:
    """Every list this client may open, and the show page of its first row."""
    problems, opened = {}, []
    for name, url in list_urls(app):
        response = client.get(url)
        if response.status_code != 200:
            continue  # not this role's screen
        pages = [(url, response.get_data(as_text=True))]
        show = re.search(r'href="(/[^"]+/show/[^"?]+)', pages[0][1])
        if show:
            shown = client.get(html.unescape(show.group(1)))
            assert shown.status_code == 200, show.group(1)
            pages.append((show.group(1), shown.get_data(as_text=True)))
        for page_url, page in pages:
            opened.append(page_url)
            found = unreadable_parts(visible_text(page)) + [
                f"a scaffold title: {title}" for title in titles(page)
                if SCAFFOLD_TITLE.search(title)]
            if found:
                problems[page_url] = found
    return {"problems": problems, "opened": opened}


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_every_list_and_show_page_reads_like_the_business(app, build, role):
    seeded = seed(build)
    email = build.email_of(build.admin()) if role == "admin" else seeded["staff_email"]
    # The audit trail must have something to show.
    assert db.session.scalar(select(AuditLog.id).limit(1)) is not None

    result = walk(signed_in(app, email), app)

    shows = [url for url in result["opened"] if "/show/" in url]
    assert len(result["opened"]) >= (30 if role == "admin" else 20), result["opened"]
    assert len(shows) >= (12 if role == "admin" else 8), shows
    assert any(url.startswith("/waitlistview/show/") for url in shows), shows
    assert not result["problems"], "\n".join(
        f"{url}\n  " + "\n  ".join(found) for url, found in result["problems"].items())


def test_statuses_are_labelled_badges_and_codes_are_words(app, build):
    seeded = seed(build)
    admin = signed_in(app, build.email_of(build.admin()))
    staff = signed_in(app, seeded["staff_email"])

    payments = staff.get("/paymentview/list/").get_data(as_text=True)
    refunds = staff.get("/refundview/list/").get_data(as_text=True)
    messages = visible_text(staff.get("/notificationview/list/").get_data(as_text=True))
    events_page = admin.get("/outboxeventview/list/").get_data(as_text=True)
    consumed = visible_text(admin.get("/consumedeventview/list/").get_data(as_text=True))

    badge = '<span class="label label-success status status-succeeded">Succeeded</span>'
    assert badge in payments and badge in refunds
    assert '<span class="label label-success status status-done">Done</span>' in events_page
    lines = staff.get("/waitlistview/list/").get_data(as_text=True)
    assert '<span class="label label-warning status status-waiting">Waiting</span>' in lines
    assert "Booking confirmed" in messages and "Email" in messages
    assert "booking_confirmed" not in messages
    assert "notifications: on booking placed" in consumed
    assert "app.services" not in consumed
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", consumed)  # no whole UUIDs
