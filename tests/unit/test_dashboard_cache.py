"""The dashboards' period figures are added up at most once a minute per scope."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.services import dashboard_cache

NOW = datetime(2031, 1, 15, 9, 0, tzinfo=timezone.utc)


def test_a_value_is_kept_for_the_configured_seconds(app, monkeypatch):
    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 60)
    dashboard_cache.forget()
    computed = []

    def compute():
        computed.append(1)
        return len(computed)

    with app.app_context():
        first = dashboard_cache.kept(("all", 7), NOW, compute)
        again = dashboard_cache.kept(("all", 7), NOW + timedelta(seconds=59), compute)
        other = dashboard_cache.kept((1, 7), NOW + timedelta(seconds=59), compute)
        later = dashboard_cache.kept(("all", 7), NOW + timedelta(seconds=61), compute)

    assert first == (1, NOW) and again == (1, NOW)  # with when it was added up
    assert other == (2, NOW + timedelta(seconds=59))  # another scope: its own figures
    assert later == (3, NOW + timedelta(seconds=61))


def test_zero_seconds_computes_every_time(app, monkeypatch):
    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 0)
    with app.app_context():
        values = [dashboard_cache.kept(("all", 7), NOW, lambda: object())[0]
                  for _ in range(2)]
    assert values[0] is not values[1]
