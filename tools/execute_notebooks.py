"""Re-execute notebooks in place on the CPU, then strip noise: the one way stored outputs are made.

    make notebooks                              # every lab notebook
    make notebooks NB=notebooks/01_tasks.ipynb  # one

Each notebook gets the ``python3`` kernelspec (a missing one blocks JupyterLab
with a kernel dialog), runs top to bottom in the current environment with
``MTML_DEVICE=cpu`` (reference outputs come from the CPU, as in CI), and is
cleaned with ``nbstripout --keep-output --keep-count`` (widget state and
metadata noise go; outputs and execution counts, which nbval needs, stay).
The wall time of each notebook, and of all of them, is printed (the budget on a 2-core CPU:
180 s for each lab notebook, 600 s for all six).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import time

import nbformat
from nbclient import NotebookClient

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def execute(path: pathlib.Path, timeout: int) -> float:
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata.setdefault("language_info", {"name": "python"})
    os.environ["MTML_DEVICE"] = "cpu"
    began = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    seconds = time.perf_counter() - began
    nbformat.write(notebook, path)
    subprocess.run(
        [sys.executable, "-m", "nbstripout", "--keep-output", "--keep-count", str(path)], check=True
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args()
    total = 0.0
    for path in args.notebooks:
        seconds = execute(path, args.timeout)
        total += seconds
        print(f"{path}: executed in {seconds:.1f} s")
    if len(args.notebooks) > 1:
        print(f"{len(args.notebooks)} notebooks: {total:.1f} s in all")


if __name__ == "__main__":
    main()
