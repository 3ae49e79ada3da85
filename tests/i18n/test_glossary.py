"""The README's glossary: each Korean term is introduced with its English term beside it, in the
Korean edition of the notebook the glossary names."""

import pathlib
import re

import nbformat
import pytest

from mtml_lib.i18n.editions import select_edition

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOMEWORK = ROOT / "notebooks" / "homework" / "source"


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


def test_the_glossary_covers_the_course():
    entries = glossary()
    assert len(entries) >= 50
    assert len({english for english, _, _ in entries}) == len(entries)
    for english in ("task", "negative transfer", "meta-training", "adaptation"):
        assert english in {e for e, _, _ in entries}


@pytest.mark.parametrize("english, korean, where", glossary(), ids=lambda v: str(v))
def test_each_term_is_introduced_with_its_english_beside_it(english, korean, where):
    assert f"{korean}({english})" in korean_prose(notebook_of(where))
