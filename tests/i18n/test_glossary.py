"""The README's glossary is the Korean edition's one scheme of terms: each Korean term is introduced
with its English term beside it in the Korean edition of the notebook the glossary names; a
glossary term written in English elsewhere in Korean prose must carry its Korean form; and the
renderings the scheme replaced (training is 훈련 and learning 학습, so meta-training is 메타 훈련
and meta-learning 메타 학습) appear nowhere a Korean student reads."""

import pathlib
import re

import nbformat
import pytest

from mtml_lib.course.editions.twins import select_edition

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOMEWORK = ROOT / "notebooks" / "homework" / "source"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(HOMEWORK.glob("*/*.ipynb"))
CATALOGS = sorted(ROOT.glob("**/locale/ko/LC_MESSAGES/*.po"))
# Renderings the scheme replaced, with the term that replaced each.
REPLACED = {
    "메타러닝": "메타 학습 (meta-learning)",
    "메타 러닝": "메타 학습 (meta-learning)",
    "트레이닝": "훈련 (training)",
    "공유 하단": "shared-bottom 구조 (shared bottom)",
    "반폭": "반너비 (half-width)",
    "손 채점": "수동 채점 (hand grading)",
    "새어 나간": "누출된 (leaked)",
    "배치(layout)": "레이아웃 (layout; 배치 is a batch)",
}


def glossary() -> list[tuple[str, str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("**Glossary (용어집).**", 1)[1].split("\n\n", 2)[1]
    rows = [line.strip("|").split("|") for line in table.splitlines()[2:]]
    return [tuple(cell.strip() for cell in row) for row in rows]


def notebook_of(where: str) -> pathlib.Path:
    if re.fullmatch(r"\d\d", where):
        (path,) = (ROOT / "notebooks").glob(f"{where}_*.ipynb")
        return path
    if where == "appendix":
        return ROOT / "notebooks" / "appendix_kernels.ipynb"
    (path,) = HOMEWORK.glob(f"{where.lower()}_*/*.ipynb")
    return path


def korean_prose(path: pathlib.Path) -> str:
    edition = select_edition(nbformat.read(path, as_version=4), "ko")
    return "\n".join(c.source for c in edition.cells if c.cell_type == "markdown")


def readable(text: str) -> str:
    """Prose without what is not prose: code spans and blocks, maths, links' targets."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    return re.sub(r"\]\([^)]*\)", "]", text)


GLOSS = re.compile(r"(?<=[\uac00-\ud7a3*])\s?\([^()]*\)")


def introduced(korean: str, english: str) -> str:
    """How a term is introduced: ``한국어(English)``, or the Korean form alone where it keeps the
    English words (``shared-bottom 구조``)."""
    kept = english.replace(" ", "-").lower() in korean.lower()
    return korean if kept else f"{korean}({english})"


def test_the_glossary_covers_the_course():
    entries = glossary()
    assert len(entries) >= 50
    assert len({english for english, _, _ in entries}) == len(entries)
    for english in ("task", "negative transfer", "meta-training", "adaptation", "training"):
        assert english in {e for e, _, _ in entries}


@pytest.mark.parametrize("english, korean, where", glossary(), ids=lambda v: str(v))
def test_each_term_is_introduced_with_its_english_beside_it(english, korean, where):
    assert introduced(korean, english) in korean_prose(notebook_of(where))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_glossary_term_in_english_carries_its_korean_form(path):
    """Outside code and maths, an English glossary term in the Korean prose stands in brackets
    right after its Korean form: ``부정적 전이(negative transfer)``."""
    # a gloss, "한국어(English ...)", is where the English belongs
    prose = GLOSS.sub("", readable(korean_prose(path)))
    bare = [
        (english, prose[max(0, match.start() - 30) : match.end() + 10])
        for english, _korean, _where in glossary()
        for match in re.finditer(rf"(?<![\w-]){re.escape(english)}(?![\w-])", prose, re.I)
    ]
    assert not bare, bare


@pytest.mark.parametrize("path", NOTEBOOKS + CATALOGS, ids=lambda p: p.name)
def test_no_replaced_rendering_is_left(path):
    if path.suffix == ".po":
        text = "".join(
            re.findall(
                r'^msgstr "(.*)"$|^"(.*)"$', path.read_text(encoding="utf-8"), re.M
            ).__str__()
        )
    else:
        text = (
            korean_prose(path) if "locale" not in path.parts else path.read_text(encoding="utf-8")
        )
    found = {old: new for old, new in REPLACED.items() if old in text}
    assert not found, found
