"""The waiting lists screen: staff read their own provider's lines (never another's, by
list, page or guessed id), admins every provider's; statuses and places in line in
words, times on the provider's clock; read-only; customers have no way in. The slots
list leads to a time's line."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import Account, Booking, WaitlistEntry
from app.services import bookings, waitlist
from app.services.roles import CUSTOMER
from app.services.scopes import Actor, Scope
from tests.notifications.conftest import run_jobs
from tests.views.console import console_client, page_text, signed_in
from tests.views.test_readable_values import unreadable_parts, visible_text

LIST = "/waitlistview/list/"
# 2031-01-15 09:00 UTC is 10:00 in Berlin (CET) and 04:00 in New York (EST).
NINE_UTC = datetime(2031, 1, 15, 9, 0, tzinfo=timezone.utc)


def _named(build, first: str, last: str) -> int:
    account_id = build.customer(email=f"{first.lower()}@example.com")
    account = db.session.get(Account, account_id)
    account.first_name, account.last_name = first, last
    db.session.commit()
    return account_id


def _full_time(app, build, provider_id: int, offering_name: str, people: list[tuple],
               *, starts_at=NINE_UTC) -> dict:
    """A time with 2 places, booked out; ``people`` (first name, last name, places) join
    its line in that order; then the 2 places free up and go to the first that fits."""
    # Bookable that far ahead: the times are in 2031, so that they read the same always.
    offering = build.offering(provider_id, name=offering_name, price_minor=2500,
                              currency="EUR", booking_horizon_days=3650)
    slot = build.slot(offering, starts_at, capacity=2)
    holder = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                    slot_id=slot, quantity=2)
    entries = [waitlist.join(customer_id=_named(build, first, last), slot_id=slot,
                             quantity=places, now=datetime(2031, 1, 1, tzinfo=timezone.utc)
                             ).entry.id
               for first, last, places in people]
    return {"offering": offering, "slot": slot, "entries": entries,
            "holder": holder.reference}


def _free_the_places(app, reference: str) -> None:
    bookings.cancel_booking(reference, actor=Actor(None, "test"),
                            scope=Scope.all_providers())
    run_jobs(app)


@pytest.fixture
def lines(app, build, tenant_a, tenant_b):
    """Alpha Spa (Berlin): Ada holds an offer of 2 places, Grace and Alan wait (1st and
    2nd). Beta Barbers: one waiting entry of its own."""
    alpha = _full_time(app, build, tenant_a.provider_id, "Evening flow",
                       [("Ada", "Lovelace", 2), ("Grace", "Hopper", 1), ("Alan", "Turing", 1)])
    _free_the_places(app, alpha["holder"])
    beta = _full_time(app, build, tenant_b.provider_id, "Skin fade",
                      [("Barbara", "Liskov", 1)])
    db.session.expire_all()
    ada, grace, alan = (db.session.get(WaitlistEntry, i) for i in alpha["entries"])
    assert (ada.status, grace.status, alan.status) == ("offered", "waiting", "waiting")
    return {"alpha": alpha, "beta": beta, "ada": ada, "grace": grace, "alan": alan,
            "offer": db.session.get(Booking, ada.booking_id)}


def _rows(page: str) -> list[str]:
    """The list's rows as text, one string per row."""
    if "console-list" not in page:
        return []
    body = page.split("console-list", 1)[1].split("</table>", 1)[0]
    body = body.split("</thead>", 1)[1]
    return [" ".join(visible_text(row).split())
            for row in re.findall(r"<tr\b.*?</tr>", body, re.S)]


