"""The course folder: nbgrader's, with the homework of one edition.

A course folder holds ``nbgrader_config.py``, ``source/<assignment>/`` (the instructor's
notebooks, solutions and hidden tests inside), ``graders/`` (the trusted graders, never
released), and what nbgrader makes (``release/``, ``submitted/``, ``autograded/``,
``feedback/``, ``gradebook.db``). Its language is in ``edition.json`` beside the configuration
(``{"language": "ko"}``; none: English); the course's nbgrader configuration runs
:class:`mtml_lib.course.editions.nbgrader_preprocessor.SelectEdition` first when it generates an
assignment, so a release (and the gradebook's copy of every locked cell) holds that edition's text.

Nothing here knows where a checkout of the workbook is: the folder is an argument, the
``MTML_COURSE`` environment variable, or ``notebooks/homework`` under the working folder.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

from ..i18n import check_language

__all__ = [
    "CourseError",
    "assignments",
    "cell_timeout",
    "check_assignment",
    "code_stub",
    "course_language",
    "edition_course",
    "find_course",
    "nbgrader",
]

EDITION_FILE = "edition.json"
CONFIG_FILE = "nbgrader_config.py"
# What a release puts where a solution was, in each edition's language: the comment above the
# code stub, and a written answer's placeholder.
STUBS = {
    "en": {"code": "YOUR CODE HERE", "answer": "YOUR ANSWER HERE"},
    "ko": {"code": "여기에 코드를 쓰세요", "answer": "여기에 답을 쓰세요."},
}


def code_stub(language: str) -> dict[str, str]:
    """nbgrader's ``ClearSolutions.code_stub`` of ``language``'s edition."""
    return {"python": f"# {STUBS[check_language(language)]['code']}\nraise NotImplementedError()"}


class CourseError(RuntimeError):
    """A course operation that cannot go on; the message says why and what to do."""


def find_course(course: str | os.PathLike | None = None) -> pathlib.Path:
    """The nbgrader course folder: ``course``, else ``MTML_COURSE``, else
    ``./notebooks/homework``.

    Raises:
        CourseError: when none of them holds ``nbgrader_config.py``.
    """
    candidates = [course, os.environ.get("MTML_COURSE"), pathlib.Path.cwd() / "notebooks/homework"]
    for candidate in candidates:
        if candidate and (pathlib.Path(candidate) / CONFIG_FILE).exists():
            return pathlib.Path(candidate).resolve()
    tried = [str(c) for c in candidates if c]
    raise CourseError(
        f"no nbgrader course folder found (tried {tried}): pass --course or set MTML_COURSE "
        f"(a folder holding {CONFIG_FILE} and source/)."
    )


def assignments(course: pathlib.Path) -> list[str]:
    """The assignments of a course: the folders of ``source/``."""
    return sorted(p.name for p in (pathlib.Path(course) / "source").iterdir() if p.is_dir())


def check_assignment(course: pathlib.Path, assignment: str) -> str:
    """``assignment``, if the course has it.

    Raises:
        ValueError: naming the course's assignments.
    """
    known = assignments(course)
    if assignment not in known:
        raise ValueError(f"`assignment` must be one of {known}; got {assignment!r}.")
    return assignment


def _with_environment_bin() -> None:
    """Put this Python's script folder on PATH: nbgrader runs the `alembic` command when it
    creates a gradebook, and `.venv/bin/mtml` may be called without the environment activated."""
    scripts = str(pathlib.Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def nbgrader(
    course: pathlib.Path, *args: str, env: dict | None = None, quiet: bool = False
) -> None:
    """Run an nbgrader command in the course folder (its nbgrader_config.py applies).

    Raises:
        CourseError: when nbgrader fails (with the end of its error output when ``quiet``).
    """
    _with_environment_bin()
    command = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(
        command, cwd=course, env={**os.environ, **(env or {})}, capture_output=quiet, text=True
    )
    if result.returncode != 0:
        detail = (result.stderr or "")[-2000:] if quiet else ""
        raise CourseError(
            f"`nbgrader {' '.join(args)}` failed (exit {result.returncode}).\n{detail}"
        )


def cell_timeout(course: pathlib.Path) -> int:
    """The per-cell time limit of the course's autograder (``c.Execute.timeout``), in seconds."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG_FILE, path=str(course)).load_config()
    return int(config.Execute.timeout) if "timeout" in config.Execute else 30


def course_language(course: str | os.PathLike) -> str:
    """The language of a course folder's edition (English without ``edition.json``)."""
    path = pathlib.Path(course) / EDITION_FILE
    if not path.exists():
        return "en"
    return check_language(
        json.loads(path.read_text(encoding="utf-8"))["language"], f"{path}: language"
    )


def edition_course(
    course: str | os.PathLike, language: str, out: str | os.PathLike
) -> pathlib.Path:
    """Write the ``language`` edition's course folder at ``out``: the configuration, the graders
    and the sources of ``course`` (translations inside), with ``edition.json``. Grading state
    already in ``out`` (submissions, gradebook) is kept; the sources are replaced."""
    check_language(language)
    course, out = pathlib.Path(course), pathlib.Path(out)
    if out.resolve() == course.resolve():
        raise ValueError(f"`out` must differ from the source course folder; got {str(out)!r}.")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(course / CONFIG_FILE, out / CONFIG_FILE)
    for folder in ("graders", "source"):
        shutil.rmtree(out / folder, ignore_errors=True)
        shutil.copytree(
            course / folder, out / folder, ignore=shutil.ignore_patterns("reference", "__pycache__")
        )
    (out / EDITION_FILE).write_text(json.dumps({"language": language}) + "\n", encoding="utf-8")
    return out
