"""Collecting homework: from nbgrader's exchange (a class's hub) or from a folder of submissions
(uploads, the archives ``mtml check`` writes), into the course folder's ``submitted/``."""

from __future__ import annotations

import datetime
import json
import pathlib
import shutil
import zipfile

from .folder import CourseError, nbgrader

__all__ = ["collect", "collect_exchange"]


def collect_exchange(course: pathlib.Path, assignment: str) -> dict[str, str]:
    """Collect ``assignment`` from nbgrader's exchange into ``submitted/`` (each student's latest
    submission; one in another's name is refused, :class:`mtml_lib.course.exchange.OwnedCollect`).

    Returns:
        each collected student's time of submission, in UTC, with how late it was.
    """
    from nbgrader.utils import parse_utc

    from .deadline import deadline_of
    from .exchange import STAMP_FORMAT

    nbgrader(course, "collect", assignment, "--update")
    due = deadline_of(course, assignment)
    times = {}
    for stamp in sorted((course / "submitted").glob(f"*/{assignment}/timestamp.txt")):
        made = parse_utc(stamp.read_text(encoding="utf-8").strip())
        late = (made - due.replace(tzinfo=None)).total_seconds() if due else 0.0
        status = f"late by {datetime.timedelta(seconds=round(late))}" if late > 0 else "on time"
        times[stamp.parent.parent.name] = f"{made.strftime(STAMP_FORMAT)} ({status})"
    return times


def collect(course: pathlib.Path, assignment: str, folder: pathlib.Path) -> dict[str, str]:
    """Copy submissions into ``submitted/<student>/<assignment>/``: from
    ``folder/<student>/*.ipynb``, from ``folder/<student>.zip`` or from the archive
    ``mtml check`` writes, ``folder/<assignment>-<student>.zip`` (the notebooks anywhere inside
    an archive).

    Returns:
        each student's release: the stamp ``mtml workbook`` put in the submitted notebooks
        (course version, edition, date, release id), so a submission made on an old handout
        shows, or ``"no release stamp"``.
    """
    if not folder.is_dir():
        raise CourseError(f"folder must be a folder of submissions; got {str(folder)!r}")
    students = {}
    for entry in sorted(folder.iterdir()):
        student = entry.stem if entry.suffix == ".zip" else entry.name
        student = student.removeprefix(f"{assignment}-") if entry.suffix == ".zip" else student
        if not (entry.is_dir() or entry.suffix == ".zip"):
            continue
        target = course / "submitted" / student / assignment
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        if entry.suffix == ".zip":
            with zipfile.ZipFile(entry) as archive:
                for name in archive.namelist():
                    if name.endswith(".ipynb") and "__MACOSX" not in name:
                        (target / pathlib.Path(name).name).write_bytes(archive.read(name))
        else:
            for notebook in sorted(entry.rglob("*.ipynb")):
                shutil.copy(notebook, target / notebook.name)
        students[student] = _release_of(sorted(target.glob("*.ipynb")))
    return students


def _release_of(notebooks: list[pathlib.Path]) -> str:
    stamps = set()
    for notebook in notebooks:
        try:
            info = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["mtml"]["release"]
            stamps.add(f"{info['version']} {info['edition']} {info['released']} {info['release']}")
        except (ValueError, KeyError, TypeError):
            stamps.add("no release stamp")
    return ", ".join(sorted(stamps)) or "no notebook"
