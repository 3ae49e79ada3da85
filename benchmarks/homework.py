"""What the homework asks of a student's machine: the reference solution, run as a student runs it.

Each assignment's source notebook (the instructor's solutions in place) is executed top to bottom
in a fresh kernel, outside grading (so the training cells use their real budgets, not the
autograder's smoke budgets), and every cell that takes more than a second is timed. The total is
the figure each notebook's introduction states; the training cells' printed results are the
accuracy and AUC figures its text quotes.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
import time

import nbformat
from nbclient import NotebookClient

from mtml_lib.course import find_course

from ._timing import print_table

ASSIGNMENTS = ("hw1_multitask", "hw2_blackbox")


def _run(notebook_path: pathlib.Path) -> tuple[list[tuple[str, float, str]], float]:
    """Execute the notebook cell by cell; return (grade_id, seconds, printed text) per cell."""
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(notebook, timeout=3600, kernel_name="python3")
    timings = []
    env = {key: value for key, value in os.environ.items() if key != "MTML_AUTOGRADE"}
    env["MTML_DEVICE"] = "cpu"
    with client.setup_kernel(env=env):
        began = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            start = time.perf_counter()
            client.execute_cell(cell, index)
            seconds = time.perf_counter() - start
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
            timings.append((grade_id, seconds, text.strip()))
        total = time.perf_counter() - began
    return timings, total


def main(device: str = "auto") -> dict[str, float]:
    del device  # the homework states CPU times
    totals = {}
    for assignment in ASSIGNMENTS:
        source = find_course() / "source" / assignment
        with tempfile.TemporaryDirectory(prefix="mtml-bench-homework-") as tmp:
            copy = pathlib.Path(tmp) / assignment
            shutil.copytree(source, copy)
            timings, total = _run(copy / f"{assignment}.ipynb")
        totals[assignment] = total
        rows = [[grade_id, f"{seconds:.1f}"] for grade_id, seconds, _ in timings if seconds >= 1.0]
        rows.append(["all cells", f"{total:.1f}"])
        print_table(
            f"{assignment}: the reference solution, as a student runs it (s)",
            ["cell", "seconds"],
            rows,
        )
        for grade_id, seconds, text in timings:
            if seconds >= 2.0 and text:
                print(f"--- {grade_id} printed:\n{text}")
    return totals


if __name__ == "__main__":
    main()
