"""The trusted scores of the graded submissions: into nbgrader's gradebook, and under each test
cell of the autograded notebooks, where nbgrader's feedback shows them to the student in the
course's language."""

from __future__ import annotations

import datetime
import pathlib

from ..i18n import language
from ..i18n import translate as _
from .regrade import score

__all__ = ["annotate", "record"]


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
            lines = [
                _("[graded] {points:g} of {max_points:g} points").format(
                    points=result.points, max_points=result.max_points
                )
            ] + [f"  - {m}" for m in result.messages]
            cell.outputs.append(
                nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")
            )
    notebook.chmod(0o644)  # nbgrader leaves autograded files read-only
    nbformat.write(document, notebook)
    notebook.chmod(0o444)


def record(
    course,
    assignment,
    spec,
    reference,
    probed: dict,
    *,
    feedback_language: str = "en",
    late=None,
) -> dict[str, dict[str, float]]:
    """Score every probed notebook, write the points into the gradebook and the feedback (in
    ``feedback_language``); a late submission's notebook gets the penalty of ``late``, the
    course's :class:`mtml_lib.course.deadline.LatePolicy`, on its re-graded score (nbgrader's own
    late step saw the score before the re-grade)."""
    from nbgrader.api import Gradebook

    scores: dict[str, dict[str, float]] = {}
    with (
        Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook,
        language(feedback_language),
    ):
        for notebook, data in probed.items():
            student = notebook.parent.parent.name
            parts = score(spec, data, reference)
            for part, result in parts.items():
                grade = gradebook.find_grade(part, notebook.stem, assignment, student)
                grade.manual_score = result.points
                scores.setdefault(student, {})[part] = result.points
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
    for student, parts in scores.items():
        print(
            f"{student}: "
            + ", ".join(f"{part} {points:g}" for part, points in parts.items())
            + f" | autograded total {sum(parts.values()):g}"
        )
    return scores
