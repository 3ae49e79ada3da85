"""What the texts quote in double quotes is either a string the workbook prints, or named here as
a quote of something else.

A markdown cell (either edition) or a catalog entry that quotes a printed line ("helps both",
"[ok] ...") goes stale when the code stops printing it; this test finds such a quote in what the
workbook prints (English: the committed outputs and the catalogs' English messages; Korean: the
catalogs' translations, which are what the Korean edition prints), with a message's ``{fields}``
standing for any value. A quote that is not of printed text (a paper's title, a question that
defines a task, a word the text weighs) is listed in :data:`NOT_PRINTED` with the reason, so a
quote of output that the code no longer prints fails here rather than sending a student to a line
that is not there.
"""

import pathlib
import re

import nbformat
import pytest
from babel.messages.pofile import read_po

from mtml_lib.course.editions.twins import twin_language

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
    (ROOT / "notebooks" / "homework" / "source").glob("*/*.ipynb")
)
CATALOGS = [
    ROOT / "mtml_lib" / "i18n" / "locale" / "ko" / "LC_MESSAGES" / "mtml.po",
    ROOT / "notebooks" / "locale" / "ko" / "LC_MESSAGES" / "labs.po",
    ROOT / "notebooks" / "homework" / "graders" / "locale" / "ko" / "LC_MESSAGES" / "homework.po",
    ROOT / "notebooks" / "homework" / "graders" / "locale" / "ko" / "LC_MESSAGES" / "graders.po",
]
QUOTE = re.compile(r"“([^”]+)”|\"([^\"]+)\"|(?<![A-Za-z0-9_'])'([^']+)'(?![A-Za-z0-9_'])")
FIELD = re.compile(r"\{[^{}]*\}")
HANGUL = re.compile("[\uac00-\ud7a3]")

# Quotes that are not of printed text, by the reason they are quoted (English and Korean).
NOT_PRINTED = {
    "a question that defines a task": {
        "is the digit a multiple of 3?",
        "숫자가 3의 배수인가?",
        "웃고 있나?",
        "안경을 썼나?",
        "수염이 있나?",
        "tell these N characters apart",
        "이 N개 문자를 구별하라",
    },
    "a name the field uses": {"permuted MNIST"},
    "a task's short name": {"multiple of 3", "3의 배수"},
    "a paper's title": {"Recommending What Video to Watch Next: A Multitask Ranking System"},
    "a word the text weighs": {
        "정답",
        "the same distribution",
        "같은 분포",
        "그린 사람",
    },
    "a phrasing the text asks the student to use": {
        "as good as",
        "그만큼 좋다",
        "not distinguished over n runs × m episodes",
        "실행 n번 × 에피소드 m개로는 구별되지 않음",
    },
    "the meaning of a pair in a comment": {"a is lower", "a가 더 낮음"},
    "the sentence a check's comment spells out": {
        "n is worse than independent networks by less than a third",
        "n이 독립 네트워크보다 나쁜 정도가 3분의 1 미만",
    },
}
ALLOWED = {quote for quotes in NOT_PRINTED.values() for quote in quotes}


def normal(text: str) -> str:
    return " ".join(text.split())


def quotes(text: str) -> list[str]:
    """The prose quoted in ``text``: double-quoted spans with a space or Hangul in them (a
    quoted code value such as ``"cpu"`` or ``"auto"`` is not prose)."""
    text = FIELD.sub("§", text)  # a message's fields hold code, not quotes
    found = (normal(next(g for g in m.groups() if g)) for m in QUOTE.finditer(text))
    return [q for q in found if " " in q or HANGUL.search(q)]


def pattern(message: str) -> re.Pattern | None:
    """A printed message as a pattern: its ``{fields}`` stand for any value (None for a message
    that is all fields, which would match anything)."""
    parts = FIELD.split(normal(message))
    if len("".join(parts).strip()) < 3:
        return None
    return re.compile(".+?".join(re.escape(part) for part in parts))


def as_message(quote: str) -> re.Pattern:
    """A quote as a pattern over messages: a number in it may stand for a message's field."""
    pieces = re.split(r"(\d+(?:\.\d+)?)", quote)
    return re.compile(
        "".join(
            r"(?:\d+(?:\.\d+)?|\{[^{}]*\})" if i % 2 else re.escape(p) for i, p in enumerate(pieces)
        )
    )


def catalog_messages():
    for path in CATALOGS:
        with open(path, "rb") as handle:
            for message in read_po(handle):
                if message.id:
                    yield path.stem, message.id, message.string


def outputs(path) -> str:
    texts = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                texts.append(output["text"])
            for kind in ("text/plain", "text/html", "text/markdown"):
                texts.append(output.get("data", {}).get(kind, ""))
    return normal("\n".join(t if isinstance(t, str) else "".join(t) for t in texts))


def printed(quote: str, texts: list[str], messages: list[str]) -> bool:
    """Whether ``quote`` is part of a printed text, or holds or is part of a printed message."""
    if any(quote in text for text in texts):
        return True
    inside = as_message(quote)
    for message in messages:
        whole = pattern(message)
        if inside.search(normal(message)) or (whole is not None and whole.search(quote)):
            return True
    return False


def collect():
    """``(where, language, quote, quoting message)`` for every quote of the markdown cells and
    the catalogs (the message is None for a markdown cell)."""
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "markdown":
                for quote in quotes(cell.source):
                    yield f"{path.name} cell {index}", twin_language(cell) or "en", quote, None
    for domain, english, korean in catalog_messages():
        for quote in quotes(english):
            yield f"{domain}.po {english[:40]!r}", "en", quote, english
        for quote in quotes(korean):
            yield f"{domain}.po {english[:40]!r}", "ko", quote, korean


def test_every_quote_is_printed_or_named_as_a_quote_of_something_else():
    english_outputs = [outputs(path) for path in NOTEBOOKS]
    messages = list(catalog_messages())
    stale = []
    checked = 0
    for where, language, quote, quoting in collect():
        if quote in ALLOWED:
            continue
        checked += 1
        # a message does not vouch for what it quotes: another must print it
        side = 1 if language == "en" else 2
        vocabulary = [m[side] for m in messages if m[side] != quoting]
        texts = english_outputs if language == "en" else []
        if not printed(quote, texts, vocabulary):
            stale.append(f"{where} ({language}): {quote!r}")
    print(f"{checked} quotes of printed text found printed")
    assert stale == [], "quotes of text the workbook does not print:\n" + "\n".join(stale)


def test_the_check_finds_a_quote_of_a_line_no_longer_printed():
    messages = ["helps both", "hurts task {task}", "[ok] {title}"]
    assert printed("hurts task 2", [], messages)
    assert printed("[ok] Exercise 1", [], messages)
    assert printed("over 8 seeds", [], ["over {SEEDS} seeds:"])
    assert not printed("over 8 runs", [], ["over {SEEDS} seeds:", "{title}"])
    assert not printed("helps neither", [], messages)
    assert printed("with z beats without z", ["... with z beats without z on every task: True"], [])
    assert quotes('Neither is "right"; a "cpu" value; “둘 다 도움”') == ["둘 다 도움"]


@pytest.mark.parametrize("quote", sorted(ALLOWED))
def test_each_named_quote_is_still_quoted(quote):
    """An entry of :data:`NOT_PRINTED` that no text quotes any more is removed, not kept."""
    assert any(found == quote for _, _, found, _ in collect())
