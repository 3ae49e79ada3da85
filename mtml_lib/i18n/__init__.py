r"""The editions' languages: message catalogs for what the workbook says to a student.

Feedback (self-checks, predictions), widget labels and homework feedback are written in English in
the code and looked up with Python's :mod:`gettext` in the catalog of the edition's language:
``locale/<language>/LC_MESSAGES/mtml.po`` beside this module (``msgid`` the English text,
``msgstr`` its translation), compiled to the ``mtml.mo`` gettext reads (``python
tools/catalog.py`` extracts the messages from the code and compiles the catalogs with Babel; the
tests check that the compiled catalog is current). ``{name}`` placeholders are filled after the
lookup, so a translation may reorder them. A message missing from a catalog falls back to English.

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

__all__ = [
    "LANGUAGES",
    "N_",
    "check_language",
    "get_language",
    "language",
    "set_language",
    "shown",
    "translate",
    "translate_to",
    "translator",
]

LANGUAGES = ("en", "ko")
DOMAIN = "mtml"
LOCALE_DIR = pathlib.Path(__file__).parent / "locale"
_state = {"language": None}


def check_language(language: str, parameter: str = "language") -> str:
    if language not in LANGUAGES:
        raise ValueError(f"`{parameter}` must be one of {list(LANGUAGES)}; got {language!r}.")
    return language


def set_language(language: str) -> None:
    """Use ``language`` (one of :data:`LANGUAGES`) for every message from now on, and draw the
    figures with a font for its script (:mod:`mtml_lib.i18n.fonts`)."""
    _state["language"] = check_language(language)
    from .fonts import use_fonts_for

    use_fonts_for(language)


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


@functools.cache
def _catalog(
    language: str, domain: str = DOMAIN, locale_dir: str = str(LOCALE_DIR)
) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English: none, every message is its own text)."""
    return gettext.translation(domain, locale_dir, languages=[language], fallback=True)


def translate(message: str) -> str:
    """``message`` in the language in use (English when the catalog lacks it)."""
    return _catalog(get_language()).gettext(message)


def translate_to(language_code: str, message: str) -> str:
    """``message`` in ``language_code``, leaving the language in use (and the figures' fonts)
    as they are: for a process that writes another edition's text and draws nothing."""
    return _catalog(check_language(language_code)).gettext(message)


def shown(text: str) -> str:
    """``text``, unchanged: marks a string a notebook shows where no call shows it directly (the
    labels of a dict it loops over, say), so that an edition translates it like a title or a
    printed line (:mod:`mtml_lib.course.editions.code_cells`)."""
    return text


def translator(locale_dir: str | os.PathLike, domain: str):
    """A :func:`translate` for another catalog, ``locale_dir/<language>/LC_MESSAGES/<domain>.mo``
    (the course's graders keep theirs in the course folder, never in the library), in the
    language in use at each call."""
    folder = str(pathlib.Path(locale_dir).resolve())

    def translate_in(message: str) -> str:
        return _catalog(get_language(), domain, folder).gettext(message)

    return translate_in
