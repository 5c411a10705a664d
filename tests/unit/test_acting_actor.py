"""Who acts is a value the edges set: services read it and never the request."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.services import audit
from app.services.scopes import SYSTEM, Actor

SERVICES = Path(__file__).resolve().parents[2] / "app" / "services"
REQUEST_STATE = {"g", "request", "session", "has_request_context", "current_user"}


def test_the_system_acts_unless_someone_is_named():
    assert audit.current_actor() == SYSTEM
    with audit.acting_as(Actor(5, ip="192.0.2.1")) as outer:
        assert audit.current_actor() == outer
        with audit.acting_as(Actor(6)):
            assert audit.current_actor().user_id == 6
        assert audit.current_actor() == outer
    assert audit.current_actor() == SYSTEM


@pytest.mark.parametrize("value", [None, 5])
def test_an_actor_must_be_an_actor(value):
    with pytest.raises(TypeError):
        with audit.acting_as(value):
            pass


def test_an_entry_names_the_current_actor_and_address():
    with audit.acting_as(Actor(9, ip="198.51.100.4")):
        values = audit.entry_values("test.done", entity="thing")
    assert (values["actor_id"], values["ip"]) == (9, "198.51.100.4")
    assert audit.entry_values("test.done", entity="thing")["actor_id"] is None


def _request_state_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask_login",
                                                                  "flask_jwt_extended"):
            found |= {alias.name for alias in node.names} & REQUEST_STATE
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name == "flask.globals"}
    return found


def test_no_service_reads_the_request():
    offenders = {path.name: names for path in sorted(SERVICES.glob("*.py"))
                 if (names := _request_state_imports(path))}
    assert offenders == {}
