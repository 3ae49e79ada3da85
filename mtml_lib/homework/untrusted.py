"""What runs on the untrusted side of grading: ``python -m mtml_lib.homework.untrusted TASK``.

Started inside the grading sandbox (:mod:`mtml_lib.homework.sandbox`), or as a plain process
with ``--no-sandbox``. It reads its whole input from standard input and writes its result to
standard output once, at the end; everything the code it runs prints goes nowhere.

Tasks:

* ``probes``: run a submission's code cells, then the grader's probes
  (:func:`mtml_lib.homework.regrade.probe_notebook`); input and result are JSON;
* ``execute``: run a notebook as nbgrader's autograder does, in a kernel of its own
  (nbgrader's ``Execute`` preprocessor); input and result are the notebook's JSON;
* ``exec``: run Python source, with its output kept (for checks and tests).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import sys


def _probes(data: bytes) -> bytes:
    from .regrade import load_spec, probe_notebook

    request = json.loads(data)
    folder = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / "grader"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in request["grader"].items():
        (folder / name).write_text(text)
    spec = load_spec(folder / request["main"])
    # The grader is in memory now: its files are gone before any submission code runs.
    shutil.rmtree(folder)
    notebook = pathlib.Path.cwd() / "submission.ipynb"
    notebook.write_text(request["notebook"])
    results = probe_notebook(
        notebook, spec, cell_timeout=request["cell_timeout"], probe_timeout=request["probe_timeout"]
    )
    return json.dumps(results).encode()


def _execute(data: bytes) -> bytes:
    import nbformat
    from nbgrader.preprocessors import Execute

    request = json.loads(data)
    notebook = nbformat.reads(request["notebook"], as_version=4)
    executor = Execute(timeout=request["timeout"])
    notebook, _ = executor.preprocess(notebook, {"metadata": {"path": str(pathlib.Path.cwd())}})
    return nbformat.writes(notebook).encode()


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
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the process's life
    tasks = {"probes": _probes, "execute": _execute}
    result.write(tasks[task](data))
    result.close()


if __name__ == "__main__":
    main()
