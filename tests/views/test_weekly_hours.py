"""The weekly-hours editor and time off: several days and ranges saved at once, refused
as a whole, slots regenerated with the change; time off removes (or retires) slots."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AvailabilityRule, Slot, TimeOff
from tests.views.console import page_text, signed_in

BERLIN = ZoneInfo("Europe/Berlin")
MON_FRI = ["0", "1", "2", "3", "4"]


def _next(weekday: int) -> date:
    """The date of the next such weekday at least two days ahead (clear of 'now')."""
    day = date.today() + timedelta(days=2)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(timezone.utc)


def _form(rows, slot_minutes="60", capacity="3") -> dict:
    data = {"slot_minutes": slot_minutes, "capacity": capacity}
    for index, (days, start, end) in enumerate(rows):
        data[f"ranges-{index}-days"] = days
        data[f"ranges-{index}-start"] = start
        data[f"ranges-{index}-end"] = end
    return data


WEEK = [(MON_FRI, "09:00", "12:00"), (MON_FRI, "13:00", "18:00"), (["5"], "10:00", "14:00")]


def _rules(offering_id: int) -> list[tuple]:
    db.session.expire_all()
    return sorted((r.weekday, f"{r.start_time:%H:%M}", f"{r.end_time:%H:%M}", r.slot_minutes,
                   r.capacity) for r in db.session.scalars(select(AvailabilityRule).where(
                       AvailabilityRule.offering_id == offering_id)))


def _slots(offering_id: int, day: date) -> dict[str, tuple]:
    """The day's slots as local "HH:MM" → (capacity, retired)."""
    db.session.expire_all()
    start, end = _utc(day, 0), _utc(day + timedelta(days=1), 0)
    return {f"{s.starts_at.astimezone(BERLIN):%H:%M}": (s.capacity, s.retired_at is not None)
            for s in db.session.scalars(select(Slot).where(
                Slot.offering_id == offering_id, Slot.starts_at >= start,
                Slot.starts_at < end).order_by(Slot.starts_at))}


@pytest.fixture
def yoga(build, tenant_a):
    return build.offering(tenant_a.provider_id, name="Yoga", duration_minutes=60)


def test_staff_set_a_week_of_hours_at_once_and_slots_follow(app, tenant_a, yoga):
    staff = signed_in(app, tenant_a.staff_email)

    saved = staff.post(f"/weeklyhours/offering/{yoga}", data=_form(WEEK))

    assert saved.status_code == 302, page_text(saved)[-3000:]
    rules = _rules(yoga)
    assert len(rules) == 11
    assert (0, "09:00", "12:00", 60, 3) in rules and (5, "10:00", "14:00", 60, 3) in rules
    monday = _slots(yoga, _next(0))
    assert list(monday) == ["09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00",
                            "17:00"]
    assert set(monday.values()) == {(3, False)}
    assert list(_slots(yoga, _next(5))) == ["10:00", "11:00", "12:00", "13:00"]
    assert _slots(yoga, _next(6)) == {}

    page = page_text(staff.get(saved.headers["Location"]))
    assert "Opening hours saved" in page
    assert "Times in Europe/Berlin" in page
    # Shown back as rows of days: Mon–Fri 09:00–12:00 is one row with five days ticked.
    first_row = re.search(r'<tr class="weekly-hours-row">(.*?)</tr>', page, re.S).group(1)
    assert len(re.findall(r'type="checkbox"[^>]*checked|checked[^>]*type="checkbox"',
                          first_row)) == 5
    assert 'value="09:00"' in first_row and 'value="12:00"' in first_row


def test_saving_again_replaces_the_hours_and_retires_booked_slots(app, tenant_a, yoga):
    staff = signed_in(app, tenant_a.staff_email)
    staff.post(f"/weeklyhours/offering/{yoga}", data=_form(WEEK))
    monday = _next(0)
    booked = db.session.scalar(select(Slot).where(Slot.offering_id == yoga,
                                                  Slot.starts_at == _utc(monday, 9)))
    booked.booked = 1
    db.session.commit()

    saved = staff.post(f"/weeklyhours/offering/{yoga}",
                       data=_form([(["0"], "14:00", "16:00")], capacity="2"))

    assert saved.status_code == 302
    assert _rules(yoga) == [(0, "14:00", "16:00", 60, 2)]
    # The booked 09:00 slot is kept for its booking but no longer offered; the rest go.
    assert _slots(yoga, monday) == {"09:00": (3, True), "14:00": (2, False),
                                    "15:00": (2, False)}


@pytest.mark.parametrize("rows, message", [
    ([(["0"], "09:00", "12:00"), (["0", "1"], "11:00", "13:00")],
     "Monday 11:00–13:00 overlaps Monday 09:00–12:00."),
    ([(["2"], "18:00", "09:00")], "Wednesday 18:00–09:00: the end must be after the start."),
    ([(["2"], "09:00", "")], "Row 1: tick at least one day and give both times."),
])
def test_wrong_ranges_are_refused_and_nothing_changes(app, tenant_a, yoga, rows, message):
    staff = signed_in(app, tenant_a.staff_email)
    staff.post(f"/weeklyhours/offering/{yoga}", data=_form(WEEK))
    rules_before, slots_before = _rules(yoga), _slots(yoga, _next(0))

    refused = staff.post(f"/weeklyhours/offering/{yoga}", data=_form(rows))

    assert refused.status_code == 200
    text = page_text(refused)
    assert "Nothing was saved." in text and message in text
    assert _rules(yoga) == rules_before
    assert _slots(yoga, _next(0)) == slots_before


