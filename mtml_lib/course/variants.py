"""Per-student variants of a homework: a seed derived from the student and the assignment.

The runs a student reports (the tables a written answer quotes) use the student's own seed, so a
classmate's numbers are not an answer. The grader derives the same seed from the id a submission is
filed under (nbgrader's student id: the upload's name or the hub login) and runs the submission's
code at it; see the homework graders. The derivation is public on purpose: knowing a classmate's
seed gives nothing but a run one could make oneself.
"""

from __future__ import annotations

import hashlib
import re

from ..i18n import translate as _

__all__ = [
    "REFERENCE_SEED",
    "check_student",
    "student_id_warning",
    "student_seed",
    "written_student_id",
]

# A student's id as the course files it: the name of an upload, a folder of nbgrader's.
STUDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
STUDENT_ID_TAG = "student-id"  # the tag of a homework's cell that sets STUDENT_ID and SEED

# An empty id: the seed of the instructor's reference run (and of a student who has not written
# their id yet, which the check before submitting points out).
REFERENCE_SEED = 0
SEEDS = 1_000_000  # seeds are 1 .. SEEDS - 1, so no student shares the reference's


def student_seed(assignment: str, student: str) -> int:
    """The seed of ``student``'s runs of ``assignment``.

    Args:
        assignment: the assignment's name, e.g. ``"hw1_multitask"``.
        student: the student's id as the course files it (the name of the upload ``mtml check``
            writes: letters, digits, ``.``, ``_``, ``-``); ``""`` gives :data:`REFERENCE_SEED`.

    Returns:
        an int in ``[1, 1_000_000)``, the same for the same pair on every machine, or ``0``.

    Raises:
        ValueError: for an empty assignment or an id that the course could not file.

    Example:
        >>> student_seed("hw1_multitask", "kim.minji") == student_seed("hw1_multitask", "kim.minji")
        True
        >>> student_seed("hw1_multitask", "")
        0
    """
    if not isinstance(assignment, str) or not assignment:
        raise ValueError(f"`assignment` must be a non-empty string; got {assignment!r}.")
    if not isinstance(student, str) or not (student == "" or STUDENT.match(student)):
        raise ValueError(
            "`student` must be your student id (1 to 64 letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit), or '' before you know it; got {student!r}."
        )
    if student == "":
        return REFERENCE_SEED
    digest = hashlib.sha256(f"{assignment}/{student}".encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % (SEEDS - 1)


def check_student(student: str) -> str:
    """``student`` if it can name an upload (letters, digits, ``.``, ``_``, ``-``)."""
    if not isinstance(student, str) or not STUDENT.match(student):
        raise ValueError(
            "`student` must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or "
            f"digit; got {student!r}."
        )
    return student


def written_student_id(notebook) -> str | None:
    """The ``STUDENT_ID = "..."`` a homework's student-id cell holds (``None``: no such cell, or
    not a plain string there)."""
    import ast

    for cell in notebook.cells:
        if cell.cell_type != "code" or STUDENT_ID_TAG not in cell.metadata.get("tags", []):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            return None
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and [getattr(t, "id", None) for t in node.targets] == ["STUDENT_ID"]
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                return node.value.value
    return None


def student_id_warning(notebook, student: str) -> str | None:
    """What the check before submitting says when a homework's runs are not at the seed the grader
    derives from ``student``, the id the upload is filed under (``None``: nothing to say)."""
    has_cell = any(STUDENT_ID_TAG in c.metadata.get("tags", []) for c in notebook.cells)
    written = written_student_id(notebook)
    if not has_cell or written == student:
        return None
    if not written:
        return _(
            "STUDENT_ID is not written: your runs use the reference solution's seed; write the id "
            "this upload is filed under ('{student}') and run the notebook again"
        ).format(student=student)
    return _(
        "STUDENT_ID is '{written}' but this upload is filed under '{student}': the grader "
        "derives your seed from '{student}', so write that id and run the notebook again "
        "(or check with --student {written})"
    ).format(written=written, student=student)