def test_staff_see_their_providers_line_in_words(app, tenant_a, lines):
    staff = signed_in(app, tenant_a.staff_email)
    response = staff.get(LIST)
    assert response.status_code == 200
    page = page_text(response)
    rows = _rows(page)
    assert len(rows) == 3 and "3 waiting list entries" in page
    # One time, its line in order: the offer first, then the waiting in their places.
    assert ("2031-01-15 10:00 CET Evening flow Ada Lovelace ada@example.com 2 "
            "Offered a place") in rows[0]
    assert "Grace Hopper grace@example.com 1 Waiting 1" in rows[1]
    assert "Alan Turing alan@example.com 1 Waiting 2" in rows[2]
    # The offer: held until when (the provider's clock), and its booking linked.
    held = lines["offer"].hold_expires_at.astimezone(
        ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M %Z")
    assert held in rows[0]
    offer = lines["offer"]
    assert f'<a href="/bookingview/show/{offer.id}">{offer.reference}</a>' in page
    # Nothing of Beta Barbers; no provider column (staff have one provider); no raw codes.
    assert "Skin fade" not in page and "barbara@example.com" not in page
    assert "Beta Barbers" not in page and ">Provider<" not in page
    text = visible_text(page)
    assert not re.search(r"\b(offered|waiting)\b", text.replace("Waiting lists", "")
                         .replace("waiting list entries", "")), text
    assert unreadable_parts(text) == []
    # Read-only: no add button, edit or delete links.
    assert "/waitlistview/add" not in page and "/waitlistview/edit/" not in page
    assert "/waitlistview/delete/" not in page


def test_staff_open_their_entry_and_never_another_providers(app, tenant_a, lines):
    staff = signed_in(app, tenant_a.staff_email)
    own = staff.get(f"/waitlistview/show/{lines['ada'].id}")
    assert own.status_code == 200
    page = visible_text(page_text(own))
    for shown in ("Waiting list entry", "Evening flow", "Ada Lovelace", "Offered a place",
                  "Joined (local time)", "2031-01-01 01:00 CET", "Offer held until",
                  lines["offer"].reference):
        assert shown in page, shown
    assert unreadable_parts(page) == []
    assert ">Provider</th>" not in page_text(own)  # staff have the one
    # A waiting entry's page has no empty lines for an offer or an end it has not had.
    grace = page_text(staff.get(f"/waitlistview/show/{lines['grace'].id}"))
    labels = [" ".join(label.split()) for label in re.findall(r"<th[^>]*>(.*?)</th>", grace,
                                                              re.S)]
    assert labels == ["Starts (local time)", "Offering", "Customer", "Places", "Status",
                      "Place in line", "Joined (local time)"]
    barbara = lines["beta"]["entries"][0]
    assert staff.get(f"/waitlistview/show/{barbara}").status_code == 404
    assert staff.get("/waitlistview/show/99999999").status_code == 404
    assert staff.get("/waitlistview/show/99999999999999999999").status_code == 404
    # Filtering by another provider's offering or time shows nothing of it either.
    other = staff.get(f"{LIST}?_flt_0_offering={lines['beta']['offering']}")
    assert "Barbara" not in page_text(other) and "Skin fade" not in page_text(other)


def test_nobody_adds_edits_or_deletes_entries_by_hand(app, tenant_a, admin_email, lines):
    entry = lines["grace"].id
    for email in (tenant_a.staff_email, admin_email):
        client = signed_in(app, email)
        for method, url in (("get", "/waitlistview/add"), ("post", "/waitlistview/add"),
                            ("get", f"/waitlistview/edit/{entry}"),
                            ("post", f"/waitlistview/edit/{entry}"),
                            ("post", f"/waitlistview/delete/{entry}"),
                            ("get", f"/waitlistview/delete/{entry}")):
            answer = getattr(client, method)(url, data={"quantity": "9"})
            assert answer.status_code in (302, 403, 404, 405), (email, method, url)
    db.session.expire_all()
    grace = db.session.get(WaitlistEntry, entry)
    assert (grace.quantity, grace.status) == (1, "waiting")


def test_admins_see_every_providers_lines_with_the_provider(app, admin_email, tenant_b,
                                                            lines):
    admin = signed_in(app, admin_email)
    page = page_text(admin.get(LIST))
    rows = _rows(page)
    assert len(rows) == 4
    assert any("Skin fade" in row and "Barbara Liskov" in row and "Beta Barbers" in row
               for row in rows)
    assert any("Evening flow" in row and "Alpha Spa" in row for row in rows)
    assert ">Provider<" in page  # the column's header
    barbara = lines["beta"]["entries"][0]
    assert admin.get(f"/waitlistview/show/{barbara}").status_code == 200
    only_beta = page_text(admin.get(f"{LIST}?_flt_0_provider={tenant_b.provider_id}"))
    assert len(_rows(only_beta)) == 1 and "Barbara Liskov" in only_beta


def test_filters_by_status_offering_and_time(app, tenant_a, lines):
    staff = signed_in(app, tenant_a.staff_email)
    waiting = page_text(staff.get(f"{LIST}?_flt_0_status=waiting"))
    assert [" ".join(row.split(" Evening flow ")[1].split()[:2]) for row in _rows(waiting)
            ] == ["Grace Hopper", "Alan Turing"]
    # The status filter offers the statuses in words.
    options = re.findall(r'<option value="(\w+)">([^<]+)</option>', waiting)
    assert ("offered", "Offered a place") in options and ("left", "Left the list") in options
    # Times typed on the provider's clock: 10:00 in Berlin is the time; 09:00 is not.
    at_ten = page_text(staff.get(f"{LIST}?_flt_2_slot=2031-01-15+10:00"))
    assert len(_rows(at_ten)) == 3
    assert "At (Europe/Berlin)" in at_ten
    assert "No waiting list entries" in page_text(
        staff.get(f"{LIST}?_flt_2_slot=2031-01-15+09:00"))
    assert len(_rows(page_text(staff.get(f"{LIST}?_flt_0_slot=2031-01-16")))) == 0
    assert len(_rows(page_text(staff.get(f"{LIST}?_flt_1_slot=2031-01-16")))) == 3
    by_email = page_text(staff.get(f"{LIST}?_flt_0_customer=grace"))
    assert len(_rows(by_email)) == 1


def test_the_slots_list_leads_to_a_times_line(app, build, tenant_a, lines):
    # Another time of the same offering without a line: no link there.
    build.slot(lines["alpha"]["offering"], datetime(2031, 1, 16, 9, 0, tzinfo=timezone.utc),
               capacity=2)
    staff = signed_in(app, tenant_a.staff_email)
    slots = page_text(staff.get("/slotview/list/"))
    links = re.findall(r'<a class="waitlist-link" href="([^"]+)">.*?</i> ([^<]+)</a>', slots)
    assert [label for _href, label in links] == ["2 waiting, 1 offered"]
    assert "Waiting list" in slots  # the column's label
    line = page_text(staff.get(html.unescape(links[0][0])))
    assert len(_rows(line)) == 3 and "Skin fade" not in line
    # The link's filter is the time on the provider's clock, as a person would type it.
    assert "2031-01-15 10:00" in html.unescape(links[0][0]).replace("+", " ")
    # The slot's own page says it too.
    shown = page_text(staff.get(f"/slotview/show/{lines['alpha']['slot']}"))
    assert "2 waiting, 1 offered" in shown


def test_the_booking_page_says_an_offer_and_leads_to_its_times_line(app, build, tenant_a,
                                                                   lines):
    staff = signed_in(app, tenant_a.staff_email)
    offer = visible_text(page_text(staff.get(f"/bookingview/show/{lines['offer'].id}")))
    assert "Offered from the waiting list" in offer and "Waiting list" in offer
    assert "2 waiting, 1 offered for this time" in offer
    # A booking of a time nobody waits for says nothing of waiting lists.
    offering = build.offering(tenant_a.provider_id, name="Quiet hour", price_minor=0)
    quiet = bookings.place_booking(customer_id=build.customer(), offering_id=offering,
                                   slot_id=build.future_slot(offering, capacity=3))
    page = page_text(staff.get(f"/bookingview/show/{quiet.id}"))
    assert "Quiet hour" in page and "<th>Waiting list</th>" not in page


def test_an_ambiguous_wall_clock_time_links_with_its_offset(app, build, tenant_a):
    # 2031-10-26 01:30 UTC is the second 02:30 in Berlin (the clocks went back at 03:00).
    second = datetime(2031, 10, 26, 1, 30, tzinfo=timezone.utc)
    late = _full_time(app, build, tenant_a.provider_id, "Night owls", [("Ada", "Lovelace", 1)],
                      starts_at=second)
    first = build.slot(late["offering"], datetime(2031, 10, 26, 0, 30, tzinfo=timezone.utc),
                       capacity=2)
    assert first
    staff = signed_in(app, tenant_a.staff_email)
    slots = page_text(staff.get("/slotview/list/"))
    (href,) = re.findall(r'<a class="waitlist-link" href="([^"]+)"', slots)
    assert "02:30%2B01:00" in href or "02:30+01:00" in html.unescape(href)
    assert "Ada Lovelace" in page_text(staff.get(html.unescape(href)))


def test_customers_have_no_way_in(app, build, lines):
    customer_id = lines["ada"].customer_id
    client = console_client(app)
    client.post("/login/", data={"username": "ada@example.com",
                                 "password": "correct-horse-battery"})
    # Even with a console session of their own (a stale or forged cookie), nothing.
    with client.session_transaction() as session:
        session["_user_id"] = str(customer_id)
        session["_fresh"] = True
    for url in (LIST, f"/waitlistview/show/{lines['ada'].id}"):
        answer = client.get(url)
        assert answer.status_code in (302, 401, 403), (url, answer.status_code)
        assert "Lovelace" not in answer.get_data(as_text=True)
    role = app.appbuilder.sm.find_role(CUSTOMER)
    assert not [pv for pv in role.permissions if pv.view_menu.name == "WaitlistView"]
