"""docs/architecture.md describes the code: its tables of handlers, jobs, periodic work and
sweep kinds are rendered from the code and must match it."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tables_module():
    spec = importlib.util.spec_from_file_location("architecture_tables",
                                                  ROOT / "bin" / "architecture_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tables = _tables_module()


@pytest.mark.parametrize("name", sorted(tables.TABLES))
def test_each_table_of_the_document_matches_the_code(name):
    documented = tables.tables_in(tables.DOCUMENT.read_text())[name]
    assert documented is not None, f"docs/architecture.md lost its {name} markers"
    assert documented == tables.TABLES[name](), (
        f"the {name} table of docs/architecture.md is stale: "
        "run .venv/bin/python bin/architecture_tables.py --write")


def test_every_handler_of_the_table_is_in_the_document():
    from app.events import handler_name
    from app.services.event_handlers import HANDLERS

    documented = tables.tables_in(tables.DOCUMENT.read_text())["handlers"]
    for topic, handlers in HANDLERS.items():
        assert f"`{topic}`" in documented
        for handler in handlers:
            assert handler_name(handler).removeprefix("app.services.") in documented


def test_a_stale_table_is_noticed():
    text = tables.DOCUMENT.read_text()
    stale = text.replace("`payment.succeeded`", "`payment.succeeded.renamed`", 1)
    assert tables.tables_in(stale)["handlers"] != tables.handlers_table()
    assert tables.tables_in(tables.rewrite(stale))["handlers"] == tables.handlers_table()


def test_the_readme_links_to_the_document():
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()
