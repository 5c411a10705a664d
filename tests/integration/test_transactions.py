"""A transaction PostgreSQL aborts to break a deadlock is run again, then answers busy."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from app.errors import Conflict
from app.extensions import db
from app.models import Provider
from app.services.transactions import retrying


@pytest.fixture
def two_providers(build, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite has no row locks, so no deadlocks; PostgreSQL "
                    "(TEST_DATABASE_URL) proves this, where CI runs it")
    return build.provider(), build.provider()


def _opposite_orders(app, first, second, *, attempts):
    """Two transactions lock the same two rows in opposite orders, both waiting until each
    holds its first row: PostgreSQL must abort one of them. Returns each one's outcome and
    how often each transaction ran."""
    both_hold_one = threading.Barrier(2)
    runs = {"forward": 0, "backward": 0}
    outcomes = {}

    def lock_both(name, order):
        runs[name] += 1
        db.session.execute(select(Provider.id).where(Provider.id == order[0])
                           .with_for_update())
        if runs[name] == 1:
            both_hold_one.wait()
        db.session.execute(update(Provider).where(Provider.id == order[1])
                           .values(name=f"changed by {name}"))
        db.session.commit()
        return "committed"

    def run(name, order):
        with app.app_context():
            try:
                outcomes[name] = retrying(lock_both, name, order, busy_code="test.busy",
                                          attempts=attempts)
            except Conflict as exc:
                outcomes[name] = exc.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=("forward", (first, second))),
               threading.Thread(target=run, args=("backward", (second, first)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes, runs


@pytest.mark.postgres
def test_the_deadlock_victim_runs_again_and_both_commit(app, app_ctx, two_providers):
    outcomes, runs = _opposite_orders(app, *two_providers, attempts=3)

    assert outcomes == {"forward": "committed", "backward": "committed"}
    assert sorted(runs.values()) == [1, 2]  # the victim ran twice


@pytest.mark.postgres
def test_a_deadlock_with_no_attempt_left_is_a_clean_busy(app, app_ctx, two_providers):
    outcomes, runs = _opposite_orders(app, *two_providers, attempts=1)

    assert sorted(outcomes.values()) == ["committed", "test.busy"]
    assert runs == {"forward": 1, "backward": 1}
