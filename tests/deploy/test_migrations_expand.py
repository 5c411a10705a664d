"""Migrations keep the running version working (docs/deploy.md, "Zero-downtime
migrations"): the release migrates while the previous version still serves, so a revision
that drops or renames a column or table must say, on a line beginning ``# contract:``, why
no running code needs it any more."""
from __future__ import annotations

import ast
import re
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"

REMOVING_OPERATIONS = {"drop_column", "drop_table", "rename_table"}
REMOVING_SQL = re.compile(r"\b(DROP\s+(COLUMN|TABLE)|RENAME)\b", re.IGNORECASE)
CONTRACT_MARKER = re.compile(r"^\s*# contract: \S", re.MULTILINE)


def removals_without_reason(source: str) -> list[str]:
    """What the revision's upgrade path takes away (outside any ``downgrade`` function),
    unless the revision marks itself as a contract step."""
    if CONTRACT_MARKER.search(source):
        return []
    tree = ast.parse(source)
    downgrade_nodes = {id(node) for function in ast.walk(tree)
                       if isinstance(function, ast.FunctionDef)
                       and function.name.startswith("downgrade")
                       for node in ast.walk(function)}
    found = []
    for node in ast.walk(tree):
        if id(node) in downgrade_nodes or not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", None)
        keywords = {keyword.arg for keyword in node.keywords}
        if name in REMOVING_OPERATIONS or (name == "alter_column"
                                           and "new_column_name" in keywords):
            found.append((node.lineno, name))
        elif name == "execute" and REMOVING_SQL.search(ast.unparse(node)):
            found.append((node.lineno, ast.unparse(node)[:80]))
    return [f"line {line}: {what}" for line, what in sorted(found)]


def test_no_revision_drops_or_renames_without_saying_why_it_is_safe():
    offending = {path.name: found for path in sorted(VERSIONS.glob("*.py"))
                 if (found := removals_without_reason(path.read_text(encoding="utf-8")))}
    assert offending == {}, (
        "these revisions remove or rename what the running version may still use; make "
        "it a later release's contract step and add a '# contract: <why it is safe>' "
        f"line: {offending}")


def test_the_check_sees_drops_renames_and_the_reason_given():
    expand = '''
def upgrade():
    op.add_column("booking", sa.Column("channel", sa.String(20), nullable=True))

def downgrade():
    op.drop_column("booking", "channel")
'''
    removing = '''
def upgrade():
    with op.batch_alter_table("booking") as batch_op:
        batch_op.drop_column("legacy_notes")
    op.alter_column("booking", "note", new_column_name="notes")
    op.execute("ALTER TABLE slot RENAME TO time_slot")
    _drop_old()

def _drop_old():
    op.drop_table("old_things")
'''
    assert removals_without_reason(expand) == []
    assert [finding.split(": ", 1)[1][:12] for finding in removals_without_reason(removing)] \
        == ["drop_column", "alter_column", "op.execute('", "drop_table"]
    reasoned = "# contract: nothing reads these since the release of 2026-11-02\n" + removing
    assert removals_without_reason(reasoned) == []
