"""A resource's weekly hours through the API: staff read and set them in the provider's
zone, times outside them stop being offered, a wrong week is refused whole in the
documented error shape, and another provider's resource is never found."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ResourceHours
from app.models.types import utcnow
from app.services import resources
from app.services.scopes import Scope
from tests.helpers import api_login, assert_error_shape, bearer

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def shop(build, client):
    provider = build.provider(timezone="Europe/Berlin")
    scope = Scope.of_provider(provider)
    ada = resources.create_resource(scope=scope, name="Ada").id
    cut = build.offering(provider, name="Cut", price_minor=3000)
    resources.set_offering_resources(cut, [ada], scope=scope)
    day = (utcnow() + timedelta(days=7)).astimezone(BERLIN).date()
    slots = {hour: build.slot(cut, datetime.combine(day, time(hour), BERLIN), capacity=2)
             for hour in (9, 18)}
    staff = bearer(api_login(client, build.email_of(build.staff(provider)))["access_token"])
    return {"ada": ada, "cut": cut, "day": day, "slots": slots, "staff": staff}


def hours_url(resource_id):
    return f"/api/v1/provider/resources/{resource_id}/hours"


def free_slots(client, shop, **chosen) -> list[int]:
    answer = client.get(f"/api/v1/offerings/{shop['cut']}/free-times",
                        query_string={"date": shop["day"].isoformat(), **chosen})
    assert answer.status_code == 200, answer.json
    return [t["slot_id"] for part in answer.json["parts"] for t in part["times"]]


def test_staff_set_hours_and_later_times_stop_being_offered(client, shop):
    before = client.get(hours_url(shop["ada"]), headers=shop["staff"])
    assert before.json == {"resource_id": shop["ada"], "name": "Ada",
                           "timezone": "Europe/Berlin", "keeps_hours": False, "ranges": []}
    assert sorted(free_slots(client, shop)) == sorted(shop["slots"].values())

    weekdays = [{"weekday": day, "start": "08:00", "end": "13:00"} for day in range(5)]
    weekend = [{"weekday": day, "start": "08:00", "end": "12:00"} for day in (5, 6)]
    saved = client.put(hours_url(shop["ada"]), json={"ranges": weekdays + weekend},
                       headers=shop["staff"])
    assert saved.status_code == 200, saved.json
    assert saved.json["keeps_hours"] is True
    assert saved.json["ranges"][0] == {"weekday": 0, "weekday_name": "Monday",
                                       "start": "08:00", "end": "13:00"}
    assert free_slots(client, shop) == [shop["slots"][9]]
    assert free_slots(client, shop, resource_id=shop["ada"]) == [shop["slots"][9]]
    month = client.get(f"/api/v1/offerings/{shop['cut']}/free-days", query_string={
        "month": shop["day"].strftime("%Y-%m"), "resource_id": shop["ada"]})
    assert shop["day"].isoformat() in [d["date"] for d in month.json["days"]]
    stranger = client.get(f"/api/v1/offerings/{shop['cut']}/free-times", query_string={
        "date": shop["day"].isoformat(), "resource_id": shop["ada"] + 999})
    assert_error_shape(stranger, 422, "resource.not_of_offering")


def test_a_wrong_week_is_refused_whole(client, shop):
    client.put(hours_url(shop["ada"]), json={"ranges": [
        {"weekday": 0, "start": "08:00", "end": "13:00"}]}, headers=shop["staff"])
    overlapping = client.put(hours_url(shop["ada"]), json={"ranges": [
        {"weekday": 1, "start": "08:00", "end": "13:00"},
        {"weekday": 1, "start": "12:00", "end": "15:00"}]}, headers=shop["staff"])
    assert_error_shape(overlapping, 422, "availability.invalid_hours")
    assert "overlaps" in overlapping.json["errors"]["ranges"][0]
    for bad in ({"weekday": 7, "start": "08:00", "end": "13:00"},
                {"weekday": 1, "start": "8 o'clock", "end": "13:00"}):
        assert client.put(hours_url(shop["ada"]), json={"ranges": [bad]},
                          headers=shop["staff"]).status_code == 422
    assert [(r.weekday, r.start_time) for r in db.session.scalars(select(ResourceHours))] == [
        (0, time(8))]


def test_another_providers_resource_is_not_found(client, shop, build):
    stranger = resources.create_resource(scope=Scope.of_provider(build.provider()),
                                         name="Zed").id
    for answer in (client.get(hours_url(stranger), headers=shop["staff"]),
                   client.put(hours_url(stranger), json={"ranges": []},
                              headers=shop["staff"])):
        assert_error_shape(answer, 404, "resource.not_found")
    assert client.get(hours_url(shop["ada"])).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(ResourceHours)) == 0
