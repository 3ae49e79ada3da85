"""Keep the message catalogs in step with the code, with Babel (pybabel's extract, update and
compile, in one command).

    python tools/catalog.py            # extract, update every catalog, compile the .mo files
    python tools/catalog.py --check    # only report (exit 1 when a catalog is behind)

Four catalogs:

* the library's (``mtml``, in ``mtml_lib/i18n/locale/``, shipped with the library to students):
  the first argument, a string literal, of a call to ``_`` (modules import a translate function
  under that name), ``translate`` or ``N_`` (marked for the catalog, translated where it is
  shown);
* the graders' (``graders``, in ``notebooks/homework/graders/locale/``, which stays in the course
  folder with the graders: their feedback says what the hidden checks look at);
* the labs' code (``labs``, in ``notebooks/locale/``) and the homework's code (``homework``, in
  the graders' folder: it holds the hidden tests' messages): the comments of the code cells and
  the text they print and draw, outside solution blocks, translated when an edition is built
  (:mod:`mtml_lib.course.editions.code_cells`).

A new message gets an empty translation, which the tests reject until it is translated; a message
no code uses any more is dropped from the catalog.
"""

from __future__ import annotations

import argparse
import datetime
import io
import pathlib
import sys

import nbformat
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtml_lib.course.editions import code_cells as code_messages  # noqa: E402
from mtml_lib.i18n import DOMAIN, LANGUAGES, LOCALE_DIR  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
GRADERS = NOTEBOOKS / "homework" / "graders"
KEYWORDS = {"_": None, "translate": None, "N_": None}


def labs() -> list[pathlib.Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def homework() -> list[pathlib.Path]:
    return sorted((NOTEBOOKS / "homework" / "source").glob("*/*.ipynb"))


def code_cells(paths):
    """``(where, source)`` of every code cell of ``paths``."""
    for path in paths:
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code":
                yield f"{path.relative_to(ROOT).as_posix()}:{index}", cell.source


def from_python(paths):
    for path in paths:
        where = path.relative_to(ROOT).as_posix()
        for lineno, message, _comments, _context in extract_from_file(
            "python", str(path), keywords=KEYWORDS
        ):
            yield where, lineno, message


def from_code(paths):
    """The comments of code cells and the text they show
    (:mod:`mtml_lib.course.editions.code_cells`)."""
    for where, source in code_cells(paths):
        for message in code_messages.messages(source):
            yield where, 0, message


# domain -> (the folder of its catalogs, its messages as (where, line, message))
CATALOGS = {
    DOMAIN: (LOCALE_DIR, lambda: from_python(sorted((ROOT / "mtml_lib").rglob("*.py")))),
    "graders": (GRADERS / "locale", lambda: from_python(sorted(GRADERS.glob("*.py")))),
    "labs": (NOTEBOOKS / "locale", lambda: from_code(labs())),
    "homework": (GRADERS / "locale", lambda: from_code(homework())),
}
FIXED_DATE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
HEADER = (
    "# {language} catalog of mtml-workbook: what the workbook says to a student (self-checks,\n"
    "# predictions, widget labels, homework feedback). msgid: the English text in the code;\n"
    "# msgstr: its translation, every {{placeholder}} kept. Kept in step by tools/catalog.py.\n"
    "# Register: the lecture notes' Korean sentences, keeping the field's English terms."
)


def template(domain: str = DOMAIN) -> Catalog:
    """Every marked message of the code of ``domain``, with where it is used."""
    catalog = Catalog(domain=domain, project="mtml-workbook", charset="utf-8")
    for where, lineno, message in CATALOGS[domain][1]():
        if message in catalog:
            catalog[message].locations.append((where, lineno))
        else:
            catalog.add(message, locations=[(where, lineno)])
    return catalog


def po_path(language: str, domain: str = DOMAIN) -> pathlib.Path:
    return CATALOGS[domain][0] / language / "LC_MESSAGES" / f"{domain}.po"


def load(language: str, domain: str = DOMAIN) -> Catalog:
    if not po_path(language, domain).exists():
        return Catalog(locale=language, domain=domain)
    with po_path(language, domain).open("rb") as file:
        return read_po(file, locale=language, domain=domain)


def compiled(catalog: Catalog) -> bytes:
    """The .mo file of a catalog (translated, non-fuzzy entries), as gettext reads it; the same
    bytes for the same catalog (no dates in its header)."""
    catalog.project, catalog.version = "mtml-workbook", ""
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def save(language: str, catalog: Catalog, domain: str = DOMAIN) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_lineno=False, omit_header=True)
    text = HEADER.format(language=language) + "\n" + _header_entry(language) + "\n"
    path = po_path(language, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + buffer.getvalue().decode("utf-8"), encoding="utf-8")
    path.with_suffix(".mo").write_bytes(compiled(load(language, domain)))


def _header_entry(language: str) -> str:
    return (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        f'"Language: {language}\\n"\n'
    )


def update(domain: str, language: str, *, check: bool) -> bool:
    """Bring one catalog in step with its code; returns whether it was behind."""
    messages = template(domain)
    catalog = load(language, domain)
    unused = [m.id for m in catalog if m.id and m.id not in messages]
    catalog.update(messages, no_fuzzy_matching=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    path = po_path(language, domain)
    print(
        f"{path.relative_to(ROOT)}: {len(messages)} messages, "
        f"{len(missing)} untranslated, {len(unused)} no longer used"
    )
    for message in missing + unused:
        print(f"  {'unused' if message in unused else 'untranslated'}: {message[:70]!r}")
    mo = path.with_suffix(".mo")
    stale = not mo.exists() or compiled(catalog) != mo.read_bytes()
    if not check:
        catalog.obsolete.clear()
        save(language, catalog, domain)
    return bool(missing or unused) or stale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report only")
    args = parser.parse_args()
    behind = False
    for domain in CATALOGS:
        for language in LANGUAGES:
            if language != "en":  # English is the code's own text
                behind = update(domain, language, check=args.check) or behind
    sys.exit(1 if args.check and behind else 0)


if __name__ == "__main__":
    main()
