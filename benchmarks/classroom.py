"""A class on one machine: N students running the same lab notebook at once, with and without the
hub's thread budget.

Each student is a separate process that executes a copy of the notebook top to bottom in its own
kernel (as a student's server does), all N started together. Without the budget every kernel
starts as many threads as the machine has cores; with it, each gets the hub's share
(:func:`mtml_lib.course.hub.thread_budget`: cores / N, at least 1, through the same environment
variables the hub sets). The table gives the mean and the slowest time a student waits, against
one student alone. ``python -m benchmarks classroom`` (nothing else running: it is the machine's
whole load that is measured); ``python -m benchmarks.classroom --notebook 05_meta_learning.ipynb
--students 1 2 4`` for one notebook and some class sizes.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

from mtml_lib.course.hub import THREAD_VARIABLES, kernel_environment, thread_budget

from ._timing import print_table

NOTEBOOKS = ("01_tasks.ipynb", "05_meta_learning.ipynb")
STUDENTS = (1, 2, 4, 8)
_RUN = (
    "import sys, nbformat\n"
    "from nbclient import NotebookClient\n"
    "nb = nbformat.read(sys.argv[1], as_version=4)\n"
    "NotebookClient(nb, timeout=3600, kernel_name='python3', resources={'metadata': "
    "{'path': sys.argv[2]}}).execute()\n"
)


def _class_run(notebook: pathlib.Path, students: int, budget: bool) -> list[float]:
    """Every student's wall seconds, all ``students`` started at once."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    if budget:
        env |= kernel_environment(thread_budget(concurrent=students))
    with tempfile.TemporaryDirectory(prefix="mtml-bench-class-") as tmp:
        runs = []
        for i in range(students):
            home = pathlib.Path(tmp) / f"student{i}"
            home.mkdir()
            shutil.copy(notebook, home / notebook.name)
            runs.append((home, [sys.executable, "-c", _RUN, str(home / notebook.name), str(home)]))
        start = time.perf_counter()
        processes = [subprocess.Popen(cmd, env=env, cwd=home) for home, cmd in runs]
        seconds = [0.0] * students
        pending = dict(enumerate(processes))
        while pending:
            for i, process in list(pending.items()):
                if process.poll() is not None:
                    if process.returncode:
                        raise RuntimeError(f"student {i} failed on {notebook.name}")
                    seconds[i] = time.perf_counter() - start
                    del pending[i]
            time.sleep(0.05)
    return seconds


def main(
    device: str = "auto", notebooks: tuple[str, ...] = NOTEBOOKS, students_at_once=STUDENTS
) -> list[dict]:
    del device  # the CPU is what students share
    if not students_at_once or students_at_once[0] != 1 or min(students_at_once) < 1:
        raise ValueError(
            "`students_at_once` must start with 1 (the run the others are compared with) and "
            f"hold counts >= 1; got {list(students_at_once)}."
        )
    root = pathlib.Path(__file__).parents[1] / "notebooks"
    cores = len(os.sched_getaffinity(0))
    results = []
    for name in notebooks:
        alone = None
        for students in students_at_once:
            for budget in (False, True):
                seconds = _class_run(root / name, students, budget)
                mean, worst = sum(seconds) / len(seconds), max(seconds)
                alone = alone or mean
                results.append(
                    {
                        "notebook": name,
                        "students": students,
                        "budget": budget,
                        "threads": thread_budget(concurrent=students) if budget else cores,
                        "mean": mean,
                        "slowest": worst,
                        "vs_alone": mean / alone,
                    }
                )
    print_table(
        f"N students, one notebook at once, {cores} cores (s; alone: 1 student, no budget)",
        ["notebook", "N", "thread budget", "threads each", "mean s", "slowest s", "mean / alone"],
        [
            [
                r["notebook"][:2],
                str(r["students"]),
                "yes" if r["budget"] else "no",
                str(r["threads"]),
                f"{r['mean']:.1f}",
                f"{r['slowest']:.1f}",
                f"{r['vs_alone']:.2f}",
            ]
            for r in results
        ],
    )
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.classroom", description=__doc__)
    parser.add_argument("--notebook", action="append", choices=NOTEBOOKS)
    parser.add_argument("--students", type=int, nargs="+", default=list(STUDENTS))
    args = parser.parse_args()
    main(notebooks=tuple(args.notebook or NOTEBOOKS), students_at_once=tuple(args.students))
