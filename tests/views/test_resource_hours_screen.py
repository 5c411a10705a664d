"""A staff member's working hours in the console: set on the weekly-hours screen (no slot
length or places there), summed up in the resources list, refused whole when wrong, and
never reachable for another provider's people."""
from __future__ import annotations

from datetime import time

from sqlalchemy import select

from app.extensions import db
from app.models import Resource, ResourceHours
from app.services import resources
from app.services.scopes import Scope
from tests.views.console import page_text, signed_in

MON_FRI = ["0", "1", "2", "3", "4"]


def _form(rows) -> dict:
    data = {}
    for index, (days, start, end) in enumerate(rows):
        data[f"ranges-{index}-days"] = days
        data[f"ranges-{index}-start"] = start
        data[f"ranges-{index}-end"] = end
    return data


def _hours(resource_id) -> list[tuple]:
    db.session.expire_all()
    return [(r.weekday, r.start_time, r.end_time) for r in db.session.scalars(
        select(ResourceHours).where(ResourceHours.resource_id == resource_id)
        .order_by(ResourceHours.weekday, ResourceHours.start_time))]


def _anna(tenant) -> int:
    return resources.create_resource(scope=Scope.of_provider(tenant.provider_id),
                                     name="Anna").id


def test_staff_set_working_hours_and_the_list_sums_them_up(app, tenant_a):
    anna = _anna(tenant_a)
    staff = signed_in(app, tenant_a.staff_email)
    listing = page_text(staff.get("/resourceview/list/"))
    assert "No set hours" in listing

    screen = staff.get(f"/weeklyhours/resource/{anna}")
    assert screen.status_code == 200
    text = page_text(screen)
    assert "Working hours: Anna" in text and "Europe/Berlin" in text
    assert "Slot length" not in text and "Places per slot" not in text

    saved = staff.post(f"/weeklyhours/resource/{anna}", data=_form(
        [(MON_FRI, "09:00", "13:00"), (MON_FRI, "14:00", "18:00"), (["5", "6"], "10:00",
                                                                     "14:00")]))
    assert saved.status_code == 302
    assert len(_hours(anna)) == 12 and _hours(anna)[0] == (0, time(9), time(13))
    assert db.session.get(Resource, anna).keeps_hours
    listing = page_text(staff.get("/resourceview/list/"))
    assert ("Mon–Fri 09:00–13:00, 14:00–18:00 · Sat, Sun 10:00–14:00"
            in listing)
    assert "Hours of Anna saved" in listing  # the flash, on the next page
    shown = page_text(staff.get(f"/weeklyhours/resource/{anna}"))
    assert 'value="09:00"' in shown and 'value="14:00"' in shown

    cleared = staff.post(f"/weeklyhours/resource/{anna}", data=_form([]))
    assert cleared.status_code == 302 and _hours(anna) == []
    assert not db.session.get(Resource, anna).keeps_hours


def test_wrong_hours_are_refused_whole(app, tenant_a):
    anna = _anna(tenant_a)
    staff = signed_in(app, tenant_a.staff_email)
    staff.post(f"/weeklyhours/resource/{anna}", data=_form([(MON_FRI, "09:00", "17:00")]))
    for rows, message in (
            ([(["0"], "09:00", "13:00"), (["0"], "12:00", "15:00")], "overlaps"),
            ([(["0"], "18:00", "09:00")], "the end must be after the start"),
            ([([], "09:00", "13:00")], "tick at least one day")):
        refused = staff.post(f"/weeklyhours/resource/{anna}", data=_form(rows))
        assert refused.status_code == 200
        text = page_text(refused)
        assert "Nothing was saved" in text and message in text, text
    assert len(_hours(anna)) == 5


def test_another_providers_people_are_not_found(app, tenant_a, tenant_b):
    theirs = _anna(tenant_b)
    staff = signed_in(app, tenant_a.staff_email)
    assert staff.get(f"/weeklyhours/resource/{theirs}").status_code == 404
    assert staff.post(f"/weeklyhours/resource/{theirs}",
                      data=_form([(MON_FRI, "09:00", "17:00")])).status_code == 404
    assert _hours(theirs) == []
