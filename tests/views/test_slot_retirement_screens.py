"""The rule and closed-day screens retire slots with booking history like the API does:
no 500, and the change and its slots commit together."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AvailabilityRule, ClosedDay, Slot
from tests.views.console import signed_in


@pytest.fixture
def studio(app, build):
    provider = build.provider(timezone="UTC")
    ids = build.service_with_past_bookings(slot_days=app.config["SLOT_DAYS_AHEAD"],
                                           provider_id=provider)
    ids["console"] = signed_in(app, build.email_of(build.staff(provider)))
    return ids


def _retired(*slot_ids) -> list[bool]:
    db.session.expire_all()
    return [db.session.get(Slot, slot_id).retired_at is not None for slot_id in slot_ids]


def _rule_form(studio, **changes) -> dict:
    form = {"provider": str(studio["provider"]), "offering": str(studio["offering"]),
            "weekday": str(studio["day"].weekday()), "start_time": "09:00",
            "end_time": "11:00", "slot_minutes": "60", "capacity": "2",
            "valid_from": "2020-01-01", "valid_to": ""}
    form.update(changes)
    return form


def test_editing_a_rule_in_the_console_retires_its_old_slots(studio):
    response = studio["console"].post(f"/availabilityruleview/edit/{studio['rule']}",
                                      data=_rule_form(studio, start_time="13:00",
                                                      end_time="15:00"))

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert _retired(studio["nine"], studio["ten"]) == [True, True]
    assert db.session.get(AvailabilityRule, studio["rule"]).start_time.hour == 13


def test_deleting_a_rule_in_the_console_retires_its_slots(studio):
    response = studio["console"].post(f"/availabilityruleview/delete/{studio['rule']}")

    assert response.status_code == 302
    assert _retired(studio["nine"], studio["ten"]) == [True, True]
    assert db.session.get(AvailabilityRule, studio["rule"]) is None


def test_closing_and_reopening_a_day_in_the_console(studio):
    added = studio["console"].post("/closeddayview/add", data={
        "provider": str(studio["provider"]), "day": studio["day"].isoformat(),
        "reason": "Staff training"})

    assert added.status_code == 302, added.get_data(as_text=True)[:500]
    assert _retired(studio["nine"], studio["ten"]) == [True, True]
    closed = db.session.scalar(select(ClosedDay.id))

    removed = studio["console"].post(f"/closeddayview/delete/{closed}")

    assert removed.status_code == 302
    assert _retired(studio["nine"], studio["ten"]) == [False, False]
    assert db.session.scalar(select(func.count()).select_from(ClosedDay)) == 0


def test_a_refused_console_change_changes_no_slot(studio):
    # Ends before it starts: refused by the rule check, flashed; nothing is saved.
    response = studio["console"].post(f"/availabilityruleview/edit/{studio['rule']}",
                                      data=_rule_form(studio, start_time="13:00",
                                                      end_time="12:00"),
                                      follow_redirects=True)

    assert response.status_code == 200
    assert "The rule has invalid values" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AvailabilityRule, studio["rule"]).start_time.hour == 9
    assert _retired(studio["nine"], studio["ten"]) == [False, False]


def test_a_console_change_whose_slots_fail_is_not_saved(studio, monkeypatch):
    # A failure in the middle of regeneration cannot be produced by a real local thing
    # on demand: its last step is made to fail here.
    from app.services import availability

    def fail(slot_ids, now):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(availability, "_remove_or_retire", fail)

    response = studio["console"].post(f"/availabilityruleview/edit/{studio['rule']}",
                                      data=_rule_form(studio, start_time="13:00",
                                                      end_time="15:00"))

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(AvailabilityRule, studio["rule"]).start_time.hour == 9
    assert _retired(studio["nine"], studio["ten"]) == [False, False]
