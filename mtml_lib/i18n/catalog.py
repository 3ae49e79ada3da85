"""The messages the catalogs must hold, found in the code, and ``.po`` files written back.

A message is the first argument, a string literal, of a call to ``_`` (the modules import
:func:`mtml_lib.i18n.translate` under that name), ``translate`` or ``N_`` (marked for the catalog,
translated where it is shown). ``python tools/catalog.py`` adds new messages to ``ko.po`` with an
empty translation and lists the ones no code uses any more; the tests require every message to be
translated and every placeholder kept.
"""

from __future__ import annotations

import ast
import os
import pathlib
import string

__all__ = ["MARKERS", "extract", "placeholders", "write_po"]

MARKERS = ("_", "translate", "N_")


def extract(paths: list[pathlib.Path], root: pathlib.Path) -> dict[str, list[str]]:
    """``{message: [path, ...]}`` for every marked message in the Python files ``paths``."""
    found: dict[str, list[str]] = {}
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in MARKERS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                where = path.relative_to(root).as_posix()
                places = found.setdefault(node.args[0].value, [])
                if where not in places:
                    places.append(where)
    return found


def placeholders(message: str) -> set[str]:
    """The ``{name}`` fields of a message (format specs left out)."""
    return {field for _, field, _, _ in string.Formatter().parse(message) if field is not None}


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    lines = escaped.split("\n")
    parts = [line + "\\n" for line in lines[:-1]] + [lines[-1]]
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return f'"{parts[0] if parts else ""}"'
    return '""\n' + "\n".join(f'"{p}"' for p in parts)


def write_po(
    path: str | os.PathLike,
    language: str,
    header: str,
    entries: list[tuple[str, str, list[str]]],
) -> None:
    """Write ``entries`` (message, translation, locations) after the comment ``header``."""
    blocks = [
        header.rstrip("\n")
        + '\nmsgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        + f'"Language: {language}\\n"'
    ]
    for message, translation, locations in entries:
        comment = "".join(f"#: {where}\n" for where in locations)
        blocks.append(f"{comment}msgid {_quote(message)}\nmsgstr {_quote(translation)}")
    pathlib.Path(path).write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
