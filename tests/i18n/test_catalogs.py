"""The message catalogs: parsing, the language switch, and every translation's placeholders."""

import re
import string

import pytest

from mtml_lib import i18n


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    i18n.set_language("en")


def test_read_po_handles_comments_multiline_strings_and_escapes(tmp_path):
    po = tmp_path / "xx.po"
    po.write_text(
        '# a comment\nmsgid ""\nmsgstr "header"\n\n'
        'msgid "one {n}"\nmsgstr "eins {n}"\n\n'
        'msgid "two"\n"lines\\n"\nmsgstr "zwei"\n"\\"Zeilen\\""\n\n'
        'msgid "untranslated"\nmsgstr ""\n',
        encoding="utf-8",
    )
    assert i18n.read_po(po) == {"one {n}": "eins {n}", "twolines\n": 'zwei"Zeilen"'}


def test_a_broken_line_is_named(tmp_path):
    po = tmp_path / "xx.po"
    po.write_text('msgid "a"\nmsgstr b\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx.po:2: expected a quoted string"):
        i18n.read_po(po)


def test_the_language_switch_and_the_fallback():
    assert i18n.translate("[ok] {title}") == "[ok] {title}"
    i18n.set_language("ko")
    assert i18n.get_language() == "ko"
    assert i18n.translate("[ok] {title}") == "[통과] {title}"
    assert i18n.translate("a message no catalog has") == "a message no catalog has"
    with pytest.raises(ValueError, match=r"`language` must be one of \['en', 'ko'\]; got 'fr'"):
        i18n.set_language("fr")


def test_the_environment_chooses_when_nothing_was_set(monkeypatch):
    monkeypatch.setitem(i18n._state, "language", None)
    monkeypatch.setenv("MTML_LANG", "ko")
    assert i18n.get_language() == "ko"
    monkeypatch.setitem(i18n._state, "language", None)
    monkeypatch.setenv("MTML_LANG", "de")
    with pytest.raises(ValueError, match="`MTML_LANG` must be one of"):
        i18n.get_language()


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_translation_keeps_its_placeholders_and_has_hangul(language):
    fields = lambda text: sorted(f for _, f, _, _ in string.Formatter().parse(text) if f)  # noqa: E731
    entries = i18n.read_po(i18n._HERE / f"{language}.po")
    assert entries
    for english, translated in entries.items():
        assert fields(translated) == fields(english), english
        assert re.search("[\uac00-\ud7a3]", translated), english
