"""The trusted scores of the graded submissions: into nbgrader's gradebook, and under each test
cell of the autograded notebooks, where nbgrader's feedback shows them to the student in the
course's language."""

from __future__ import annotations

import datetime
import json
import pathlib

from ..i18n import language
from ..i18n import translate as _
from .regrade import score

__all__ = ["annotate", "record", "graded_with", "TRUSTED_OUTPUTS"]

#: the cell metadata key (under ``mtml``) holding how many of a test cell's last outputs are the
#: trusted grade's (the feedback keeps those: mtml_lib.course.hidden_tests)
TRUSTED_OUTPUTS = "trusted_outputs"


def annotate(notebook: pathlib.Path, parts: dict) -> None:
    """Show the trusted grade under each test cell of the
    autograded notebook (feedback renders it).
    """
    import nbformat

    document = nbformat.read(notebook, as_version=4)
    for cell in document.cells:
        part = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and part in parts:
            result = parts[part]
            earlier = int(cell.metadata.get("mtml", {}).get(TRUSTED_OUTPUTS, 0))
            if earlier:  # a re-grade: the earlier trusted grade gives way
                cell.outputs = cell.outputs[: len(cell.outputs) - earlier]
            lines = [
                _("[graded] {points:g} of {max_points:g} points").format(
                    points=result.points, max_points=result.max_points
                )
            ] + [f"  - {m}" for m in result.messages]
            cell.outputs.append(
                nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")
            )
            # what the feedback keeps of a cell whose hidden tests it removes
            # (mtml_lib.course.hidden_tests.HideHiddenTests)
            cell.metadata.setdefault("mtml", {})[TRUSTED_OUTPUTS] = 1
    notebook.chmod(0o644)  # nbgrader leaves autograded files read-only
    nbformat.write(document, notebook)
    notebook.chmod(0o444)


def graded_with(course: pathlib.Path, assignment: str) -> pathlib.Path:
    """The file that keeps, per student, the fingerprint of the grader each part was graded
    with (:func:`mtml_lib.grading.fingerprints.part_fingerprints`), for ``--regrade``."""
    return course / "graders" / "reference" / f"{assignment}-graded.json"


def record(
    course,
    assignment,
    spec,
    reference,
    probed: dict,
    *,
    feedback_language: str = "en",
    late=None,
    fingerprints: dict[str, str] | None = None,
    only: dict[str, list[str]] | None = None,
    moved: list | None = None,
) -> dict[str, dict[str, float]]:
    """Score every probed notebook, write the points into the gradebook and the feedback (in
    ``feedback_language``); a late submission's notebook gets the penalty of ``late``, the
    course's :class:`mtml_lib.course.deadline.LatePolicy`, on its re-graded score (nbgrader's own
    late step saw the score before the re-grade).

    ``fingerprints`` (the grader's, per part) are kept for each student graded; ``only`` (a
    re-grade: ``{student: [part, ...]}``) writes those parts alone, and ``moved`` collects each
    grade that changed as ``(student, part, before, after)``."""
    from nbgrader.api import Gradebook

    course = pathlib.Path(course)
    stamps_path = graded_with(course, assignment)
    stamps = json.loads(stamps_path.read_text(encoding="utf-8")) if stamps_path.exists() else {}
    scores: dict[str, dict[str, float]] = {}
    with (
        Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook,
        language(feedback_language),
    ):
        for notebook, data in probed.items():
            student = notebook.parent.parent.name
            parts = score(spec, data, reference)
            if only is not None:
                parts = {p: r for p, r in parts.items() if p in only.get(student, ())}
            for part, result in parts.items():
                grade = gradebook.find_grade(part, notebook.stem, assignment, student)
                before = grade.manual_score
                if moved is not None and before != result.points:
                    moved.append((student, part, before, result.points))
                grade.manual_score = result.points
                scores.setdefault(student, {})[part] = result.points
                if fingerprints is not None:
                    stamps.setdefault(student, {})[part] = fingerprints[part]
            annotate(notebook, parts)
            seconds = gradebook.find_submission(assignment, student).total_seconds_late
            graded = gradebook.find_submission_notebook(notebook.stem, assignment, student)
            gradebook.db.flush()
            gradebook.db.refresh(graded)  # its score is the sum the database makes of the grades
            penalty = late.penalty(graded.score, seconds) if late and seconds > 0 else None
            graded.late_submission_penalty = penalty
            if penalty:
                late_by = datetime.timedelta(seconds=round(seconds))
                print(f"{student}: late by {late_by}, {penalty:g} points off (late policy)")
        gradebook.db.commit()
    if fingerprints is not None:
        stamps_path.parent.mkdir(parents=True, exist_ok=True)
        stamps_path.write_text(json.dumps(stamps, indent=1, sort_keys=True), encoding="utf-8")
    for student, parts in scores.items():
        print(
            f"{student}: "
            + ", ".join(f"{part} {points:g}" for part, points in parts.items())
            + f" | autograded total {sum(parts.values()):g}"
        )
    return scores
