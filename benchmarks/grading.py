"""Grading throughput: submissions per minute through `mtml autograde`, both assignments.

For each homework, SUBMISSIONS copies of the instructor's solution are collected into a fresh
copy of the course folder and autograded (nbgrader's in-kernel run, then the trusted re-grade):
in the sandbox one at a time (`--jobs 1`), in the sandbox two at a time (`--jobs 2`), and without
the sandbox one at a time (`--no-sandbox`, to show what the sandbox costs). The reference
solution's probe data is computed once beforehand and is not timed. Every run must give every
submission full marks, or the benchmark stops.
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile
import time

import nbformat

from mtml_lib import course as homework
from mtml_lib.course import pipeline
from mtml_lib.grading.regrade import load_spec
from mtml_lib.grading.sandbox import Limits

from ._timing import print_table

SUBMISSIONS = 4
ASSIGNMENTS = ("hw1_multitask", "hw2_blackbox")
SETTINGS = {
    "sandbox, 1 job": {"sandbox": True, "jobs": 1},
    "sandbox, 2 jobs": {"sandbox": True, "jobs": 2},
    "no sandbox, 1 job": {"sandbox": False, "jobs": 1},
}
IGNORE = ("release", "submitted", "autograded", "feedback", "gradebook.db", "__pycache__")


def _solution(course: pathlib.Path, assignment: str) -> nbformat.NotebookNode:
    """The release notebook with the instructor's answers in every solution cell."""
    source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = {
        cell.metadata["nbgrader"]["grade_id"]: "\n".join(
            line for line in cell.source.splitlines() if "### " not in line
        )
        for cell in source.cells
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code"
    }
    release = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return release


def _time(base: pathlib.Path, folder: pathlib.Path, assignment: str, settings: dict) -> float:
    course = folder / "course"
    shutil.copytree(base, course)  # with its gradebook, which knows the assignment
    homework.collect(course, assignment, folder / "submissions")
    began = time.perf_counter()
    scores = homework.autograde(course, assignment, **settings)
    seconds = time.perf_counter() - began
    full = {sum(parts.values()) for parts in scores.values()}
    if len(scores) != SUBMISSIONS or len(full) != 1:
        raise SystemExit(f"{assignment} {settings}: not every solution got full marks: {scores}")
    return seconds


def main(device: str = "auto") -> dict[str, dict[str, float]]:
    del device  # grading runs on the CPU
    results: dict[str, dict[str, float]] = {}
    for assignment in ASSIGNMENTS:
        with tempfile.TemporaryDirectory(prefix="mtml-bench-grading-") as tmp:
            base = pathlib.Path(tmp) / "base"
            shutil.copytree(homework.find_course(), base, ignore=shutil.ignore_patterns(*IGNORE))
            homework.release(base, assignment, quiet=True)
            grader = base / "graders" / f"{assignment}.py"
            spec = load_spec(grader)
            with pipeline._sandbox_for(spec, Limits(), 1, base) as box:
                pipeline._reference(base, assignment, grader, box)  # cached, untimed
            notebook = _solution(base, assignment)
            for name, settings in SETTINGS.items():
                folder = pathlib.Path(tmp) / name.replace(" ", "").replace(",", "-")
                for index in range(SUBMISSIONS):
                    target = folder / "submissions" / f"student{index}"
                    target.mkdir(parents=True)
                    nbformat.write(notebook, target / f"{assignment}.ipynb")
                seconds = _time(base, folder, assignment, settings)
                results.setdefault(assignment, {})[name] = seconds
    rows = []
    for assignment, timings in results.items():
        first = timings["sandbox, 1 job"]
        for name, seconds in timings.items():
            rows.append(
                [
                    assignment,
                    name,
                    f"{seconds:.0f}",
                    f"{SUBMISSIONS * 60 / seconds:.1f}",
                    f"{first / seconds:.2f}x",
                ]
            )
    print_table(
        f"grading {SUBMISSIONS} solutions per assignment (nbgrader run + trusted re-grade)",
        ["assignment", "setting", "seconds", "submissions/min", "vs sandbox 1 job"],
        rows,
    )
    return results
