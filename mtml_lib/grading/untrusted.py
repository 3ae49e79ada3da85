"""What runs on the untrusted side of grading: ``python -m mtml_lib.grading.untrusted TASK``.

Started inside the grading sandbox (:mod:`mtml_lib.grading.sandbox`), or as a plain process
with ``--no-sandbox``. It reads its whole input from standard input and writes its result to
standard output once, at the end; everything the code it runs prints goes nowhere.

Tasks:

* ``probes``: run a submission's code cells, then the grader's probes
  (:func:`probe_notebook`); input and result are JSON;
* ``execute``: run a notebook as nbgrader's autograder does, in a kernel of its own
  (nbgrader's ``Execute`` preprocessor); input and result are the notebook's JSON;
* ``exec``: run Python source, with its output kept (for checks and tests).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import sys
import types
from typing import Any

from .regrade import load_spec, submission_cells

# IPython magics and shell escapes: not Python, skipped
_MAGIC = re.compile(r"^\s*[%!].*$", re.MULTILINE)


def _probes(data: bytes) -> bytes:
    request = json.loads(data)
    folder = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / "grader"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in request["grader"].items():
        (folder / name).write_text(text, encoding="utf-8")
    spec = load_spec(folder / request["main"])
    # the id the submission is filed under, for a grader whose probes run at the student's own
    # seed (mtml_lib.course.variants); set before any submission code runs
    spec.STUDENT = request.get("student", "")
    # The grader is in memory now: its files are gone before any submission code runs.
    shutil.rmtree(folder)
    notebook = pathlib.Path.cwd() / "submission.ipynb"
    notebook.write_text(request["notebook"], encoding="utf-8")
    if request.get("parts") is not None:  # a re-grade of some parts only
        spec.PROBES = {p: probe for p, probe in spec.PROBES.items() if p in request["parts"]}
    results = probe_notebook(
        notebook, spec, cell_timeout=request["cell_timeout"], probe_timeout=request["probe_timeout"]
    )
    return json.dumps(results).encode()


def _execute(data: bytes) -> bytes:
    import nbformat

    from .nbgrader_step import TimedExecute

    request = json.loads(data)
    notebook = nbformat.reads(request["notebook"], as_version=4)
    executor = TimedExecute(timeout=request["timeout"], language=request.get("language"))
    notebook, _ = executor.preprocess(notebook, {"metadata": {"path": str(pathlib.Path.cwd())}})
    return nbformat.writes(notebook).encode()


def probe_notebook(
    notebook: str | os.PathLike, spec: types.ModuleType, *, cell_timeout: int, probe_timeout: int
) -> dict:
    """Run a notebook's code cells (test cells excluded, one time limit per cell), then the
    grader's probes on the objects it defined; return the probe data. The limits are fixed: the
    re-grade runs inside the grading's own thread budget, and a cell that ran past its limit is
    reported with it.

    Runs submission code: call it only on the untrusted side (:func:`run_probes` does).
    """
    import signal

    from .time_limit import CellTimeLimit

    # most=1: the base, whatever the load
    cell_limit, probe_limit = (
        CellTimeLimit(cell_timeout, most=1),
        CellTimeLimit(probe_timeout, most=1),
    )

    # not an Exception: a submission's `except Exception` cannot swallow it
    class Timeout(BaseException):
        pass

    def alarm(signum, frame):
        raise Timeout()

    signal.signal(signal.SIGALRM, alarm)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    results: dict[str, Any] = {"cells": {}, "parts": {}}
    for cell in submission_cells(notebook):
        if cell["test"] or cell["skip"]:
            continue
        source = _MAGIC.sub("", cell["source"])
        signal.alarm(cell_limit())
        try:
            exec(compile(source, f"<cell {cell['id']}>", "exec"), namespace)
            results["cells"][cell["id"]] = "ok"
        except Timeout:
            results["cells"][cell["id"]] = _timed_out(cell_limit)
        # A failing cell is recorded, the rest still runs.
        except BaseException as error:  # noqa: BLE001
            results["cells"][cell["id"]] = _describe(error)
        finally:
            signal.alarm(0)
    for part, probe in spec.PROBES.items():
        signal.alarm(probe_limit())
        try:
            results["parts"][part] = {"data": _plain(probe(namespace))}
        except Timeout:
            results["parts"][part] = {"error": _timed_out(probe_limit)}
        except BaseException as error:  # noqa: BLE001
            results["parts"][part] = {"error": _describe(error)}
        finally:
            signal.alarm(0)
    return results


def _timed_out(limit) -> str:
    """A cell's or probe's outcome when it ran into its limit (the re-grade's feedback names the
    time limit for the word "timeout" in it)."""
    scaled = limit.last
    return (
        f"timeout after {scaled.seconds} s ({scaled.base} s x{scaled.factor:.1f}, "
        f"{scaled.load:.0f} other threads on {scaled.cores} cores)"
    )


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}".rstrip(": ")


def _plain(value: Any) -> Any:
    """Convert probe output to JSON-able plain data (tensors and arrays become nested lists)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    raise TypeError(f"a probe must return plain data; got {type(value).__name__}.")


def main() -> None:
    task = sys.argv[1]
    data = sys.stdin.buffer.read()
    if task == "exec":
        exec(compile(data, "<sandboxed>", "exec"), {"__name__": "__main__"})
        return
    # The result leaves through a private copy of standard output; the code that runs here
    # prints into /dev/null, from Python or C.
    result = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process's life
    tasks = {"probes": _probes, "execute": _execute}
    result.write(tasks[task](data))
    result.close()


if __name__ == "__main__":
    main()
