"""The grade table where courses keep grades: Canvas's and Moodle's grade import files, and the
course's own CSV.

Each format is an nbgrader export plugin (``nbgrader export --exporter
mtml_lib.course.lms.CanvasExport``); ``mtml grades --format canvas|moodle|csv`` runs them. Every
format reads the same scores: a submission's points (the trusted re-grade's and the hand-graded
ones), less its late penalty, never below zero; 0 for a student who submitted nothing. A
submission whose written answers are not graded yet has **no** grade in the LMS files (an empty
cell, which both platforms leave as it was) and the command names it, so that a partial score
is never imported as a final one.

**Who is who in the LMS** comes from the roster (the class's ``roster.csv``, the hub's file),
with these optional columns beside ``username`` and ``role``:

=============  ==========================================  ===================================
column         Canvas column                               Moodle column
=============  ==========================================  ===================================
``name``       Student ("Last, First")                     First name, Last name
``lms_id``     ID (Canvas's user id)                       (not in Moodle's file)
``sis_id``     SIS User ID                                 ID number
``login``      SIS Login ID (default: ``username``)        Username (default: ``username``)
``email``      (not in Canvas's file)                      Email address
``section``    Section                                     (not in Moodle's file)
=============  ==========================================  ===================================

Without a roster, the gradebook's students are exported with their nbgrader id as the login.
With one, its students are exported (those who submitted nothing with 0), and a student of the
gradebook who is not on it is an error: an LMS skips a row it cannot match.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import pathlib
import re

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Unicode

__all__ = [
    "FORMATS",
    "Person",
    "read_people",
    "grade_table",
    "CanvasExport",
    "MoodleExport",
    "CourseCsvExport",
]

FORMATS = ("csv", "course", "canvas", "moodle")
#: the roster's optional columns for the LMS
LMS_COLUMNS = ("name", "lms_id", "sis_id", "login", "email", "section")
CANVAS_HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_HEADER = ("First name", "Last name", "ID number", "Username", "Email address")
# Canvas fills an existing assignment from a column titled "Its name (its id)"
_CANVAS_COLUMN = re.compile(r".+ \(\d+\)")


@dataclasses.dataclass(frozen=True)
class Person:
    """A student as the LMS knows them (see the module's table)."""

    username: str
    first_name: str = ""
    last_name: str = ""
    lms_id: str = ""
    sis_id: str = ""
    login: str = ""
    email: str = ""
    section: str = ""

    @property
    def display(self) -> str:
        """Canvas's "Student" column: "Last, First", or the username without a name."""
        if self.last_name and self.first_name:
            return f"{self.last_name}, {self.first_name}"
        return self.last_name or self.first_name or self.username


def _split_name(name: str) -> tuple[str, str]:
    """``"Kim, Minji"`` or ``"Minji Kim"`` -> ``("Minji", "Kim")``."""
    name = " ".join(name.split())
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
        return first, last
    first, _, last = name.rpartition(" ")
    return (first, last) if first else ("", last)


def read_people(path: str | os.PathLike) -> dict[str, Person]:
    """The students of a roster with their LMS ids, by username (rows whose ``role`` is not
    ``student`` are left out). Raises :class:`ValueError` naming the file, row and value."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"roster must be a CSV file; got {str(path)!r}, which does not exist.")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "username" not in rows[0]:
        raise ValueError(f"{path}: the roster needs a header with `username`.")
    people: dict[str, Person] = {}
    for line, row in enumerate(rows, start=2):
        username = (row.get("username") or "").strip()
        if not username:
            raise ValueError(f"{path}, row {line}: `username` must not be empty.")
        if username in people:
            raise ValueError(f"{path}, row {line}: `username` {username!r} is on the roster twice.")
        if (row.get("role") or "student").strip().lower() != "student":
            continue
        first, last = _split_name(row.get("name") or "")
        values = {k: (row.get(k) or "").strip() for k in LMS_COLUMNS if k != "name"}
        people[username] = Person(username, first, last, **values)
    return people


@dataclasses.dataclass
class Table:
    """The scores of every student on every assignment.

    ``scores[(student, assignment)]`` is the points, or ``None`` while hand grading is pending;
    ``details`` holds nbgrader's per-submission figures for the course CSV."""

    assignments: list[tuple[str, float, str]]  # (name, max score, due date)
    people: list[Person]
    scores: dict[tuple[str, str], float | None]
    details: dict[tuple[str, str], dict]

    @property
    def pending(self) -> list[tuple[str, str]]:
        return [key for key, value in self.scores.items() if value is None]


def grade_table(
    gradebook: Gradebook,
    *,
    people: dict[str, Person] | None = None,
    assignments: list[str] | None = None,
    students: list[str] | None = None,
) -> Table:
    """The grade table of a gradebook (see the module's docstring for what a score is)."""
    known = {a.name: a for a in gradebook.assignments}
    chosen = assignments or sorted(known)
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise ValueError(f"assignment must be one of {sorted(known)}; got {unknown}.")
    enrolled = {s.id: s for s in gradebook.students}
    if people is None:
        people = {
            s.id: Person(s.id, s.first_name or "", s.last_name or "", email=s.email or "")
            for s in enrolled.values()
        }
    else:
        missing = sorted(
            s
            for s in enrolled
            if s not in people and any(_submitted(gradebook, a, s) for a in chosen)
        )
        if missing:
            raise ValueError(
                f"roster: these students have submissions but are not on the roster as "
                f"students, so the LMS could not match their rows: {missing}"
            )
    if students:
        people = {k: v for k, v in people.items() if k in students}
    table = Table(
        [(name, float(known[name].max_score), str(known[name].duedate or "")) for name in chosen],
        [people[k] for k in sorted(people)],
        {},
        {},
    )
    for person in table.people:
        for name in chosen:
            key = (person.username, name)
            submission = _submitted(gradebook, name, person.username)
            if submission is None:
                table.scores[key] = 0.0
                table.details[key] = {"timestamp": "", "raw": 0.0, "penalty": 0.0, "manual": False}
                continue
            penalty = float(submission.late_submission_penalty or 0.0)
            raw = float(submission.score or 0.0)
            manual = any(nb.needs_manual_grade for nb in submission.notebooks)
            table.scores[key] = None if manual else max(0.0, raw - penalty)
            table.details[key] = {
                "timestamp": str(submission.timestamp or ""),
                "raw": raw,
                "penalty": penalty,
                "manual": manual,
            }
    return table


def _submitted(gradebook: Gradebook, assignment: str, student: str):
    try:
        return gradebook.find_submission(assignment, student)
    except MissingEntry:
        return None


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def canvas_csv(table: Table, columns: dict[str, str] | None = None) -> str:
    """Canvas's gradebook import file: its five student columns, one column per assignment
    (titled ``columns[name]`` when given, which must be ``"Name (id)"`` to fill an assignment
    Canvas already has; a new title makes a new assignment), and the "Points Possible" row."""
    columns = columns or {}
    for name, title in columns.items():
        if not _CANVAS_COLUMN.fullmatch(title):
            raise ValueError(
                f'column for {name!r} must be Canvas\'s "Assignment name (assignment id)", '
                f"e.g. 'Homework 1 (4567)'; got {title!r}."
            )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = [name for name, _, _ in table.assignments]
    writer.writerow([*CANVAS_HEADER, *(columns.get(n, n) for n in names)])
    writer.writerow(
        ["Points Possible", "", "", "", "", *(_points(m) for _, m, _ in table.assignments)]
    )
    for p in table.people:
        scores = [_points(table.scores[(p.username, n)]) for n in names]
        writer.writerow([p.display, p.lms_id, p.sis_id, p.login or p.username, p.section, *scores])
    return out.getvalue()


def moodle_csv(table: Table, columns: dict[str, str] | None = None) -> str:
    """Moodle's grade import file (the layout of its own CSV export): the student's names,
    ID number, username and email, one column per grade item. Moodle's importer maps one
    identifying column to its users and each grade column to a grade item."""
    columns = columns or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = [name for name, _, _ in table.assignments]
    writer.writerow([*MOODLE_HEADER, *(columns.get(n, n) for n in names)])
    for p in table.people:
        scores = [_points(table.scores[(p.username, n)]) for n in names]
        first = p.first_name or ("" if p.last_name else p.username)
        ident = [first, p.last_name, p.sis_id, p.login or p.username, p.email]
        writer.writerow([*ident, *scores])
    return out.getvalue()


COURSE_HEADER = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
    "needs_manual_grade",
    "similarity",
)


