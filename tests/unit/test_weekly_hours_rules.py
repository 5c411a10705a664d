"""The rules of a week of hours and of typed wall-clock times, without a database."""
from __future__ import annotations

from datetime import datetime, time, timezone

import pytest

from app.services.wall_clock import NoSuchLocalTime, utc_from_wall_clock, wall_clock
from app.services.weekly_hours import TimeRange, WeeklyHours, hours_problems


def _week(*ranges, slot_minutes=60, capacity=1) -> WeeklyHours:
    return WeeklyHours(tuple(TimeRange(d, time(*s), time(*e)) for d, s, e in ranges),
                       slot_minutes, capacity)


def test_a_split_day_and_touching_ranges_are_fine():
    assert hours_problems(_week((0, (9,), (12,)), (0, (12,), (13,)), (0, (14,), (18,)),
                                (5, (10,), (14,)))) == []


def test_overlaps_within_a_day_are_named():
    assert hours_problems(_week((2, (9,), (12,)), (2, (11, 30), (13,)), (3, (11, 30), (13,)))) \
        == ["Wednesday 11:30–13:00 overlaps Wednesday 09:00–12:00."]


@pytest.mark.parametrize("week, problem", [
    (_week((1, (12,), (9,))), "Tuesday 12:00–09:00: the end must be after the start."),
    (_week((1, (9,), (9,))), "Tuesday 09:00–09:00: the end must be after the start."),
    (_week((7, (9,), (10,))), "Pick a weekday from Monday to Sunday."),
    (_week((1, (9,), (10,)), slot_minutes=0), "Slots must be at least one minute long."),
    (_week((1, (9,), (10,)), capacity=0), "Capacity must be at least 1."),
])
def test_wrong_weeks_are_refused_with_a_reason(week, problem):
    assert problem in hours_problems(week)


def test_wall_clock_times_become_utc_and_back_across_daylight_saving():
    winter = utc_from_wall_clock(datetime(2031, 1, 15, 10, 0), "Europe/Berlin")
    summer = utc_from_wall_clock(datetime(2031, 7, 15, 10, 0), "Europe/Berlin")
    assert (winter, summer) == (datetime(2031, 1, 15, 9, tzinfo=timezone.utc),
                                datetime(2031, 7, 15, 8, tzinfo=timezone.utc))
    assert wall_clock(summer, "Europe/Berlin") == datetime(2031, 7, 15, 10, 0)
    # Fall-back: 02:30 happens twice; the first one (summer time) is taken.
    assert utc_from_wall_clock(datetime(2031, 10, 26, 2, 30), "Europe/Berlin") == \
        datetime(2031, 10, 26, 0, 30, tzinfo=timezone.utc)


def test_a_time_the_clocks_skip_is_refused():
    with pytest.raises(NoSuchLocalTime, match="does not exist in Europe/Berlin"):
        utc_from_wall_clock(datetime(2031, 3, 30, 2, 30), "Europe/Berlin")
