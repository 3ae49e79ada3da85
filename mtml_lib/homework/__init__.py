"""Instructor-facing homework tools: the student workbook, the nbgrader pipeline, and the trusted
re-grader that a submission cannot talk its way around.
"""

from .editions import course_language, edition_course
from .pipeline import autograde, collect, export_grades, feedback, find_course, release
from .regrade import regrade, run_probes
from .sandbox import Limits, Sandbox, unavailable_reason
from .workbook import build_workbook

__all__ = [
    "build_workbook",
    "course_language",
    "edition_course",
    "find_course",
    "release",
    "collect",
    "autograde",
    "export_grades",
    "feedback",
    "regrade",
    "run_probes",
    "Limits",
    "Sandbox",
    "unavailable_reason",
]
