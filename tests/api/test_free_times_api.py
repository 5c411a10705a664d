"""GET /offerings/{id}/free-days and /free-times: the time picker's two reads."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.models.types import utcnow
from tests.helpers import assert_error_shape

BERLIN = ZoneInfo("Europe/Berlin")


def _next_month_day(day: int, hour: int) -> datetime:
    first = (utcnow().astimezone(BERLIN).date().replace(day=1) + timedelta(days=32)).replace(day=1)
    return datetime(first.year, first.month, day, hour, 0, tzinfo=BERLIN)


def test_free_days_then_that_days_times(client, build):
    provider = build.provider(timezone="Europe/Berlin")
    offering = build.offering(provider)
    late = _next_month_day(14, 23)  # 22:00 UTC in winter, 21:00 in summer: still the 14th
    slot = build.slot(offering, late, capacity=4, booked=1)
    build.slot(offering, _next_month_day(15, 9), capacity=1, booked=1)  # full

    month = late.strftime("%Y-%m")
    days = client.get(f"/api/v1/offerings/{offering}/free-days?month={month}&quantity=3")

    assert days.status_code == 200
    assert days.get_json() == {"offering_id": offering, "timezone": "Europe/Berlin",
                               "month": month, "quantity": 3,
                               "days": [{"date": late.date().isoformat(), "free_times": 1}]}
    times = client.get(f"/api/v1/offerings/{offering}/free-times"
                       f"?date={late.date().isoformat()}&quantity=3").get_json()
    assert times["parts"] == [{"part": "evening", "times": [{
        "slot_id": slot, "remaining": 3,
        "starts_at": late.astimezone(ZoneInfo("UTC")).isoformat(),
        "starts_at_local": late.isoformat(),
        "ends_at_local": (late + timedelta(hours=1)).isoformat()}]}]


def test_bad_asks_are_4xx_in_the_error_shape(client, build):
    offering = build.offering(build.provider())

    assert_error_shape(client.get(f"/api/v1/offerings/{offering}/free-days?month=2031-13"), 422)
    assert_error_shape(client.get(f"/api/v1/offerings/{offering}/free-days"), 422)
    assert_error_shape(client.get(f"/api/v1/offerings/{offering}/free-days?month=2001-01"), 422)
    assert_error_shape(client.get(
        f"/api/v1/offerings/{offering}/free-times?date={date.today()}&quantity=0"), 422)
    assert_error_shape(client.get("/api/v1/offerings/999999/free-days?month=2031-01"), 404)
