"""Grading on a shared machine: a cell's time limit that grows with the machine's load, and a
grading kernel that takes only the cores nobody else is using.

A homework's cells have a time limit (``c.Execute.timeout``, 30 s) so that a cell that loops
forever cannot hold the grader. A fixed limit did not hold for honest work on a shared machine:
beside one other torch job on two cores, both with torch's default threads, the two jobs' threads
oversubscribe the cores and two of HW1's honest cells, 4 and 7 s alone, were stopped at 30 s
(``python -m benchmarks cell_limit``). Two things fix it:

* **the kernel's threads** (:func:`kernel_arguments`): a grading kernel (``nbgrader validate``,
  ``nbgrader autograde``, ``mtml check``, ``mtml autograde``) starts with torch, OpenMP and BLAS
  threads for the cores the machine's load leaves free, at least 1 and no more than a budget
  already set (a class's hub sets one); it also runs the homework as the grader does
  (``MTML_AUTOGRADE=1``: its training cells use their smoke budgets);
* **the limit** (:class:`CellTimeLimit`): each cell's limit is the base limit times the threads
  that want a core when the cell starts, the cell's own included, per core; never less than the
  base and at most :data:`MOST` times it:

      limit = ceil(base * min(MOST, max(1, (load + 1) / cores)))

``load`` is the number of threads the rest of the machine is running when the cell starts (the
median of three readings of ``/proc/loadavg``, 10 ms apart, less the running threads of the grading
process and its descendants, the cell's kernel among them): not the load average, which lags a
job that has just started and counts the grading's own earlier cells.
``cores`` are the cores this process may run on, or fewer where a CPU quota (cgroup v2
``cpu.max``) allows less.

The course's ``nbgrader_config.py`` sets both for nbgrader's own ``Execute`` (``nbgrader
validate``), with the rule in the course's language as the message of a cell stopped for time
(:func:`timeout_error`); :class:`mtml_lib.grading.nbgrader_step.TimedExecute` (the check, the
sandbox's execute step) says the limit and the load of the moment (:func:`stopped_message`). The
re-grade's cells and probes keep fixed limits (``most=1``): they run in the grading's own thread
budget.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time

from .._validation import check_float, check_int
from ..i18n import N_, get_language, translate_to

__all__ = [
    "MOST",
    "THREAD_VARIABLES",
    "CellTimeLimit",
    "cores",
    "free_threads",
    "kernel_arguments",
    "machine_load",
    "stopped_message",
    "timeout_error",
]

# the most a cell's limit grows with the load: a cell that loops forever is still stopped
MOST = 4.0

# the name of the error a cell stopped for time shows (nbgrader's own, which the check reads)
ENAME = "CellTimeoutError"

#: the variables that set a kernel's thread pools: torch's intra-op pool follows OMP_NUM_THREADS
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def cores(quota: str = "/sys/fs/cgroup/cpu.max") -> int:
    """The cores this process may run on: its CPU affinity, or its cgroup's CPU ``quota`` where
    that is less (a container limited to half a core counts as one)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        with open(quota, encoding="ascii") as f:
            allowed, period = f.read().split()[:2]
        if allowed != "max":
            count = min(count or 1, max(1, math.ceil(int(allowed) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count or 1)


def _running(source: str) -> int:
    """The threads running on the machine now (``source``'s fourth field)."""
    with open(source, encoding="ascii") as f:
        return int(f.read().split()[3].split("/")[0])


def _tree_running(root: int, proc: str = "/proc") -> int:
    """The running threads of process ``root`` and its descendants (those this process can see):
    the grading's own work, a kernel it started included."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir(proc):
        if entry.name.isdigit():
            try:
                with open(f"{entry.path}/stat", encoding="ascii", errors="replace") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    count, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            tasks = list(os.scandir(f"{proc}/{pid}/task"))
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"{task.path}/stat", encoding="ascii", errors="replace") as f:
                    count += f.read().rsplit(")", 1)[1].split()[0] == "R"
            except (OSError, IndexError):
                continue
    return count


def machine_load(source: str = "/proc/loadavg", samples: int = 3) -> float:
    """The threads the rest of the machine runs now: the median of ``samples`` readings, 10 ms
    apart (a thread that runs for an instant is not a job), of the threads running (``source``'s
    fourth field, which counts every process on the machine, also from inside the grading
    sandbox), less those of this process and its descendants (a kernel it runs cells in); 0 where
    the system does not say. Not the load average: it lags a job that has just started, and it
    counts the grading's own earlier cells."""
    readings = []
    for sample in range(samples):
        if sample:
            time.sleep(0.01)
        try:
            readings.append(max(0, _running(source) - _tree_running(os.getpid())))
        except (OSError, ValueError, IndexError):
            return 0.0
    return float(sorted(readings)[len(readings) // 2])


@dataclasses.dataclass(frozen=True)
class Scaled:
    """One cell's limit: ``seconds`` = ceil(base x factor), for ``load`` on ``cores`` cores."""

    seconds: int
    base: int
    factor: float
    load: float
    cores: int


class CellTimeLimit:
    """nbclient's ``timeout_func``: each cell's limit, ``base`` seconds scaled with the load.

    Args:
        base: the limit on an idle machine, in seconds (at least 1).
        most: the most the load may multiply it by (1 = a fixed limit).
    """

    def __init__(self, base: int, *, most: float = MOST):
        self.base = check_int("base", base, minimum=1)
        self.most = check_float("most", most, minimum=1.0)
        self.last: Scaled | None = None

    def scaled(self) -> Scaled:
        """The limit for a cell that starts now (also kept as :attr:`last`)."""
        count, load = cores(), machine_load()
        factor = min(self.most, max(1.0, (load + 1) / count))
        self.last = Scaled(math.ceil(self.base * factor), self.base, factor, load, count)
        return self.last

    def __call__(self, cell=None) -> int:
        return self.scaled().seconds

    def __repr__(self) -> str:
        return f"CellTimeLimit({self.base}, most={self.most:g})"


_RULE = N_(
    "this cell ran past its time limit and was stopped. The grader's limit is {base} s per cell "
    "on an idle machine and grows with the machine's load, up to {most:g} times. Honest work on "
    "this homework takes a few seconds per cell: look for a loop that does not end, or far more "
    "training than the part asks for."
)
_HERE = N_(
    "Here it was stopped after {seconds} s (x{factor:.1f}: {load:.0f} other threads were running "
    "on {cores} cores)."
)


def stopped_message(scaled: Scaled, most: float = MOST, language_code: str | None = None) -> str:
    """What a student reads about a cell stopped at ``scaled``, in ``language_code`` (default:
    the language in use)."""
    language_code = language_code or get_language()
    rule = translate_to(language_code, _RULE).format(base=scaled.base, most=most)
    here = translate_to(language_code, _HERE).format(
        seconds=scaled.seconds, factor=scaled.factor, load=scaled.load, cores=scaled.cores
    )
    return f"{rule} {here}"


_FIXED = N_(
    "this cell ran past the time limit of {base} s per cell and was stopped. Honest work on this "
    "homework takes a few seconds per cell: look for a loop that does not end, or far more "
    "training than the part asks for."
)


def timeout_error(language_code: str, base: int, most: float | None = MOST) -> dict:
    """nbclient's ``error_on_timeout`` for nbgrader's own ``Execute`` (``nbgrader validate``):
    the rule of the limit in ``language_code``, without the load of the moment (``most=None``: a
    fixed limit)."""
    text = translate_to(language_code, _RULE if most is not None else _FIXED)
    text = text.format(base=base, most=most)
    return {"ename": ENAME, "evalue": text, "traceback": [f"{ENAME}: {text}"]}


def free_threads(environ: dict | None = None) -> int:
    """Threads for a kernel that starts now: the cores the machine's load leaves free, at least 1,
    and no more than a budget ``environ`` (default: this process's) already sets."""
    environ = os.environ if environ is None else environ
    free = max(1, cores() - math.ceil(machine_load()))
    try:
        budget = int(environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        budget = 0
    return min(free, budget) if budget > 0 else free


def kernel_arguments(
    threads: int | None = None, *, as_grader: bool = True, keep_threads: bool = False
) -> list[str]:
    """A grading kernel's extra arguments (nbclient's ``extra_arguments``): no history file, and
    before any cell, the thread variables at ``threads`` (default: :func:`free_threads`; with
    ``keep_threads``, as the environment sets them) and, with ``as_grader``,
    ``MTML_AUTOGRADE=1``, set before anything imports torch."""
    settings = {}
    if not keep_threads:
        threads = free_threads() if threads is None else check_int("threads", threads, minimum=1)
        settings = {name: str(threads) for name in THREAD_VARIABLES}
    if as_grader:
        settings["MTML_AUTOGRADE"] = "1"
    line = f"__import__('os').environ.update({settings!r})"
    return ["--HistoryManager.hist_file=:memory:", f"--IPKernelApp.exec_lines={line}"]
