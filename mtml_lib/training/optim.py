"""The optimiser and its learning-rate schedule: one factory every training loop shares.

A run names its optimiser and schedule in its config (:class:`~mtml_lib.training.TrainConfig`:
``optimizer``, ``lr``, ``weight_decay``, ``schedule``, ``warmup_steps``; the ``[train]`` table of
an ``mtml train`` TOML file takes the same keys). :func:`make_optimizer` builds the
:mod:`torch.optim` optimiser; :func:`learning_rate` is the schedule, a function of the step alone,
so a run resumed from a checkpoint continues it exactly (no scheduler state to save), and
:func:`apply_schedule` sets it before a step.

========== ==================================================================================
schedule   learning rate at step t of T (after ``warmup_steps`` of linear warm-up from lr / W)
========== ==================================================================================
constant   ``lr``
cosine     half a cosine from ``lr`` (the first step after the warm-up) down to 0 (the last step)
========== ==================================================================================

Example:
    >>> from mtml_lib.training import FitConfig
    >>> config = FitConfig(steps=101, lr=0.1, schedule="cosine", warmup_steps=10)
    >>> [round(learning_rate(config, t), 4) for t in (0, 9, 10, 55, 100)]
    [0.01, 0.1, 0.1, 0.05, 0.0]
    >>> type(make_optimizer([torch.zeros(1, requires_grad=True)], "adamw", lr=0.1)).__name__
    'AdamW'
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from .._validation import check_float, lookup

__all__ = ["OPTIMIZERS", "SCHEDULES", "apply_schedule", "learning_rate", "make_optimizer"]

#: name -> the torch.optim class
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}
SCHEDULES = ("constant", "cosine")


def make_optimizer(
    parameters: Iterable, name: str = "adam", *, lr: float, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """The :data:`OPTIMIZERS` entry ``name`` over ``parameters`` (a list of tensors or of
    parameter groups), with learning rate ``lr`` and ``weight_decay`` (Adam and SGD: an L2
    penalty added to the gradient; AdamW: decoupled decay).

    Raises:
        ValueError: an unknown ``name`` (the message lists the valid ones), ``lr <= 0`` or a
            negative ``weight_decay``.
    """
    optimizer = lookup(OPTIMIZERS, name, param="optimizer", family="optimizer")
    lr = check_float("lr", lr, minimum=0.0, strict_minimum=True)
    weight_decay = check_float("weight_decay", weight_decay, minimum=0.0)
    return optimizer(parameters, lr=lr, weight_decay=weight_decay)


def learning_rate(config, step: int) -> float:
    """The learning rate of step ``step`` (0-based) of a run of ``config.steps`` steps."""
    lr, warmup = config.lr, config.warmup_steps
    if step < warmup:
        return lr * (step + 1) / warmup
    if config.schedule == "cosine":
        span = max(config.steps - 1 - warmup, 1)
        return lr * (1 + math.cos(math.pi * (step - warmup) / span)) / 2
    return lr


def apply_schedule(optimizer: torch.optim.Optimizer, config, step: int) -> None:
    """Set every parameter group's learning rate to the schedule's value at ``step``."""
    lr = learning_rate(config, step)
    for group in optimizer.param_groups:
        group["lr"] = lr
