"""The tables of docs/architecture.md that describe code: rendered from the code itself.

    .venv/bin/python bin/architecture_tables.py           # exit 1 if the document is stale
    .venv/bin/python bin/architecture_tables.py --write   # rewrite the tables in place

Each table sits between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` in the document;
``tests/unit/test_architecture_doc.py`` fails when one of them and the code disagree.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOCUMENT = ROOT / "docs" / "architecture.md"


def _handler(handler) -> str:
    from app.events import handler_name

    return f"`{handler_name(handler).removeprefix('app.services.')}`"


def handlers_table() -> str:
    from app.services.event_handlers import HANDLERS, conditional

    # Every setting that switches a conditional handler on, to list them with their setting.
    switched = {"TIKTOK_SEND_PLACE_AN_ORDER": True, "OPENSEARCH_URL": "set"}
    extra = {}
    for setting in switched:
        for topic, handlers in conditional({setting: switched[setting]}).items():
            extra.setdefault(topic, []).extend(
                f"{_handler(handler)} (with `{setting}`)" for handler in handlers)
    rows = ["| topic | handlers |", "|---|---|"]
    for topic in sorted(set(HANDLERS) | set(extra)):
        names = [_handler(handler) for handler in HANDLERS.get(topic, ())]
        names += extra.get(topic, [])
        rows.append(f"| `{topic}` | {', '.join(names) or 'none: stored, not dispatched'} |")
    return "\n".join(rows)


def jobs_table() -> str:
    from app.job_registry import JOBS

    rows = ["| job name | runs | queue | retries after (s) |", "|---|---|---|---|"]
    for name in sorted(JOBS):
        job = JOBS[name]
        retries = ", ".join(str(seconds) for seconds in job.retry_intervals) or "none"
        rows.append(f"| `{name}` | `{job.func.__name__}` | {job.queue} | {retries} |")
    return "\n".join(rows)


def periodic_table() -> str:
    from app.job_registry import PERIODIC

    rows = ["| entry | job | when |", "|---|---|---|"]
    for entry in PERIODIC:
        when = f"every {entry.interval} s" if entry.interval else f"cron `{entry.cron}`"
        rows.append(f"| {entry.key} | `{entry.job}` | {when} |")
    return "\n".join(rows)


def sweeps_table() -> str:
    from app.services.sweeps import KINDS

    rows = ["| kind | sweeps with | when |", "|---|---|---|"]
    for kind in KINDS:
        sweep = f"{kind.sweep.__module__.removeprefix('app.services.')}.{kind.sweep.__name__}"
        when = kind.applies.__name__
        when = "always" if when == "<lambda>" else "with " + when.strip("_").replace("_", " ")
        rows.append(f"| {kind.name} | `{sweep}` | {when} |")
    return "\n".join(rows)


TABLES = {"handlers": handlers_table, "jobs": jobs_table, "periodic": periodic_table,
          "sweeps": sweeps_table}


def _block(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {name}:start -->\n)(.*?)(<!-- {name}:end -->)", re.S)


def tables_in(text: str) -> dict[str, str]:
    """Each table as the document has it (None where its markers are missing)."""
    found = {}
    for name in TABLES:
        match = _block(name).search(text)
        found[name] = match.group(2).strip() if match else None
    return found


def rendered() -> dict[str, str]:
    return {name: render() for name, render in TABLES.items()}


def rewrite(text: str) -> str:
    for name, table in rendered().items():
        text = _block(name).sub(lambda match, table=table: match.group(1) + table + "\n"
                                + match.group(3), text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the tables in place")
    args = parser.parse_args()
    text = DOCUMENT.read_text()
    if args.write:
        DOCUMENT.write_text(rewrite(text))
        return 0
    stale = [name for name, table in tables_in(text).items() if table != rendered()[name]]
    for name in stale:
        print(f"{DOCUMENT.relative_to(ROOT)}: the {name} table is stale; run "
              f"bin/architecture_tables.py --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