def test_a_slot_length_of_zero_is_a_field_error(app, tenant_a, yoga):
    staff = signed_in(app, tenant_a.staff_email)
    refused = staff.post(f"/weeklyhours/offering/{yoga}", data=_form(WEEK, slot_minutes="0"))
    assert refused.status_code == 200
    assert "Nothing was saved." in page_text(refused)
    assert _rules(yoga) == []


def test_staff_cannot_see_or_change_another_providers_hours(app, build, tenant_a, tenant_b):
    theirs = build.offering(tenant_b.provider_id, name="Beard trim")
    build.rule(theirs, weekday=1)
    before = _rules(theirs)
    staff = signed_in(app, tenant_a.staff_email)

    assert staff.get(f"/weeklyhours/offering/{theirs}").status_code == 404
    assert staff.post(f"/weeklyhours/offering/{theirs}", data=_form(WEEK)).status_code == 404
    assert staff.get("/weeklyhours/offering/999999").status_code == 404
    assert _rules(theirs) == before


def test_admins_edit_any_providers_hours(app, build, tenant_b, admin_email):
    theirs = build.offering(tenant_b.provider_id, name="Beard trim")
    admin = signed_in(app, admin_email)
    assert admin.post(f"/weeklyhours/offering/{theirs}",
                      data=_form([(["1"], "10:00", "11:00")])).status_code == 302
    assert _rules(theirs) == [(1, "10:00", "11:00", 60, 3)]


def test_products_have_no_hours(app, build, tenant_a):
    product = build.offering(tenant_a.provider_id, kind="product", name="Mat")
    staff = signed_in(app, tenant_a.staff_email)
    response = staff.get(f"/weeklyhours/offering/{product}", follow_redirects=True)
    assert "Only services have slots." in page_text(response)


def test_the_offerings_list_links_to_the_editor(app, tenant_a, yoga):
    staff = signed_in(app, tenant_a.staff_email)
    listing = page_text(staff.get("/offeringview/list/"))
    assert f'href="/weeklyhours/offering/{yoga}"' in listing
    action = staff.post(f"/offeringview/action/opening_hours/{yoga}")
    assert action.headers["Location"].endswith(f"/weeklyhours/offering/{yoga}")


# --- time off ----------------------------------------------------------------------------

def test_time_off_removes_free_slots_and_retires_booked_ones(app, tenant_a, yoga):
    staff = signed_in(app, tenant_a.staff_email)
    staff.post(f"/weeklyhours/offering/{yoga}", data=_form(WEEK))
    monday = _next(0)
    booked = db.session.scalar(select(Slot).where(Slot.offering_id == yoga,
                                                  Slot.starts_at == _utc(monday, 10)))
    booked.booked = 1
    db.session.commit()

    added = staff.post("/timeoffview/add", data={
        "starts_at": f"{monday}T09:30", "ends_at": f"{monday}T13:30", "reason": "Training"})

    assert added.status_code == 302, page_text(added)[-2000:]
    period = db.session.scalar(select(TimeOff))
    assert (period.starts_at, period.ends_at) == (_utc(monday, 9, 30), _utc(monday, 13, 30))
    assert period.provider_id == tenant_a.provider_id and period.offering_id is None
    # 09:00–10:00 and 13:00–14:00 touch the time off too; the booked 10:00 is retired.
    assert _slots(yoga, monday) == {"10:00": (3, True), "14:00": (3, False),
                                    "15:00": (3, False), "16:00": (3, False),
                                    "17:00": (3, False)}
    edit = page_text(staff.get(f"/timeoffview/edit/{period.id}"))
    assert f'value="{monday}T09:30"' in edit  # shown back on the provider's wall clock

    assert staff.post(f"/timeoffview/delete/{period.id}").status_code == 302
    assert _slots(yoga, monday)["09:00"] == (3, False)  # back when the time off is gone
    assert _slots(yoga, monday)["10:00"] == (3, False)


def test_time_off_of_one_offering_leaves_the_others_alone(app, build, tenant_a, yoga):
    pilates = build.offering(tenant_a.provider_id, name="Pilates", duration_minutes=60)
    staff = signed_in(app, tenant_a.staff_email)
    for offering in (yoga, pilates):
        staff.post(f"/weeklyhours/offering/{offering}", data=_form(WEEK))
    monday = _next(0)

    staff.post("/timeoffview/add", data={"offering": str(yoga), "starts_at": f"{monday}T00:00",
                                         "ends_at": f"{monday}T23:59", "reason": ""})

    assert _slots(yoga, monday) == {}
    assert len(_slots(pilates, monday)) == 8


def test_time_off_that_ends_before_it_starts_or_in_a_dst_gap_is_refused(app, tenant_a, yoga):
    staff = signed_in(app, tenant_a.staff_email)
    backwards = staff.post("/timeoffview/add", data={
        "starts_at": "2031-05-05T12:00", "ends_at": "2031-05-05T09:00", "reason": ""},
        follow_redirects=True)
    assert "The time off has invalid values." in page_text(backwards)
    gap = staff.post("/timeoffview/add", data={
        "starts_at": "2031-03-30T02:30", "ends_at": "2031-03-30T05:00", "reason": ""})
    assert "does not exist in Europe/Berlin" in page_text(gap)
    assert db.session.scalar(select(TimeOff.id)) is None


def test_staff_cannot_put_time_off_on_another_providers_offering(app, build, tenant_a,
                                                                  tenant_b):
    theirs = build.offering(tenant_b.provider_id, name="Beard trim")
    staff = signed_in(app, tenant_a.staff_email)
    staff.post("/timeoffview/add", data={"offering": str(theirs),
                                         "starts_at": "2031-05-05T09:00",
                                         "ends_at": "2031-05-05T12:00", "reason": ""})
    assert db.session.scalar(select(TimeOff.id)) is None
