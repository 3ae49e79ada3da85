r"""Measurements taken while a model trains: ``fit`` callbacks that record on a fixed probe batch.

* :class:`GradientCosineRecorder`: the cosine between the tasks' gradients on the shared
  parameters (negative: the tasks pull the shared weights apart);
* :class:`AffinityRecorder`: TAG's one-step lookahead affinity :math:`Z_{i \to j}`.

Both measure on one fixed batch (``probe``) every ``every`` steps, so that the numbers
change with the model, not with the batch.

Example:
    >>> from mtml_lib.data.multitask_data import MultiTaskDataset
    >>> from mtml_lib.data.sinusoids import related_sinusoids
    >>> from mtml_lib.models.conditioning import get_conditioning
    >>> from mtml_lib.training import fit
    >>> data = MultiTaskDataset.sample(related_sinusoids(2, relatedness=-1.0), 100, generator=0)
    >>> recorder = GradientCosineRecorder(data, data.batch(64, generator=0), every=5)
    >>> model = get_conditioning("shared", in_features=1, out_features=1, num_tasks=2, hidden=(8,))
    >>> _ = fit(model, data, steps=20, device="cpu", generator=0, progress=False, callback=recorder)
    >>> recorder.steps, tuple(recorder.matrices().shape)
    ([0, 5, 10, 15], (4, 2, 2))
"""

from __future__ import annotations

import torch
from torch import nn

from .._validation import check_int
from ..data.multitask_data import MultiTaskBatch, MultiTaskDataset
from ..metrics import gradient_cosine, task_affinity
from ..training.multitask_loop import task_losses
from ..weighting import parameter_groups

__all__ = ["GradientCosineRecorder", "AffinityRecorder"]


class _Recorder:
    """Calls :meth:`measure` every ``every`` steps and keeps its ``(T, T)`` results on the CPU."""

    def __init__(self, data: MultiTaskDataset, probe: MultiTaskBatch, *, every: int = 10):
        self.data, self.probe = data, probe
        self.every = check_int("every", every, minimum=1)
        self.steps: list[int] = []
        self.records: list[torch.Tensor] = []

    def measure(self, model: nn.Module) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, step: int, model: nn.Module, losses: torch.Tensor) -> None:
        if step % self.every == 0:
            self.steps.append(step)
            self.records.append(self.measure(model).cpu())

    def _probe_on(self, model: nn.Module) -> MultiTaskBatch:
        device = next(model.parameters()).device
        if self.probe.x.device == device:
            return self.probe
        self.probe = self.probe.to(device)
        self.data = self.data.to(device)
        return self.probe

    def matrices(self) -> torch.Tensor:
        """Every record, ``(records, T, T)``."""
        return torch.stack(self.records)

    def pair(self, i: int, j: int) -> torch.Tensor:
        """The records of one pair of tasks, ``(records,)``."""
        return self.matrices()[:, i, j]


class GradientCosineRecorder(_Recorder):
    """Record :func:`~mtml_lib.metrics.gradient_cosine` between every pair of tasks, on the model's
    shared parameters (all parameters for a model that does not say which are shared)."""

    def measure(self, model: nn.Module) -> torch.Tensor:
        probe = self._probe_on(model)
        shared, _ = parameter_groups(model)
        return gradient_cosine(task_losses(model, self.data, probe), shared)


class AffinityRecorder(_Recorder):
    r"""Record :func:`~mtml_lib.metrics.task_affinity`, :math:`Z_{i \to j}` for a lookahead step of
    ``lr``;
    :meth:`mean` averages it over training, as TAG does before grouping the tasks."""

    def __init__(
        self, data: MultiTaskDataset, probe: MultiTaskBatch, *, lr: float, every: int = 10
    ):
        super().__init__(data, probe, every=every)
        self.lr = lr

    def measure(self, model: nn.Module) -> torch.Tensor:
        probe = self._probe_on(model)
        return task_affinity(
            lambda: task_losses(model, self.data, probe), parameter_groups(model)[0], lr=self.lr
        )

    def mean(self) -> torch.Tensor:
        """The affinity averaged over the records, ``(T, T)``."""
        return self.matrices().mean(0)
