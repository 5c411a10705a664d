"""The code has no unused imports, undefined names or similar slips (pyflakes)."""
from __future__ import annotations

from pathlib import Path

from pyflakes.api import checkPath
from pyflakes.reporter import Reporter

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "api", "views", "jobs", "bench", "devservices", "tests")
# Imported for their side effects: every table and event listener registered at start-up.
ALLOWED = ("app/__init__.py: 'app.models' imported but unused",
           "app/__init__.py: 'app.services.audit' imported but unused",
           "app/__init__.py: 'app.services.cache' imported but unused")


class _Collect:
    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.append(text)

    def flush(self):
        pass


def test_pyflakes_finds_nothing():
    out = _Collect()
    reporter = Reporter(out, out)
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            checkPath(str(path), reporter)
    problems = [line.strip() for line in "".join(out.lines).splitlines() if line.strip()]
    relative = [p.replace(str(ROOT) + "/", "") for p in problems]
    unexpected = [p for p in relative
                  if not any(p.startswith(a.split(":")[0]) and a.split(": ", 1)[1] in p
                             for a in ALLOWED)]
    assert unexpected == []