def course_csv(table: Table, similar: dict[str, dict[str, str] | None] | None = None) -> str:
    """The course's own table: nbgrader's CSV export columns (one row per student and
    assignment), quoted where a name holds a comma; whether hand grading is pending (the score
    then counts the graded parts only); and the student's closest match in the assignment's
    similarity report (``similar[assignment][student]``, :mod:`mtml_lib.course.similarity`),
    empty where no report was made."""
    similar = similar or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COURSE_HEADER)
    for name, maximum, due in table.assignments:
        closest = similar.get(name) or {}
        for p in table.people:
            d = table.details[(p.username, name)]
            score = max(0.0, d["raw"] - d["penalty"])
            writer.writerow(
                [name, due, d["timestamp"], p.username, p.last_name, p.first_name, p.email]
                + [f"{d['raw']:g}", f"{d['penalty']:g}", f"{score:g}", f"{maximum:g}"]
                + [str(d["manual"]).lower(), closest.get(p.username, "")]
            )
    return out.getvalue()


class _Export(ExportPlugin):
    roster = Unicode("", help="the class roster with the LMS ids (mtml_lib.course.lms)").tag(
        config=True
    )
    columns = Dict({}, help="assignment name -> the title of its column in the LMS file").tag(
        config=True
    )
    default_to = "grades.csv"

    def render(self, table: Table) -> str:
        raise NotImplementedError

    def export(self, gradebook: Gradebook) -> None:
        people = read_people(self.roster) if self.roster else None
        table = grade_table(
            gradebook,
            people=people,
            assignments=[str(a) for a in self.assignment],
            students=[str(s) for s in self.student],
        )
        dest = pathlib.Path(self.to or self.default_to)
        dest.write_text(self.render(table), encoding="utf-8")
        for student, assignment in table.pending:
            self.log.warning(
                "%s, %s: written answers not graded yet; its cell is left empty",
                student,
                assignment,
            )
        self.log.info(
            "Wrote %d students x %d assignments to %s",
            len(table.people),
            len(table.assignments),
            dest,
        )


class CanvasExport(_Export):
    """Canvas's gradebook import CSV (Grades > Import)."""

    default_to = "canvas.csv"

    def render(self, table: Table) -> str:
        return canvas_csv(table, dict(self.columns))


class MoodleExport(_Export):
    """Moodle's grade import CSV (Grades > Import > CSV file)."""

    default_to = "moodle.csv"

    def render(self, table: Table) -> str:
        return moodle_csv(table, dict(self.columns))


class CourseCsvExport(_Export):
    """The course's own grade table (nbgrader's columns, quoted, with pending hand grading)."""

    def render(self, table: Table) -> str:
        from .similarity_report import read_closest

        root = self.parent.coursedir.root if self.parent is not None else os.getcwd()
        similar = {name: read_closest(root, name) for name, _, _ in table.assignments}
        return course_csv(table, similar)
