"""The unit of work: commits, rolls back, refuses to nest, dispatches after commit."""
import pytest
from sqlalchemy import func, select

from app import events
from app.extensions import db
from app.models.events import OutboxEvent
from app.services.transactions import NestedUnitOfWork, in_unit_of_work, unit_of_work


def _events():
    return db.session.scalar(select(func.count()).select_from(OutboxEvent))


def test_commits_on_success_and_rolls_back_on_error(app):
    with app.app_context():
        before = _events()
        with unit_of_work():
            assert in_unit_of_work()
            events.publish("test.committed", {"n": 1})
        assert not in_unit_of_work()
        assert _events() == before + 1
        with pytest.raises(ValueError):
            with unit_of_work():
                events.publish("test.rolled_back", {"n": 2})
                raise ValueError("refused")
        assert _events() == before + 1
        assert not in_unit_of_work()


def test_refuses_to_nest_unless_the_inner_one_joins(app):
    with app.app_context():
        before = _events()
        with pytest.raises(NestedUnitOfWork):
            with unit_of_work():
                events.publish("test.outer", {})
                with unit_of_work():
                    pass
        assert _events() == before  # the outer work rolled back whole
        with unit_of_work():
            events.publish("test.outer", {})
            with unit_of_work(joins=True):
                events.publish("test.inner", {})
            assert db.session().in_transaction()  # the inner one did not commit
        assert _events() == before + 2
