"""Running a course on the workbook: the course folder and its editions, the student workbook
and handout, the nbgrader pipeline (release, collect, autograde, grades, feedback) and the
student's own check before submitting.

What touches untrusted code (the sandbox, the re-grade) is in :mod:`mtml_lib.grading`; this
package orchestrates it for the instructor and builds what students receive.
"""

from .collecting import collect, collect_exchange
from .folder import (
    CourseError,
    assignments,
    cell_timeout,
    check_assignment,
    course_language,
    edition_course,
    find_course,
)
from .handout import build_handout
from .manifest import apply_update
from .pipeline import autograde, release
from .results import export_grades, feedback
from .workbook import build_workbook

__all__ = [
    "CourseError",
    "assignments",
    "cell_timeout",
    "check_assignment",
    "course_language",
    "edition_course",
    "find_course",
    "release",
    "collect",
    "collect_exchange",
    "autograde",
    "export_grades",
    "feedback",
    "build_workbook",
    "build_handout",
    "apply_update",
]
