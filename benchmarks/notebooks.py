"""What each lab notebook costs a student: its defaults, top to bottom, one notebook at a time.

Each lab notebook is copied to a temporary folder (the stored outputs stay as they are) and run in
a fresh kernel on the CPU, with nothing else timed beside it. The table gives each notebook's wall
time against its budget on a 2-core CPU (180 s each, 600 s for the six) and the cells that take the
most; ``python -m benchmarks notebooks`` before and after a change gives the two columns a change
to the notebooks reports.
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile

from ._timing import execute_cell_by_cell, print_table

BUDGET_EACH, BUDGET_ALL = 180.0, 600.0


def lab_notebooks() -> list[pathlib.Path]:
    """The six lab notebooks, in course order (the appendix is not a lab)."""
    return sorted((pathlib.Path(__file__).parents[1] / "notebooks").glob("0*.ipynb"))


def run(path: pathlib.Path) -> tuple[float, list[tuple[float, str]]]:
    """Execute a copy of ``path``; return (wall seconds, [(seconds, first line)] per code cell)."""
    with tempfile.TemporaryDirectory(prefix="mtml-bench-notebook-") as tmp:
        copy = pathlib.Path(tmp) / path.name
        shutil.copy(path, copy)
        timed, total = execute_cell_by_cell(copy, timeout=1800)
    first = [next((line for line in c.source.splitlines() if line.strip()), "") for c, _ in timed]
    return total, [(seconds, line[:60]) for (_, seconds), line in zip(timed, first, strict=True)]


def main(device: str = "auto") -> dict[str, float]:
    del device  # the budgets are CPU budgets
    totals, slowest = {}, []
    for path in lab_notebooks():
        totals[path.stem], cells = run(path)
        slowest += [(path.stem[:2], seconds, line) for seconds, line in cells if seconds >= 10]
    rows = [
        [name, f"{seconds:.1f}", f"{BUDGET_EACH:.0f}", f"{seconds / BUDGET_EACH:.2f}"]
        for name, seconds in totals.items()
    ]
    total = sum(totals.values())
    rows.append(["all six", f"{total:.1f}", f"{BUDGET_ALL:.0f}", f"{total / BUDGET_ALL:.2f}"])
    print_table(
        "the lab notebooks at their defaults, one at a time on the CPU (s)",
        ["notebook", "seconds", "budget", "of budget"],
        rows,
    )
    print_table(
        "cells over 10 s",
        ["notebook", "seconds", "cell"],
        [[nb, f"{seconds:.1f}", line] for nb, seconds, line in slowest],
    )
    return totals


if __name__ == "__main__":
    main()
