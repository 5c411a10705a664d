"""Scopes fail closed: no scope, or a bare id or None in its place, is a TypeError."""
import pytest
from sqlalchemy import select

from app.models import Booking
from app.services.scopes import Actor, Scope, require_scope


def test_a_provider_scope_needs_an_integer_id():
    with pytest.raises(TypeError):
        Scope()
    with pytest.raises(TypeError):
        Scope.of_provider(None)
    with pytest.raises(TypeError):
        Scope.of_provider("3")
    with pytest.raises(TypeError):
        Scope(provider_id=3, every_provider=True)
    assert Scope.of_provider(3).allows(3) and not Scope.of_provider(3).allows(4)


def test_all_providers_is_explicit_and_filters_nothing():
    everyone = Scope.all_providers()
    assert everyone.allows(7) and everyone.allows(None)
    query = select(Booking)
    assert everyone.filter(query, Booking) is query
    assert "provider_id" in str(Scope.of_provider(3).filter(query, Booking))


@pytest.mark.parametrize("value", [None, 3, "all"])
def test_require_scope_refuses_what_is_not_a_scope(value):
    with pytest.raises(TypeError):
        require_scope(value)


def test_an_actor_gives_a_reason_without_losing_its_address():
    actor = Actor(5, ip="192.0.2.1")
    assert actor.because("rescheduled") == Actor(5, "rescheduled", "192.0.2.1")
