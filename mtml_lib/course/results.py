"""What graded homework gives back: the grade table (the course's CSV, or the grade import file
of Canvas or Moodle) and each student's feedback."""

from __future__ import annotations

import json
import os
import pathlib

from .folder import CourseError, nbgrader

__all__ = ["export_grades", "feedback"]


def export_grades(
    course: pathlib.Path,
    out: str | os.PathLike,
    *,
    format: str = "csv",
    roster: str | os.PathLike | None = None,
    columns: dict[str, str] | None = None,
) -> pathlib.Path:
    """The grade table at ``out``: the course's CSV, or the grade import file of Canvas or
    Moodle (:mod:`mtml_lib.course.lms`, through ``nbgrader export``); ``roster`` maps students
    to their LMS ids, ``columns`` assignments to the titles of their LMS columns."""
    from .lms import FORMATS

    if format not in FORMATS:
        raise CourseError(f"format must be one of {list(FORMATS)}; got {format!r}.")
    exporter = {
        "csv": "nbgrader.plugins.CsvExportPlugin",  # nbgrader's own table
        "course": "mtml_lib.course.lms.CourseCsvExport",
        "canvas": "mtml_lib.course.lms.CanvasExport",
        "moodle": "mtml_lib.course.lms.MoodleExport",
    }
    name = exporter[format].rsplit(".", 1)[1]
    if format == "csv" and (roster is not None or columns):
        raise CourseError("roster and columns are for --format canvas, moodle or course.")
    out = pathlib.Path(out).resolve()
    arguments = [f"--exporter={exporter[format]}", f"--to={out}"]
    if roster is not None:
        arguments.append(f"--{name}.roster={pathlib.Path(roster).resolve()}")
    if columns:
        arguments.append(f"--{name}.columns={json.dumps(columns)}")
    nbgrader(course, "export", *arguments)
    return out


def feedback(course: pathlib.Path, assignment: str, *, exchange: bool = False) -> pathlib.Path:
    """HTML feedback for every graded submission of ``assignment``, in ``course/feedback``;
    with ``exchange``, released to nbgrader's exchange too, where each student fetches their own
    (``nbgrader fetch_feedback``, or Fetch Feedback in JupyterLab)."""
    nbgrader(course, "generate_feedback", assignment, "--force")
    if exchange:
        nbgrader(course, "release_feedback", assignment)
    return course / "feedback"
