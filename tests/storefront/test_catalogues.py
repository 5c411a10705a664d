"""Every storefront string has a translation in every catalogue, with the same
placeholders. Extracted as `make messages` does (babel.cfg), so a string wrapped in
``_()`` without a translation fails here, named."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.message_catalogues import catalogue_languages
from config import BASE_DIR, TRANSLATIONS_DIR

HOW_TO = ("run `make messages`, then translate the new entries in "
          "translations/{language}/LC_MESSAGES/messages.po (docs/storefront.md, 'Languages')")


def _storefront_strings() -> Catalog:
    with (BASE_DIR / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
    extracted = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
            str(BASE_DIR), method_map, options_map, keywords=keywords):
        extracted.add(message, locations=[(filename, lineno)], context=context)
    return extracted


def _catalogue(language: str) -> Catalog:
    path = Path(TRANSLATIONS_DIR) / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return read_po(po, locale=language)


def test_there_is_a_german_catalogue():
    assert "de" in catalogue_languages(TRANSLATIONS_DIR)


@pytest.mark.parametrize("language", catalogue_languages(TRANSLATIONS_DIR))
def test_every_storefront_string_is_translated(language):
    catalogue = _catalogue(language)
    missing = []
    for message in _storefront_strings():
        if not message.id:
            continue
        translated = catalogue.get(message.id, message.context)
        strings = translated.string if translated is not None else None
        if isinstance(strings, str):
            strings = (strings,)
        if translated is None or translated.fuzzy or not strings or not all(strings):
            where = ", ".join(f"{name}:{line}" for name, line in message.locations)
            missing.append(f"{message.id!r} ({where})")
    assert not missing, (f"{len(missing)} storefront strings lack a {language} translation; "
                         + HOW_TO.format(language=language) + ":\n" + "\n".join(missing))


@pytest.mark.parametrize("language", catalogue_languages(TRANSLATIONS_DIR))
def test_translations_keep_the_placeholders(language):
    problems = [f"{message.id!r}: {error}"
                for message, errors in _catalogue(language).check() for error in errors]
    assert not problems, "\n".join(problems)
