r"""A conditioning choice trained on related sinusoids: notebook 02's explorer experiment.

Example:
    >>> run = fit_related_sinusoids("multihead", relatedness=-1.0, steps=5, device="cpu")
    >>> run.train.num_tasks, len(run.history.final_metrics)
    (4, 4)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data.multitask_data import MultiTaskDataset
from ..data.sinusoids import related_sinusoids
from ..models.conditioning import ConditionedModel, get_conditioning
from ..seeding import seeded
from ..tasks import Task
from ..training import FitHistory, fit

__all__ = ["SinusoidRun", "fit_related_sinusoids"]


@dataclass
class SinusoidRun:
    """A trained model, its noisy training data,
    the noise-free tasks it is scored against, its history.
    """

    model: ConditionedModel
    train: MultiTaskDataset
    truth: list[Task]
    history: FitHistory


def fit_related_sinusoids(
    choice: str,
    *,
    relatedness: float,
    num_tasks: int = 4,
    n_train: int = 20,
    steps: int = 300,
    lr: float = 3e-3,
    seed: int = 0,
    device: str | torch.device = "auto",
) -> SinusoidRun:
    """Train conditioning ``choice`` on :func:`~mtml_lib.data.synthetic.related_sinusoids` with
    ``n_train`` noisy points per task; evaluated on 400 points of the true functions."""
    train = MultiTaskDataset.sample(
        related_sinusoids(num_tasks, relatedness=relatedness), n_train, generator=seed
    )
    truth = related_sinusoids(num_tasks, relatedness=relatedness, noise=0.0)
    test = MultiTaskDataset.sample(truth, 400, generator=seed + 1)
    with seeded(seed):
        model = get_conditioning(choice, in_features=1, out_features=1, num_tasks=num_tasks)
    history = fit(
        model,
        train,
        "equal",
        steps=steps,
        lr=lr,
        device=device,
        generator=seed,
        eval_data=test,
        progress=False,
    )
    return SinusoidRun(model, train, truth, history)
