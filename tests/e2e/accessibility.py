"""Accessibility checks in the browser tests: axe-core on the page as it is now.

``assert_accessible(page)`` runs axe-core (bundled by the axe-playwright-python package, so
nothing is downloaded) and fails on every serious or critical violation, naming the rule,
its help page and the elements. Minor and moderate findings are not failures. Call it on
every storefront page a test visits, after the page has settled.
"""
from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

FAILING_IMPACTS = ("serious", "critical")
_AXE = Axe()


def serious_violations(page, selector: str | None = None) -> list[dict]:
    """axe-core's serious and critical violations on the page (or inside ``selector``)."""
    results = _AXE.run(page, context=selector)
    return [violation for violation in results.response["violations"]
            if violation.get("impact") in FAILING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['impact']}: {violation['id']}: {violation['help']} "
                     f"({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


def assert_accessible(page, selector: str | None = None) -> None:
    violations = serious_violations(page, selector)
    assert not violations, (f"axe-core found accessibility violations on {page.url}:\n"
                            + describe(violations))
