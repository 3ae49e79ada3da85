"""The homework's time limit per cell on a shared machine: does honest work pass?

Each homework's reference solution (the source notebook, the instructor's solutions in place) runs
as ``nbgrader validate`` runs it, in a kernel of nbgrader's own ``Execute``, with the course's base
limit of 30 s per cell. The competing job is the same notebook in another process, started at the
same moment, as a student runs it on their own (the real training budgets, torch's default
threads); nothing else may run meanwhile. The runs:

* **before**: a fixed 30 s limit, torch's default threads, the real training budgets (how
  ``nbgrader validate`` ran a notebook before), alone and beside the competing job;
* **now, real budgets**: the kernel's threads from the load, the limit grown with the load
  (:mod:`mtml_lib.grading.time_limit`), the real training budgets, beside the competing job;
* **now, as validate runs it**: the same, and the homework run as the grader runs it (the smoke
  budgets: ``MTML_AUTOGRADE``), alone and beside the competing job.

HW2's real budgets train for minutes in one cell, past any per-cell limit, so HW2 has the last
runs only. For every cell of a second or more it prints the seconds, the limit the cell got and
whether it was stopped, and the slowest cell's margin (its limit over its seconds).
``python -m benchmarks cell_limit``.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

from mtml_lib.course import find_course

from ._timing import print_table

ASSIGNMENTS = ("hw1_multitask", "hw2_blackbox")
BASE = 30


def validate(notebook: pathlib.Path, most: float, budget: str) -> list[dict]:
    """Run ``notebook`` as ``nbgrader validate`` does, with ``most`` as the limit's growth (1: a
    fixed limit) and ``budget`` the kernel's: ``"default"`` (torch's default threads, the real
    training budgets), ``"threads"`` (the threads the load leaves free, the real budgets) or
    ``"grader"`` (those threads, the smoke budgets); each code cell's grade id, seconds, limit and
    whether it was stopped."""
    import nbformat
    from nbgrader.preprocessors import Execute

    from mtml_lib.course.check import _cell_seconds, kernel_config
    from mtml_lib.grading.time_limit import CellTimeLimit, kernel_arguments

    limit = CellTimeLimit(BASE, most=most)
    given: dict[int, int] = {}

    def timeout_func(cell):
        given[id(cell)] = limit(cell)
        return given[id(cell)]

    executed = nbformat.read(notebook, as_version=4)
    with tempfile.TemporaryDirectory(prefix="mtml-bench-limit-") as scratch:
        # IPC sockets: two kernels started at once cannot race for a TCP port
        arguments = [] if budget == "default" else kernel_arguments(as_grader=budget == "grader")
        Execute(
            timeout=BASE,
            timeout_func=timeout_func,
            extra_arguments=arguments,
            config=kernel_config(scratch),
        ).preprocess(executed, {"metadata": {"path": scratch}})
    rows = []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        seconds = _cell_seconds(cell)
        errors = [o.get("ename") for o in cell.outputs if o.get("output_type") == "error"]
        rows.append(
            {
                "cell": cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}"),
                "seconds": seconds,
                "limit": given.get(id(cell), BASE),
                "stopped": "CellTimeoutError" in errors,
            }
        )
    return rows


def _worker(notebook: pathlib.Path, most: float, budget: str, out: pathlib.Path):
    code = (
        "import json, pathlib, sys; from benchmarks.cell_limit import validate; "
        "pathlib.Path(sys.argv[4]).write_text(json.dumps(validate(pathlib.Path(sys.argv[1]), "
        "float(sys.argv[2]), sys.argv[3])), encoding='utf-8')"
    )
    env = {k: v for k, v in os.environ.items() if k != "MTML_AUTOGRADE"}
    root = pathlib.Path(__file__).resolve().parent.parent
    return subprocess.Popen(
        [sys.executable, "-c", code, str(notebook), str(most), budget, str(out)],
        cwd=root,
        env=env,
        start_new_session=True,
    )


def run(notebook: pathlib.Path, most: float, budget: str, beside: bool) -> tuple[list[dict], float]:
    """One measured run (and, ``beside``, the competing one, stopped when the measured one ends)."""
    from mtml_lib.grading.time_limit import MOST

    with tempfile.TemporaryDirectory(prefix="mtml-bench-limit-") as tmp:
        out = pathlib.Path(tmp) / "measured.json"
        other = None
        if beside:
            other = _worker(notebook, MOST, "default", pathlib.Path(tmp) / "other.json")
        started = time.monotonic()
        measured = _worker(notebook, most, budget, out)
        code = measured.wait()
        seconds = time.monotonic() - started
        if other is not None:  # the competing job and its kernel
            os.killpg(other.pid, signal.SIGKILL)
            other.wait()
        if code != 0:
            raise RuntimeError(f"the run of {notebook.name} failed")
        return json.loads(out.read_text(encoding="utf-8")), seconds


def _settle(most_load: float = 0.5, patience: float = 180.0) -> float:
    """Wait (up to ``patience`` s) for the load per core to fall to ``most_load``; the load then."""
    from mtml_lib.grading.time_limit import cores, machine_load

    waited = time.monotonic()
    while machine_load() / cores() > most_load and time.monotonic() - waited < patience:
        time.sleep(5)
    return machine_load()


def main(device: str = "auto") -> dict[str, float]:
    del device  # grading runs on the CPU
    from mtml_lib.grading.time_limit import MOST

    before = [("before, alone", 1.0, "default", False), ("before, beside", 1.0, "default", True)]
    now = [
        ("now, real budgets, beside", MOST, "threads", True),
        ("now as validate runs it, alone", MOST, "grader", False),
        ("now as validate runs it, beside", MOST, "grader", True),
    ]
    margins = {}
    for assignment in ASSIGNMENTS:
        notebook = next((find_course() / "source" / assignment).glob("*.ipynb"))
        runs = (before + now) if assignment == "hw1_multitask" else now[1:]
        for label, most, budget, beside in runs:
            load = _settle()
            cells, total = run(notebook, most, budget, beside)
            shown = [c for c in cells if c["seconds"] >= 1.0 or c["stopped"]]
            rows = [
                [
                    c["cell"],
                    f"{c['seconds']:.1f}",
                    str(c["limit"]),
                    "stopped" if c["stopped"] else "passed",
                ]
                for c in shown
            ]
            slowest = max(cells, key=lambda c: c["seconds"])
            margin = slowest["limit"] / max(slowest["seconds"], 1e-9)
            margins[f"{assignment} {label}"] = margin
            stopped = sum(c["stopped"] for c in cells)
            rows.append(["all cells", f"{total:.1f}", "", f"{stopped} stopped"])
            print_table(
                f"{assignment}, {label} (base limit {BASE} s per cell; load at start {load:.1f})",
                ["cell", "seconds", "limit s", "outcome"],
                rows,
            )
            print(
                f"slowest cell {slowest['cell']}: {slowest['seconds']:.1f} s of its "
                f"{slowest['limit']} s limit (margin x{margin:.1f}); {stopped} cells stopped"
            )
    return margins


if __name__ == "__main__":
    main()
