"""Small settings for every student notebook, injected the way papermill does (a tagged
``injected-parameters`` cell after the ``parameters`` cell), so that the handout and browser
tests run every cell of every notebook in little CI time. The full settings run under nbval;
the statements a notebook prints are only claims at its own settings, so these runs check that
everything runs, not what it finds."""

from __future__ import annotations

import pathlib

SMALL = {
    "01_tasks.ipynb": {"SEEDS": 2, "N_TRAIN": 200, "N_TEST": 200, "STEPS": 30},
    "02_conditioning.ipynb": {
        "SEEDS": 2,
        "A_TRAIN_PER_TASK": 50,
        "A_STEPS": 30,
        "B_STEPS": 30,
    },
    "03_objective.ipynb": {
        "SEEDS": 2,
        "TOY_TRAIN": 500,
        "TOY_STEPS": 120,
        "CONFLICT_STEPS": 60,
        "CONFLICT_SEEDS": 2,
        "WORST_STEPS": 120,
        "COMPARE_STEPS": 120,
        "COMPARE_SEEDS": 2,
        "TIMING_STEPS": 5,
    },
    "04_challenges.ipynb": {
        "NT_SEEDS": 2,
        "NT_TRAIN": 1000,
        "NT_STEPS": 60,
        "CAUSE_SEEDS": 2,
        "COSINE_STEPS": 60,
        "CAPACITY_SEEDS": 2,
        "OF_STEPS": 60,
        "OF_SEEDS": 2,
        "GROUP_SEEDS": 2,
        "CASE_STEPS": 120,
        "CASE_SEEDS": 2,
    },
    "05_meta_learning.ipynb": {"TEST_EPISODES": 50, "LEAK_STEPS": 30, "LEAK_SEEDS": 2},
    "06_black_box_adaptation.ipynb": {
        "META_BATCH": 4,
        "RUNS": 2,
        "STEPS": {"hypernetwork": 10, "transformer": 10, "cnp": 10},
        "PRETRAIN_STEPS": 20,
        "TEST_EPISODES": 50,
        "LSTM_STEPS": 20,
        "LSTM_TEST_EPISODES": 60,
        "CNP_STEPS": 60,
    },
    "appendix_kernels.ipynb": {},  # its defaults take under a minute
}


def inject(path: pathlib.Path, parameters: dict | None = None) -> pathlib.Path:
    """Write ``path`` back with ``parameters`` (default: its SMALL settings) injected."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    parameters = SMALL[path.name] if parameters is None else parameters
    notebook = load_notebook_node(str(path))  # with the metadata papermill keeps
    if parameters:
        notebook = parameterize_notebook(notebook, parameters)
    nbformat.write(notebook, path)
    return path


def run_all(path: pathlib.Path, *, kernel: str = "python3", timeout: int = 900, env=None) -> dict:
    """Execute every cell of ``path`` (errors do not stop the run) in kernel ``kernel``; what
    a student would see: each error's cell and name, the printed text, and the seconds."""
    import os
    import time

    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=timeout,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    saved = dict(os.environ)
    os.environ.update(env or {})
    started = time.monotonic()
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    errors, printed = [], []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                errors.append((index, output.ename, output.evalue[:200]))
            elif output.output_type == "stream":
                printed.append(output.text)
    return {
        "errors": errors,
        "printed": "".join(printed),
        "seconds": time.monotonic() - started,
        "cells": sum(c.cell_type == "code" for c in notebook.cells),
    }
