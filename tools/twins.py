"""Translations of the notebooks' markdown cells ("twins", see mtml_lib.course.editions.twins).

    python tools/twins.py status                       # per notebook: translated, missing, stale
    python tools/twins.py export NB [--lang ko]        # the cells to translate, as a text file
    python tools/twins.py import NB FILE [--lang ko]   # put the translations of FILE in NB
    python tools/twins.py rehash NB CELL... [--lang ko]  # a reviewed twin is current again

The text file has one block per English markdown cell, headed ``=== N`` where N is the cell's
position among the notebook's English markdown cells (0, 1, ...), followed by its text. ``export``
writes the English text of the cells whose twin is missing or stale (with ``--all``, of every
cell); replace it with the translation and ``import`` the file. Without arguments, ``status``
covers every notebook of the workbook and both homeworks.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtml_lib.course.editions.twins import KEY, is_current, make_twin, source_hash, twins  # noqa: E402

_HEAD = re.compile(r"^=== (\d+)\s*$", re.MULTILINE)


def notebooks() -> list[pathlib.Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
        (ROOT / "notebooks" / "homework" / "source").glob("*/*.ipynb")
    )


def _state(notebook, language):
    """``[(ordinal, cell index, twin index or None, current?)]`` for every English cell."""
    rows = []
    for ordinal, (index, group) in enumerate(twins(notebook)):
        twin = group.get(language)
        current = twin is not None and is_current(notebook.cells, index, twin)
        rows.append((ordinal, index, twin, current))
    return rows


def status(paths: list[pathlib.Path], language: str) -> None:
    print(f"{'notebook':<46} {'markdown':>8} {'current':>8} {'stale':>6} {'missing':>8}")
    totals = [0, 0, 0, 0]
    for path in paths:
        rows = _state(nbformat.read(path, as_version=4), language)
        counts = [
            len(rows),
            sum(r[3] for r in rows),
            sum(r[2] is not None and not r[3] for r in rows),
            sum(r[2] is None for r in rows),
        ]
        totals = [a + b for a, b in zip(totals, counts)]
        print(f"{path.relative_to(ROOT).as_posix():<46} " + " ".join(f"{c:>8}" for c in counts))
    print(f"{'all':<46} " + " ".join(f"{c:>8}" for c in totals))


def export(path: pathlib.Path, language: str, every: bool) -> None:
    notebook = nbformat.read(path, as_version=4)
    for ordinal, index, _, current in _state(notebook, language):
        if every or not current:
            print(f"=== {ordinal}\n{notebook.cells[index].source}\n")


def parse(text: str) -> dict[int, str]:
    heads = list(_HEAD.finditer(text))
    return {
        int(head.group(1)): text[head.end() : heads[i + 1].start() if i + 1 < len(heads) else None]
        for i, head in enumerate(heads)
    }


def import_(path: pathlib.Path, file: pathlib.Path, language: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    blocks = parse(file.read_text(encoding="utf-8"))
    rows = _state(notebook, language)
    unknown = sorted(set(blocks) - {r[0] for r in rows})
    if unknown:
        raise SystemExit(f"{file}: no English markdown cell {unknown} in {path}")
    # from the end, so inserting a cell leaves the earlier indices valid
    for ordinal, index, twin, _ in reversed(rows):
        if ordinal not in blocks:
            continue
        cell = make_twin(notebook.cells[index], language, blocks[ordinal])
        if twin is None:
            notebook.cells.insert(index + 1, cell)
        else:
            notebook.cells[twin] = cell
    nbformat.write(notebook, path)
    print(f"{path}: {len(blocks)} {language} twin(s) written")


def rehash(path: pathlib.Path, ordinals: list[int], language: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    for ordinal, index, twin, _ in _state(notebook, language):
        if ordinal in ordinals and twin is not None:
            notebook.cells[twin].metadata[KEY]["source_hash"] = source_hash(
                notebook.cells[index].source
            )
    nbformat.write(notebook, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["status", "export", "import", "rehash"])
    parser.add_argument("notebook", nargs="?", type=pathlib.Path)
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--lang", default="ko")
    parser.add_argument("--all", action="store_true", help="export: every cell")
    args = parser.parse_args()
    if args.command == "status":
        status([args.notebook] if args.notebook else notebooks(), args.lang)
    elif args.notebook is None:
        parser.error(f"{args.command} needs a notebook")
    elif args.command == "export":
        export(args.notebook, args.lang, args.all)
    elif args.command == "import":
        import_(args.notebook, pathlib.Path(args.rest[0]), args.lang)
    else:
        rehash(args.notebook, [int(n) for n in args.rest], args.lang)


if __name__ == "__main__":
    main()
