"""The options of a training run: frozen dataclasses, checked when they are made.

:class:`TrainConfig` holds what both loops share; :class:`FitConfig` (multi-task) and
:class:`MetaTrainConfig` (meta-learning) add their own. Every training entry point takes
one, or keyword arguments that build one (:func:`make_config`), so a bad option fails at
once, named, before anything is trained.

Example:
    >>> config = FitConfig(steps=10, lr=1e-2)
    >>> config.replace(batch_size=64).batch_size
    64
    >>> FitConfig(steps=0)
    Traceback (most recent call last):
    ...
    ValueError: `steps` must be an integer >= 1; got 0.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import torch

from .._validation import check_choice, check_float, check_int
from .optim import OPTIMIZERS, SCHEDULES

__all__ = ["TrainConfig", "FitConfig", "MetaTrainConfig", "make_config"]


@dataclass(frozen=True)
class TrainConfig:
    """The options of a training run, shared by both loops.

    Attributes:
        steps: total optimiser steps (a resumed run continues up to it).
        lr: the learning rate (the schedule's peak).
        weight_decay: the optimiser's weight decay (Adam, SGD: L2 penalty; AdamW: decoupled).
        optimizer: a key of :data:`mtml_lib.training.optim.OPTIMIZERS`: ``"adam"``, ``"adamw"``
            or ``"sgd"``.
        schedule: the learning rate over the steps: ``"constant"`` or ``"cosine"``
            (:func:`mtml_lib.training.optim.learning_rate`).
        warmup_steps: steps of linear warm-up to ``lr`` before the schedule (0: none).
        device: ``"auto"`` or a device name (see :func:`mtml_lib.device.get_device`).
        eval_every: evaluation period in steps (None: only at the end, when there is
            something to evaluate on).
        keep_best: end with the weights that evaluated best rather than the last ones.
        checkpoint: a file to save to every ``checkpoint_every`` steps and at the end;
            if it exists, training resumes from it.
        checkpoint_every: checkpoint period in steps.
        progress: show a tqdm progress bar (rank 0 only under torchrun).
        description: the progress bar's label.
    """

    steps: int
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    schedule: str = "constant"
    warmup_steps: int = 0
    device: str | torch.device = "auto"
    eval_every: int | None = None
    keep_best: bool = False
    checkpoint: str | os.PathLike | None = None
    checkpoint_every: int = 100
    progress: bool = True
    description: str | None = None

    def __post_init__(self):
        check_int("steps", self.steps, minimum=1)
        check_float("lr", self.lr, minimum=0.0, strict_minimum=True)
        check_float("weight_decay", self.weight_decay, minimum=0.0)
        check_choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        check_choice("schedule", self.schedule, SCHEDULES)
        check_int("warmup_steps", self.warmup_steps, minimum=0, maximum=self.steps - 1)
        check_int("checkpoint_every", self.checkpoint_every, minimum=1)
        if self.eval_every is not None:
            check_int("eval_every", self.eval_every, minimum=1)
        self._check_switches("keep_best", "progress")

    def _check_switches(self, *names: str) -> None:
        for name in names:
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"`{name}` must be True or False; got {getattr(self, name)!r}.")

    def replace(self, **changes) -> TrainConfig:
        """A copy with ``changes`` applied (and checked)."""
        return make_config(type(self), self, **changes)


def make_config(
    kind: type[TrainConfig], config: TrainConfig | None = None, **options
) -> TrainConfig:
    """``config`` (or a fresh ``kind``) with ``options`` applied; an unknown option is named."""
    if config is not None and not isinstance(config, kind):
        raise TypeError(f"`config` must be a {kind.__name__}; got {type(config).__name__}.")
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; {kind.__name__} takes {sorted(known)}.")
    if config is None:
        if "steps" not in options:
            raise TypeError("`steps` must be given (the number of optimiser steps); got none.")
        return kind(**options)
    return dataclasses.replace(config, **options)


@dataclass(frozen=True)
class FitConfig(TrainConfig):
    """:class:`TrainConfig` plus how :func:`fit` samples its batches.

    Attributes:
        batch_size: examples per task per step.
        tasks_per_step: how many tasks each step trains on (None: all).
        task_sampling: how those tasks are chosen: ``"uniform"`` or ``"proportional"`` to
            the size of their dataset.
    """

    batch_size: int = 32
    tasks_per_step: int | None = None
    task_sampling: str = "uniform"

    def __post_init__(self):
        super().__post_init__()
        check_int("batch_size", self.batch_size, minimum=1)
        if self.tasks_per_step is not None:
            check_int("tasks_per_step", self.tasks_per_step, minimum=1)
        check_choice("task_sampling", self.task_sampling, ("uniform", "proportional"))


@dataclass(frozen=True)
class MetaTrainConfig(TrainConfig):
    """:class:`TrainConfig` plus meta-training's own options.

    Attributes:
        keep_best: end with the weights that validated best (the default here).
        eval_episodes: meta-validation episodes per evaluation.
        autocast: bfloat16 autocast on GPUs that support it (no effect on the CPU).
        compile: compile the learner's training step with ``torch.compile`` (the first steps
            pay for the compilation; see ``python -m benchmarks compile`` for what it buys).
    """

    keep_best: bool = True
    eval_episodes: int = 200
    autocast: bool = True
    compile: bool = False

    def __post_init__(self):
        super().__post_init__()
        check_int("eval_episodes", self.eval_episodes, minimum=2)
        self._check_switches("autocast", "compile")
