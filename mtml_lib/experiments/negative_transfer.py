r"""Negative transfer on the MMoE paper's synthetic tasks: the one run that notebook 04, its
explorer and the ``mmoe`` configs share.

Two regression tasks whose weight vectors have cosine :math:`p`
(:func:`~mtml_lib.data.synthetic.mmoe_correlated` with :math:`c = 1`, :math:`d = 100`; with the
common :math:`c = 0.3` the sines are nearly linear and every model fits both tasks), and four
models of about the same size (:data:`MODELS`): a shared bottom, a one-gate MoE, an MMoE and
independent networks (the single-task baseline).

Example:
    >>> train, test = correlated_data(0.5, seed=0, n_train=200, n_test=100)
    >>> model, history = train_model("MMoE", train, test, seed=0, steps=5, device="cpu")
    >>> len(history.final_metrics)
    2
"""

from __future__ import annotations

import contextlib

import torch

from ..data.multitask_data import MultiTaskDataset, sample_train_test
from ..data.synthetic import mmoe_correlated
from ..models.conditioning import ConditionedModel, get_conditioning
from ..seeding import seeded
from ..training import FitHistory, fit

__all__ = ["MODELS", "correlated_tasks", "correlated_data", "make_model", "train_model"]

#: The models compared: label -> (conditioning choice, options). Sized after the paper but
#: smaller, so that a CPU trains them: about 7,400 to 9,400 parameters each.
MODELS = {
    "shared-bottom": ("multihead", {"hidden": (80,), "head_hidden": (8,)}),
    "one-gate MoE": ("moe", {"hidden": (8,), "num_experts": 8, "tower_hidden": (8,)}),
    "MMoE": ("mmoe", {"hidden": (8,), "num_experts": 8, "tower_hidden": (8,)}),
    "independent": ("independent", {"hidden": (40, 8)}),
}
IN_FEATURES = 100


def correlated_tasks(correlation: float):
    """The two tasks at correlation ``correlation`` (one fixed task family: only p changes)."""
    return mmoe_correlated(correlation, in_features=IN_FEATURES, scale=1.0, generator=0)


def correlated_data(
    correlation: float,
    *,
    seed: int,
    n_train: int = 20000,
    n_test: int = 2000,
    device: str | torch.device = "cpu",
) -> tuple[MultiTaskDataset, MultiTaskDataset]:
    """Training and held-out data of :func:`correlated_tasks` (see
    :func:`~mtml_lib.data.multitask_data.sample_train_test`)."""
    return sample_train_test(
        correlated_tasks(correlation), n_train, n_test, seed=seed, device=device
    )


def make_model(label: str, *, seed: int | None, num_tasks: int = 2) -> ConditionedModel:
    """Model ``label`` of :data:`MODELS`, initialised from ``seed``; ``None`` draws from torch's
    global stream as it stands (what :func:`~mtml_lib.training.replicas.fit_replicas` seeds for
    each replica)."""
    if label not in MODELS:
        raise ValueError(f"`label` must be one of {list(MODELS)}; got {label!r}.")
    name, options = MODELS[label]
    with contextlib.nullcontext() if seed is None else seeded(seed):
        return get_conditioning(
            name, in_features=IN_FEATURES, out_features=1, num_tasks=num_tasks, **options
        )


def train_model(
    label: str,
    train: MultiTaskDataset,
    test: MultiTaskDataset,
    *,
    seed: int,
    steps: int = 1500,
    lr: float = 3e-3,
    batch_size: int = 128,
    device: str | torch.device = "auto",
    eval_every: int | None = None,
    callback=None,
) -> tuple[ConditionedModel, FitHistory]:
    """Train model ``label`` with equal weights; the test MSE of each task is
    ``history.final_metrics``.
    """
    model = make_model(label, seed=seed, num_tasks=train.num_tasks)
    history = fit(
        model,
        train,
        "equal",
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        device=device,
        generator=seed,
        eval_data=test,
        eval_every=eval_every,
        progress=False,
        callback=callback,
    )
    return model, history
