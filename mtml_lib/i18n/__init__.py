r"""The editions' languages: message catalogs for what the workbook says to a student.

Feedback (self-checks, predictions), widget labels and homework feedback are written in English in
the code and looked up in a catalog of the edition's language through Python's :mod:`gettext`
interface. A catalog is a ``.po`` file beside this module (``ko.po``): ``msgid`` the English text,
``msgstr`` its translation; ``{name}`` placeholders are filled after the lookup, so a translation
may reorder them. A message missing from a catalog falls back to English.

The language is chosen once per kernel: ``set_language("ko")`` (an edition's notebooks do it in
their parameters cell), or the environment variable ``MTML_LANG``.

Example:
    >>> set_language("ko")
    >>> translate("[ok] {title}").format(title="Exercise 1")
    '[통과] Exercise 1'
    >>> set_language("en")
    >>> translate("[ok] {title}").format(title="Exercise 1")
    '[ok] Exercise 1'
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import os
import pathlib
import re

__all__ = [
    "LANGUAGES",
    "N_",
    "check_language",
    "get_language",
    "language",
    "read_po",
    "set_language",
    "translate",
]

LANGUAGES = ("en", "ko")
_HERE = pathlib.Path(__file__).parent
_state = {"language": None}


def check_language(language: str, parameter: str = "language") -> str:
    if language not in LANGUAGES:
        raise ValueError(f"`{parameter}` must be one of {list(LANGUAGES)}; got {language!r}.")
    return language


def set_language(language: str) -> None:
    """Use ``language`` (one of :data:`LANGUAGES`) for every message from now on."""
    _state["language"] = check_language(language)


@contextlib.contextmanager
def language(value: str):
    """Use ``value`` inside a ``with`` block (the homework feedback of one course), then restore
    the language in use before."""
    before = _state["language"]
    set_language(value)
    try:
        yield
    finally:
        _state["language"] = before


def N_(message: str) -> str:  # noqa: N802 - gettext's name for it
    """Mark ``message`` for the catalog without translating it yet (a constant translated where it
    is shown)."""
    return message


def get_language() -> str:
    """The language in use: the last :func:`set_language`, else ``MTML_LANG``, else English."""
    if _state["language"] is None:
        _state["language"] = check_language(os.environ.get("MTML_LANG", "en"), "MTML_LANG")
    return _state["language"]


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(text: str, where: str) -> str:
    if not (len(text) >= 2 and text[0] == '"' and text[-1] == '"'):
        raise ValueError(f"{where}: expected a quoted string; got {text!r}.")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text[1:-1])


def read_po(path: str | os.PathLike) -> dict[str, str]:
    """The translated entries of a ``.po`` file, ``{msgid: msgstr}`` (the header and untranslated
    entries left out). Handles comments, multi-line strings and the usual escapes."""
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    key = None

    def flush() -> None:
        if current.get("msgid") and current.get("msgstr"):
            entries[current["msgid"]] = current["msgstr"]
        current.clear()

    for number, line in enumerate(pathlib.Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        where = f"{path}:{number}"
        if not line or line.startswith("#"):
            if not line and current:
                flush()
            continue
        if line.startswith(("msgid ", "msgstr ")):
            key, _, rest = line.partition(" ")
            if key == "msgid" and "msgstr" in current:
                flush()
            current[key] = _unquote(rest, where)
        elif line.startswith('"') and key is not None:
            current[key] += _unquote(line, where)
        else:
            raise ValueError(f"{where}: not a line of a .po file: {line!r}.")
    flush()
    return entries


class _Catalog(gettext.NullTranslations):
    def __init__(self, entries: dict[str, str]):
        super().__init__()
        self._entries = entries

    def gettext(self, message: str) -> str:
        return self._entries.get(message, message)


@functools.cache
def _catalog(language: str) -> gettext.NullTranslations:
    path = _HERE / f"{language}.po"
    return _Catalog(read_po(path)) if path.exists() else gettext.NullTranslations()


def translate(message: str) -> str:
    """``message`` in the language in use (English when the catalog lacks it)."""
    return _catalog(get_language()).gettext(message)
