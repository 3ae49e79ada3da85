"""Run `fit` for every weighting method inside one torchrun process group (started by
test_distributed_fit.py).

    torchrun --nproc_per_node=2 --no-python python tests/fit_worker.py OUT

Rank r draws its batches from generator SEED + r. Rank 0 writes OUT/<run>.pt with the final
weights, the
logged history, every rank's weights (to check that the processes agree) and every rank's own
per-step losses.
"""

from __future__ import annotations

import pathlib
import sys

import torch

from mtml_lib import distributed
from mtml_lib.data.multitask_data import MultiTaskDataset
from mtml_lib.data.sinusoids import related_sinusoids
from mtml_lib.models.conditioning import get_conditioning
from mtml_lib.training import fit
from mtml_lib.weighting import WEIGHTING, get_weighting

SEED, STEPS, BATCH, LR = 3, 8, 16, 1e-2
#: per method: (hyperparameters, tasks_per_step); the rest of the methods take their defaults
HYPER = {
    "static": {"weights": [1.0, 0.5, 2.0]},
    "dwa": {"window": 2},
    "worst_case": {"temperature": 0.5},
}
#: runs that draw a subset of the tasks at each step (each process its own subset)
SUBSET_RUNS = {"equal, 2 of 3 tasks": "equal", "pcgrad, 2 of 3 tasks": "pcgrad"}


def data() -> MultiTaskDataset:
    """Three tasks, two of them in conflict with the third, so that projections happen."""
    return MultiTaskDataset.sample(related_sinusoids(3, relatedness=-0.5), 64, generator=0)


def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return get_conditioning(
        "multihead", in_features=1, out_features=1, num_tasks=3, hidden=(16, 16)
    )


def method(name: str):
    return get_weighting(name, num_tasks=3, **HYPER.get(name, {}))


def main(out: pathlib.Path) -> None:
    with distributed.process_group("cpu") as (ctx, _):
        runs = {name: (name, None) for name in WEIGHTING}
        runs.update({label: (name, 2) for label, name in SUBSET_RUNS.items()})
        for label, (name, tasks_per_step) in runs.items():
            net, own_losses = model(), []
            history = fit(
                net,
                data(),
                method(name),
                steps=STEPS,
                lr=LR,
                batch_size=BATCH,
                tasks_per_step=tasks_per_step,
                device="cpu",
                generator=SEED + ctx.rank,
                progress=False,
                callback=lambda step, model, losses, own=own_losses: own.append(losses.clone()),
            )
            every_rank = distributed.all_gather_objects((net.state_dict(), torch.stack(own_losses)))
            if ctx.is_main:
                torch.save(
                    {
                        "model": net.state_dict(),
                        "history": history.to_dict(),
                        "every_rank": [weights for weights, _ in every_rank],
                        "rank_losses": torch.stack([losses for _, losses in every_rank]),
                    },  # (ranks, steps, T)
                    out / f"{label}.pt",
                )


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
