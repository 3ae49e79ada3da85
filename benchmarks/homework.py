"""What the homework asks of a student's machine: the reference solution, run as a student runs it.

Each assignment's source notebook (the instructor's solutions in place) is executed top to bottom
in a fresh kernel, outside grading (so the training cells use their real budgets, not the
autograder's smoke budgets), and every cell that takes more than a second is timed. The total is
the figure each notebook's introduction states; the training cells' printed results are the
accuracy and AUC figures its text and answer key quote.

The executed notebooks are kept, with their outputs, in ``benchmarks/homework_runs/`` (cleaned by
nbstripout as the labs are): ``tests/test_answer_keys.py`` reads every figure a key quotes from
them, and checks that their code is the source's, so a changed solution needs this benchmark run
again.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import tempfile

from mtml_lib.course import find_course

from ._timing import execute_cell_by_cell, print_table

ASSIGNMENTS = ("hw1_multitask", "hw2_blackbox")
RUNS = pathlib.Path(__file__).resolve().parent / "homework_runs"


def _run(notebook_path: pathlib.Path) -> tuple[list[tuple[str, float, str]], float]:
    """Execute the notebook in place; return (grade_id, seconds, printed text) per code cell and
    the total."""
    timed, total = execute_cell_by_cell(notebook_path, timeout=3600)
    timings = [
        (
            cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}"),
            seconds,
            "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout").strip(),
        )
        for index, (cell, seconds) in enumerate(timed)
    ]
    return timings, total


def _keep(executed: pathlib.Path, assignment: str) -> None:
    """Store the executed notebook, outputs kept and noise stripped, as the reference run."""
    RUNS.mkdir(exist_ok=True)
    target = RUNS / f"{assignment}.ipynb"
    shutil.copy(executed, target)
    subprocess.run(
        [sys.executable, "-m", "nbstripout", "--keep-output", "--keep-count", str(target)],
        check=True,
    )


def main(device: str = "auto") -> dict[str, float]:
    del device  # the homework states CPU times
    totals = {}
    for assignment in ASSIGNMENTS:
        source = find_course() / "source" / assignment
        with tempfile.TemporaryDirectory(prefix="mtml-bench-homework-") as tmp:
            copy = pathlib.Path(tmp) / assignment
            shutil.copytree(source, copy)
            timings, total = _run(copy / f"{assignment}.ipynb")
            _keep(copy / f"{assignment}.ipynb", assignment)
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
