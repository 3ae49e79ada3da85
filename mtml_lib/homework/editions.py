"""The homework in each edition's language, through nbgrader.

A course folder's language is in ``edition.json`` beside its ``nbgrader_config.py``
(``{"language": "ko"}``; none: English). The course's nbgrader configuration runs
:class:`mtml_lib.homework.nbgrader_edition.SelectEdition` first when it generates an assignment,
so the release (and the gradebook's copy of every locked cell) holds that edition's text, and the
feedback of ``mtml autograde`` speaks it. :func:`edition_course` writes the course folder of an
edition from the source course.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil

from ..i18n import check_language

__all__ = ["course_language", "edition_course"]

EDITION_FILE = "edition.json"


def course_language(course: str | os.PathLike) -> str:
    """The language of a course folder's edition (English without ``edition.json``)."""
    path = pathlib.Path(course) / EDITION_FILE
    if not path.exists():
        return "en"
    return check_language(json.loads(path.read_text())["language"], f"{path}: language")


def edition_course(
    course: str | os.PathLike, language: str, out: str | os.PathLike
) -> pathlib.Path:
    """Write the ``language`` edition's course folder at ``out``: the configuration, the graders
    and the sources of ``course`` (translations inside), with ``edition.json``. Grading state
    already in ``out`` (submissions, gradebook) is kept; the sources are replaced."""
    check_language(language)
    course, out = pathlib.Path(course), pathlib.Path(out)
    if out.resolve() == course.resolve():
        raise ValueError(f"`out` must differ from the source course folder; got {out}.")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(course / "nbgrader_config.py", out / "nbgrader_config.py")
    for folder in ("graders", "source"):
        shutil.rmtree(out / folder, ignore_errors=True)
        shutil.copytree(
            course / folder, out / folder, ignore=shutil.ignore_patterns("reference", "__pycache__")
        )
    (out / EDITION_FILE).write_text(json.dumps({"language": language}) + "\n")
    return out
