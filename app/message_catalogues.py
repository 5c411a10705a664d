"""The storefront's message catalogues: ``translations/<language>/LC_MESSAGES/messages.po``.

Only the ``.po`` files are kept in the repository. Gettext reads compiled ``.mo`` files, so
``make translations`` (part of ``make run`` and ``make test``) compiles them, and the app
compiles any that is missing or older than its ``.po`` when it starts, so a server or a
test run started some other way never reads a stale catalogue. Babel, which compiles
them, is a runtime dependency already: nothing else is needed.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"
log = logging.getLogger(__name__)


def catalogue_languages(directory: Path) -> list[str]:
    """The languages with a catalogue in ``directory`` (``de``, ``fr``...), sorted."""
    if not directory.is_dir():
        return []
    return sorted(path.parent.parent.name
                  for path in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compile_stale(directory: Path) -> list[Path]:
    """Compile every ``.po`` whose ``.mo`` is missing or older; returns the ``.mo`` files
    written. Written atomically: processes starting together never read half a file."""
    written = []
    for language in catalogue_languages(directory):
        source = directory / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        target = source.with_suffix(".mo")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        with source.open("rb") as po:
            catalogue = read_po(po, locale=language)
        try:
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".mo.tmp")
            with os.fdopen(handle, "wb") as mo:
                write_mo(mo, catalogue)
            os.replace(temporary, target)
        except OSError as exc:  # a read-only deployment: `make translations` at build time
            log.warning("could not compile %s: %s", source, exc)
            continue
        written.append(target)
    return written
