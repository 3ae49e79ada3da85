"""One source, two editions: translated markdown cells live beside the English ones.

Every English markdown cell of a notebook is followed by its translations ("twins"): markdown
cells whose metadata names their language and the hash of the English source they translate::

    {"mtml": {"lang": "ko", "source_hash": "3f2a..."}}

A change to an English cell makes its twin stale (the hash no longer matches), which the tests
report until the translation is updated and re-hashed (``python tools/twins.py rehash``). Code
cells are shared: an edition differs from the source in its markdown, in one code line,
``LANGUAGE = "en"`` in the parameters (or setup) cell, which selects the language of the
messages (:func:`mtml_lib.i18n.set_language`), and in what a student reads in the code and no
program reads: its comments and the text it prints and draws
(:mod:`mtml_lib.course.editions.code_cells`, from a catalog kept beside the notebooks).

:func:`select_edition` builds an edition: for English it drops the twins; for another language
each English cell takes its twin's text (keeping its own metadata, so nbgrader's grade ids and
locks stay) and the twin is dropped.
"""

from __future__ import annotations

import copy
import hashlib
import re

from ...i18n import LANGUAGES, check_language
from .code_cells import MissingTranslation, translated

__all__ = [
    "KEY",
    "TRANSLATED",
    "language_line",
    "is_current",
    "make_twin",
    "problems",
    "select_edition",
    "source_hash",
    "twin_language",
    "twins",
]

KEY = "mtml"
TRANSLATED = tuple(language for language in LANGUAGES if language != "en")
_LANGUAGE_LINE = re.compile(r'^LANGUAGE = "en"(?=\s|$)', re.MULTILINE)


def source_hash(text: str) -> str:
    """The hash a twin stores of the English source it translates."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _text(cell) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def twin_language(cell) -> str | None:
    """The language of a translated cell; ``None`` for a source (English) cell."""
    return cell.get("metadata", {}).get(KEY, {}).get("lang")


def make_twin(english_cell, language: str, text: str) -> dict:
    """A ``language`` twin of ``english_cell`` holding ``text``."""
    check_language(language)
    if language == "en":
        raise ValueError("`language` of a twin must not be 'en' (English is the source).")
    import nbformat

    cell = nbformat.v4.new_markdown_cell(text.strip("\n"))
    cell.metadata[KEY] = {"lang": language, "source_hash": source_hash(_text(english_cell))}
    return cell


def twins(notebook) -> list[tuple[int, dict[str, int]]]:
    """``[(index of an English markdown cell, {language: index of its twin})]``: the twins are
    the translated cells right after it."""
    found: list[tuple[int, dict[str, int]]] = []
    for index, cell in enumerate(notebook["cells"]):
        language = twin_language(cell)
        if language is None:
            if cell["cell_type"] == "markdown":
                found.append((index, {}))
        elif found and index - found[-1][0] == len(found[-1][1]) + 1:
            found[-1][1].setdefault(language, index)
    return found


def is_current(cells, index: int, twin: int) -> bool:
    """Does the twin at ``twin`` translate the English cell at ``index`` as it is now?"""
    return cells[twin]["metadata"][KEY].get("source_hash") == source_hash(_text(cells[index]))


def problems(notebook, languages: tuple[str, ...] = TRANSLATED) -> list[str]:
    """What keeps the notebook's editions from being complete and current: missing, stale,
    orphan or duplicate twins, and code cells without the one language line."""
    cells = notebook["cells"]
    found = twins(notebook)
    placed = {i for _, group in found for i in group.values()}
    issues = []
    for index, cell in enumerate(cells):
        language = twin_language(cell)
        if language is not None and index not in placed:
            issues.append(f"cell {index}: an orphan or duplicate {language!r} twin")
        if language is not None and cell["cell_type"] != "markdown":
            issues.append(f"cell {index}: a {cell['cell_type']} cell marked as a twin")
    for index, group in found:
        for language in languages:
            if language not in group:
                issues.append(f"cell {index}: no {language!r} twin")
            elif not is_current(cells, index, group[language]):
                issues.append(
                    f"cell {group[language]}: the {language!r} twin of cell {index} is stale "
                    "(the English cell changed since it was translated)"
                )
    lines = sum(len(_LANGUAGE_LINE.findall(_text(c))) for c in cells if c["cell_type"] == "code")
    if lines != 1:
        issues.append(f'the code cells hold {lines} `LANGUAGE = "en"` lines; expected exactly 1')
    return issues


def language_line(language: str) -> str:
    """The code line that selects ``language`` in an edition."""
    return f'LANGUAGE = "{check_language(language)}"'


def _translated_code(cell, index: int, code, strict: bool) -> str:
    try:
        return translated(_text(cell), code)
    except MissingTranslation as error:
        if strict:
            raise ValueError(f"code cell {index}: {error} (python tools/catalog.py)") from None
        return _text(cell)


def select_edition(notebook, language: str, *, strict: bool = True, code=None):
    """A copy of ``notebook`` in ``language``: twins resolved and dropped, the language line set,
    and with ``code`` (a message's translation or ``None``: see
    :func:`mtml_lib.course.editions.code_cells.catalog`) the comments and the shown text of its
    code cells translated.

    With ``strict``, a missing or stale twin, or a code message ``code`` does not translate, is an
    error naming the cell; otherwise that cell stays English.
    """
    check_language(language)
    edition = copy.deepcopy(notebook)
    cells = edition["cells"]
    if language != "en":
        for index, group in twins(edition):
            stale = language in group and not is_current(cells, index, group[language])
            if strict and (language not in group or stale):
                what = "is stale" if stale else "is missing"
                raise ValueError(
                    f"the {language!r} translation of markdown cell {index} {what}: "
                    f"{_text(cells[index])[:60]!r}"
                )
            if language in group and not stale:
                cells[index]["source"] = _text(cells[group[language]])
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                cell["source"] = _LANGUAGE_LINE.sub(language_line(language), _text(cell))
                if code is not None:
                    cell["source"] = _translated_code(cell, index, code, strict)
    edition["cells"] = [cell for cell in cells if twin_language(cell) is None]
    edition.setdefault("metadata", {})[KEY] = {"edition": language}
    return edition
