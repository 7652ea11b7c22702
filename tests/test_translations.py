"""The translation catalogs are complete and in step with the code.

Simplified Chinese is the source language; English must translate every string. When this
fails, run the commands in booking/translations/README.md.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "booking" / "translations"
HOW_TO_FIX = "run the commands in booking/translations/README.md"


def load_po(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


def message_ids(catalog) -> set[str]:
    return {message.id for message in catalog if message.id}


@pytest.fixture(scope="module")
def code_message_ids(tmp_path_factory) -> set[str]:
    """Extract the strings from the code now, exactly as the README's command does."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(TRANSLATIONS / "babel.cfg"),
        "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), str(ROOT)])
    with open(pot, "rb") as handle:
        return message_ids(read_po(handle))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_catalog_has_exactly_the_strings_in_the_code(code_message_ids, language):
    catalog_ids = message_ids(load_po(language))
    missing = sorted(code_message_ids - catalog_ids)
    stale = sorted(catalog_ids - code_message_ids)
    assert not missing, f"{len(missing)} strings not in {language}.po ({HOW_TO_FIX}): {missing[:10]}"
    assert not stale, f"{len(stale)} strings no longer in the code ({HOW_TO_FIX}): {stale[:10]}"


def test_every_english_string_is_translated():
    catalog = load_po("en")
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} marked fuzzy (check and unmark them): {fuzzy[:10]}"


def test_english_translations_keep_every_placeholder():
    problems = [(message.id, [str(e) for e in errors])
                for message, errors in load_po("en").check() if errors]
    assert not problems, problems[:10]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_compiled_catalog_matches_the_po_file(language):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    expected = {m.id: m.string for m in load_po(language) if m.id and m.string and not m.fuzzy}
    assert compiled == expected, f"messages.mo is out of date: {HOW_TO_FIX}"


def test_mail_templates_are_extracted(code_message_ids):
    """The plain-text mail bodies (templates/mail/*.txt) are in babel.cfg, so their strings
    reach the catalogs like every HTML template's."""
    from babel.messages.extract import extract_from_file

    mail_ids = {message for path in sorted((ROOT / "templates" / "mail").glob("*.txt"))
                for _, message, _, _ in extract_from_file("jinja2.ext:babel_extract", str(path))}
    assert mail_ids, "no strings found in templates/mail/*.txt"
    missing = sorted(mail_ids - code_message_ids)
    assert not missing, f"mail strings not extracted by babel.cfg: {missing[:5]}"


# --- the English wording: placeholders and the glossary -------------------------------------

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{\w*\}")
GLOSSARY = TRANSLATIONS / "glossary.csv"


def _texts(message) -> tuple[list[str], list[str]]:
    ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
    strings = list(message.string) if isinstance(message.string, tuple | list) else [message.string]
    return ids, strings


def placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text))


def test_every_english_string_has_the_placeholders_of_the_chinese():
    """The same named placeholders (%(n)s…), as many times, in the Chinese and the English."""
    problems = []
    for message in load_po("en"):
        if not message.id:
            continue
        ids, strings = _texts(message)
        for string in strings:
            if placeholders(ids[0]) != placeholders(string):
                problems.append((ids[0], string))
    assert not problems, problems[:10]


def test_placeholder_check_catches_a_lost_or_renamed_placeholder():
    assert placeholders("余 %(n)s 座") != placeholders("seats left")
    assert placeholders("余 %(n)s 座") != placeholders("%(count)s seats left")
    assert placeholders("%(a)s、%(b)s") == placeholders("%(b)s, %(a)s")


def load_glossary() -> list[dict[str, str]]:
    with open(GLOSSARY, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def glossary_problems(catalog, glossary) -> list[str]:
    """Where the catalogue translates a glossary term against the glossary: a string that is
    exactly the term (give or take punctuation) must use one of its English words, and no
    string containing the term may use a word the glossary says to avoid."""
    problems = []
    for message in catalog:
        if not message.id or message.context:
            continue
        ids, strings = _texts(message)
        source = ids[0].strip(" ：:。")
        english = " ".join(strings).lower()
        for row in glossary:
            zh = row["zh"]
            if source == zh and not any(word.lower() in english
                                        for word in row["en"].split("|")):
                problems.append(f"{ids[0]!r} -> {english!r}: glossary says {row['en']!r}")
            avoid = [word for word in row["avoid"].split("|") if word]
            if zh in ids[0] and any(re.search(rf"\b{re.escape(word.lower())}\b", english)
                                    for word in avoid):
                problems.append(f"{ids[0]!r} -> {english!r}: avoid {row['avoid']!r}")
    return problems


def test_the_glossary_pins_each_term_once():
    terms = [row["zh"] for row in load_glossary()]
    assert terms and len(terms) == len(set(terms)), "one row per Chinese term"
    assert all(row["en"] for row in load_glossary())


def test_english_catalogue_follows_the_glossary():
    problems = glossary_problems(load_po("en"), load_glossary())
    assert not problems, f"{len(problems)} strings against booking/translations/glossary.csv:\n" \
        + "\n".join(problems[:20])


def test_glossary_check_catches_a_term_translated_against_it():
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="en")
    catalog.add("课程", "Course")
    catalog.add("新建课程", "New course")
    catalog.add("场次", "Slot")
    catalog.add("场馆", "Venue")
    problems = glossary_problems(catalog, load_glossary())
    assert sorted(p.split(":")[0] for p in problems) == [
        "'场次' -> 'slot'", "'新建课程' -> 'new course'", "'课程' -> 'course'",
        "'课程' -> 'course'"], problems
