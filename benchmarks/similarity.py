"""The similarity report's time for a class: `mtml similarity` over 100 simulated HW1 submissions.

Each simulated student answers each part with the instructor's solution under names of their own
(every identifier the answer assigns renamed, as a student copying would), or leaves it as
released (one part in five), so almost every pair of answers is a copy: the most pairs to flag
and highlight, the report at its largest. Compared with each other and with every module of the
library; the release's starter code left out.
"""

from __future__ import annotations

import pathlib
import random
import re
import shutil
import tempfile
import time

STUDENTS = 100
ASSIGNMENT = "hw1_multitask"


def _renamed(text: str, rng: random.Random) -> str:
    names = sorted(set(re.findall(r"^\s*([a-z_][a-z0-9_]*)\s*=", text, re.MULTILINE)))
    for name in names:
        text = re.sub(rf"\b{name}\b", f"{name}_{rng.randrange(10**6)}", text)
    return text


def main(device: str = "auto") -> dict:
    del device  # the comparison runs on the CPU
    import nbformat

    from mtml_lib import course as homework
    from mtml_lib.course.similarity import similarity

    from ._timing import print_table
    from .grading import IGNORE

    rng = random.Random(0)
    with tempfile.TemporaryDirectory(prefix="mtml-bench-similarity-") as tmp:
        course = pathlib.Path(tmp) / "course"
        shutil.copytree(homework.find_course(), course, ignore=shutil.ignore_patterns(*IGNORE))
        homework.release(course, ASSIGNMENT, quiet=True)
        source = nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
        answers = {
            c.metadata["nbgrader"]["grade_id"]: "\n".join(
                line for line in c.source.splitlines() if "### " not in line
            )
            for c in source.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
        }
        for index in range(STUDENTS):
            notebook = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
            for cell in notebook.cells:
                part = cell.metadata.get("nbgrader", {}).get("grade_id")
                if part in answers and rng.random() >= 0.2:
                    cell.source = _renamed(answers[part], rng)
            folder = course / "submitted" / f"student{index:03d}" / ASSIGNMENT
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
        began = time.perf_counter()
        report = similarity(course, ASSIGNMENT)
        seconds = time.perf_counter() - began
        size = report.html_path.stat().st_size / 2**20
    print_table(
        f"mtml similarity, {STUDENTS} simulated submissions of {ASSIGNMENT}",
        ["submissions", "pairs compared", "flagged", "seconds", "report MiB"],
        [
            [
                str(STUDENTS),
                str(len(report.pairs)),
                str(len(report.flagged)),
                f"{seconds:.1f}",
                f"{size:.1f}",
            ]
        ],
    )
    return {"seconds": seconds, "pairs": len(report.pairs), "flagged": len(report.flagged)}


if __name__ == "__main__":
    main()
