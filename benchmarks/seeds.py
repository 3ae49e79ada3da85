"""What seed-batching buys: S seeds trained as one batched model, against S runs in a row.

The model is notebook 04's MMoE (8 experts of 8 units, towers of 8, about 8,200 parameters) on
the MMoE paper's two correlated tasks (d = 100, 5,000 training examples per task), trained for
200 steps of 128 examples per task with equal weights. Three ways, timed in alternating rounds
(median of 3): one seed (`fit_replicas` with one seed), S = 16 seeds batched (`fit_replicas`),
and the same 16 seeds one after another (`fit`, as a notebook would loop).
"""

from __future__ import annotations

import statistics
import time

from mtml_lib import fit
from mtml_lib.device import get_device, synchronize
from mtml_lib.experiments import negative_transfer
from mtml_lib.training.replicas import fit_replicas

from ._timing import print_table

SEEDS, STEPS, BATCH = 16, 200, 128


def _runs(device):
    train, _ = negative_transfer.correlated_data(
        0.5, seed=0, n_train=5000, n_test=100, device=device
    )
    options = {"steps": STEPS, "lr": 3e-3, "batch_size": BATCH, "device": device, "progress": False}

    def make():
        return negative_transfer.make_model("MMoE", seed=None)  # fit_replicas seeds each

    def sequential():
        for seed in range(SEEDS):
            fit(negative_transfer.make_model("MMoE", seed=seed), train, generator=seed, **options)

    return {
        "1 seed": lambda: fit_replicas(make, train, seeds=[0], **options),
        f"{SEEDS} seeds batched": lambda: fit_replicas(make, train, seeds=range(SEEDS), **options),
        f"{SEEDS} seeds in sequence": sequential,
    }


def main(device: str = "auto") -> dict[str, float]:
    device = get_device(device)
    runs = _runs(device)
    samples = {name: [] for name in runs}
    for run in runs.values():  # warm-up: first-call costs (allocations, caches) out of the timings
        run()
    for _ in range(3):
        for name, run in runs.items():
            synchronize(device)
            began = time.perf_counter()
            run()
            synchronize(device)
            samples[name].append(time.perf_counter() - began)
    seconds = {name: statistics.median(values) for name, values in samples.items()}
    one = seconds["1 seed"]
    rows = [[name, f"{s:.2f}", f"{s / one:.1f}x"] for name, s in seconds.items()]
    print_table(f"{STEPS} steps of an MMoE, {device.type}", ["run", "seconds", "vs one seed"], rows)
    batched, sequential = (seconds[name] / one for name in list(seconds)[1:])
    summary = f"batched S={SEEDS} costs {batched:.1f}x one seed; sequential costs {sequential:.1f}x"
    print(f"seeds: {summary}")
    return seconds
