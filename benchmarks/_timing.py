"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import os
import pathlib
import statistics
import time
from collections.abc import Callable, Sequence

import torch

from mtml_lib.device import synchronize


def time_side_by_side(
    fns: Sequence[Callable[[], object]],
    *,
    device: torch.device,
    warmup: int = 5,
    rounds: int = 15,
    calls: int = 5,
    min_seconds: float = 0.0,
) -> list[float]:
    """Median seconds per call of each function, measured in alternating rounds.

    Alternating (a few calls of each, round after round) exposes every function to
    the same machine conditions, so their ratio is stable even when the absolute
    times drift. Each round calls a function ``calls`` times, or more until
    ``min_seconds`` have passed, so a fast function is not timed from a single call
    made with the caches the previous (slow) one left cold.
    """
    for fn in fns:
        for _ in range(warmup):
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, bucket in zip(fns, samples):
            synchronize(device)
            start, done = time.perf_counter(), 0
            while done < calls or time.perf_counter() - start < min_seconds:
                fn()
                done += 1
                if done >= calls:
                    synchronize(device)
            synchronize(device)
            bucket.append((time.perf_counter() - start) / done)
    return [statistics.median(bucket) for bucket in samples]


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


def execute_cell_by_cell(
    path: pathlib.Path, *, timeout: int
) -> tuple[list[tuple[object, float]], float]:
    """Execute the notebook at ``path`` in place, in a fresh kernel on the CPU (outside grading:
    ``MTML_AUTOGRADE`` unset), timing each code cell; return ``[(cell, seconds)]`` and the total.
    The kernel runs in the notebook's folder."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    env = {key: value for key, value in os.environ.items() if key != "MTML_AUTOGRADE"}
    env["MTML_DEVICE"] = "cpu"
    timed = []
    with client.setup_kernel(env=env):
        began = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                start = time.perf_counter()
                client.execute_cell(cell, index)
                timed.append((cell, time.perf_counter() - start))
        total = time.perf_counter() - began
    nbformat.write(notebook, path)
    return timed, total
