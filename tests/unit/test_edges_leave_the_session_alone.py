"""Edges (console views, API, jobs) never touch the database session: they call services,
and the services' units of work commit and roll back. A module that names ``db.session``
(to commit, roll back, flush, expire or query) belongs in ``app/services`` instead."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDGES = ("views", "api", "jobs")


def _edge_modules():
    for edge in EDGES:
        yield from sorted((ROOT / edge).rglob("*.py"))


def session_uses(source: str) -> list[int]:
    """Lines that reach for ``<anything>.session`` of the database extension, or for
    ``db`` itself as ``db.session``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and node.attr == "session"
                and isinstance(node.value, ast.Name) and node.value.id == "db"):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_scan_finds_a_session_call():
    assert session_uses("from app.extensions import db\ndb.session.rollback()\n") == [2]
    assert session_uses("x = db.session\n") == [1]
    assert session_uses("session.rollback()\ndb.engine.dispose()\n") == []


@pytest.mark.parametrize("path", list(_edge_modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_edges_leave_the_session_alone(path):
    found = session_uses(path.read_text(encoding="utf-8"))
    assert found == [], (f"{path.relative_to(ROOT)} touches db.session on lines {found}: "
                         "move that work into a service (app/services) and its unit of work")
