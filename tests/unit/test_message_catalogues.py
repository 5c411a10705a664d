"""Catalogues are compiled when missing or older than their .po, and only then."""
from __future__ import annotations

import os

from babel.support import Translations

from app.message_catalogues import catalogue_languages, compile_stale

PO = '''msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "Sign in"
msgstr "{translation}"
'''


def _catalogue(root, language, translation):
    folder = root / language / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "messages.po").write_text(PO.format(translation=translation), encoding="utf-8")
    return folder / "messages.mo"


def test_languages_are_the_catalogues_found(tmp_path):
    _catalogue(tmp_path, "de", "Anmelden")
    _catalogue(tmp_path, "fr", "Se connecter")
    (tmp_path / "not-a-language").mkdir()
    assert catalogue_languages(tmp_path) == ["de", "fr"]
    assert catalogue_languages(tmp_path / "missing") == []


def test_a_missing_or_stale_catalogue_is_compiled_once(tmp_path):
    compiled = _catalogue(tmp_path, "de", "Anmelden")
    assert compile_stale(tmp_path) == [compiled]
    assert Translations.load(str(tmp_path), ["de"]).gettext("Sign in") == "Anmelden"
    assert compile_stale(tmp_path) == []  # up to date: nothing written

    _catalogue(tmp_path, "de", "Einloggen")
    later = compiled.stat().st_mtime + 10
    os.utime(compiled.with_suffix(".po"), (later, later))
    assert compile_stale(tmp_path) == [compiled]
    assert Translations.load(str(tmp_path), ["de"]).gettext("Sign in") == "Einloggen"
    assert not list(tmp_path.glob("de/LC_MESSAGES/*.tmp"))  # written in place atomically
