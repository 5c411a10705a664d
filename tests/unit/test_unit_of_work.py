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


def test_after_commit_work_runs_once_committed_and_never_after_a_rollback(app):
    from app.services.transactions import after_commit

    with app.app_context():
        ran = []
        with unit_of_work():
            events.publish("test.after_commit", {})
            after_commit(lambda: ran.append(db.session().in_transaction()))
            assert ran == []
        assert ran == [False]  # after the commit, no transaction left open
        with pytest.raises(ValueError):
            with unit_of_work():
                after_commit(ran.append, "rolled back")
                raise ValueError("refused")
        with unit_of_work():
            pass  # nothing left over from the rolled-back one
        assert ran == [False]


def test_a_joined_unit_hands_its_after_commit_work_to_the_outer_one(app):
    from app.services.transactions import after_commit

    with app.app_context():
        ran = []
        with unit_of_work():
            with unit_of_work(joins=True):
                after_commit(ran.append, "inner")
            assert ran == []
        assert ran == ["inner"]


def test_after_commit_needs_a_unit_of_work_and_a_failure_there_is_not_raised(app):
    from app.services.transactions import after_commit

    with app.app_context():
        with pytest.raises(RuntimeError):
            after_commit(print)

        def broken():
            raise OSError("queue down")

        ran = []
        with unit_of_work():
            after_commit(broken)
            after_commit(ran.append, "still runs")
        assert ran == ["still runs"]


def test_end_read_refuses_to_discard_an_open_unit_of_work(app):
    from app.services.transactions import end_read

    with app.app_context():
        with pytest.raises(NestedUnitOfWork):
            with unit_of_work():
                end_read()
        end_read()
        assert not db.session().in_transaction()


def test_a_constraint_is_recognised_by_its_name_or_on_sqlite_by_its_column(app, build):
    from sqlalchemy.exc import IntegrityError

    from app.models import ConsumedEvent
    from app.services.transactions import breaks_constraint

    with app.app_context():
        event_id = events.publish("test.constraint", {})
        db.session.commit()
        with pytest.raises(IntegrityError) as caught:
            with unit_of_work():
                for _ in range(2):
                    db.session.add(ConsumedEvent(consumer="c", event_id=event_id))
                    db.session.flush()
        assert breaks_constraint(caught.value, "uq_consumed_event",
                                 "consumed_event.consumer")
        assert not breaks_constraint(caught.value, "uq_something_else", "other.column")
        assert not breaks_constraint(ValueError("no"), "uq_consumed_event")
