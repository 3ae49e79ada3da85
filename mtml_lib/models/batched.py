"""T small networks evaluated as one batched kernel.

A mixed-task batch ``x (B, D)`` with ``task_id (B,)`` is scattered into a padded
tensor ``(T, M, D)`` (M = the largest task count in the batch), every layer of
every task runs in a single ``torch.baddbmm``, and the rows are gathered back.
No Python loop over tasks; padding rows receive no gradient, so the loss of
task a leaves the parameters of task b with an exactly zero gradient.

Example:
    >>> import torch
    >>> nets = StackedMLP(num_tasks=3, in_features=4, hidden=(8,), out_features=2)
    >>> task_id = torch.tensor([2, 0, 2, 1])
    >>> tuple(nets(torch.randn(4, 4), TaskGrouping(task_id, 3)).shape)
    (4, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .._validation import check_int
from .backbones import normalize_hidden

__all__ = ["TaskGrouping", "StackedLinear", "StackedMLP"]


class TaskGrouping:
    """Where each row of a mixed-task batch goes in the padded ``(T, M, D)`` layout.

    Args:
        task_id: ``(B,)`` long tensor of task indices in ``[0, num_tasks)``.
        num_tasks: T.
    """

    def __init__(self, task_id: torch.Tensor, num_tasks: int):
        self.task_id = task_id
        self.num_tasks = num_tasks
        # Fast path: rows already grouped task after task in equal numbers (what the
        # training loop produces) are a reshape away from the padded layout.
        per_task, rest = divmod(task_id.numel(), num_tasks)
        self.grouped = (
            per_task > 0
            and rest == 0
            and torch.equal(
                task_id, torch.arange(num_tasks, device=task_id.device).repeat_interleave(per_task)
            )
        )
        if self.grouped:
            self.max_count = per_task
            return
        counts = torch.bincount(task_id, minlength=num_tasks)  # (T,)
        order = torch.argsort(task_id, stable=True)  # rows sorted by task
        starts = torch.cumsum(counts, 0) - counts  # first sorted slot of each task
        slot_sorted = torch.arange(task_id.numel(), device=task_id.device) - starts[task_id[order]]
        self.slot = torch.empty_like(task_id)
        self.slot[order] = slot_sorted  # row b sits at padded[task_id[b], slot[b]]
        self.max_count = int(counts.max()) if task_id.numel() else 0

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, D)`` -> ``(T, M, D)``, zeros where a task has fewer rows."""
        if self.grouped:
            return x.reshape(self.num_tasks, self.max_count, x.shape[-1])
        padded = torch.zeros(
            self.num_tasks, self.max_count, x.shape[-1], dtype=x.dtype, device=x.device
        )
        # out of place, so that a vmapped x (replicas, torch.func) scatters too
        return padded.index_put((self.task_id, self.slot), x)

    def unpad(self, padded: torch.Tensor) -> torch.Tensor:
        """``(T, M, D)`` -> ``(B, D)`` in the original row order."""
        if self.grouped:
            return padded.reshape(-1, padded.shape[-1])
        return padded[self.task_id, self.slot]


class StackedLinear(nn.Module):
    """T linear layers stored as ``weight (T, in, out)`` and ``bias (T, out)``.

    Initialised like ``nn.Linear`` (uniform in ``+-1/sqrt(in)``), so a stack
    starts out as T freshly built ``nn.Linear`` layers would.
    """

    def __init__(self, *, num_tasks: int, in_features: int, out_features: int):
        super().__init__()
        num_tasks = check_int("num_tasks", num_tasks, minimum=1)
        in_features = check_int("in_features", in_features, minimum=1)
        out_features = check_int("out_features", out_features, minimum=1)
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(
            torch.empty(num_tasks, in_features, out_features).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(num_tasks, out_features).uniform_(-bound, bound))

    def forward(self, padded: torch.Tensor) -> torch.Tensor:
        """``(T, M, in)`` -> ``(T, M, out)``: layer t applied to slice t."""
        return torch.baddbmm(self.bias.unsqueeze(1), padded, self.weight)


class StackedMLP(nn.Module):
    """T independent MLPs ``in -> *hidden -> out`` evaluated in one batched pass.

    All layers of all T networks live in one flat parameter ``flat``; each
    forward pass views it as per-layer ``weight (T, in, out)`` and ``bias (T, out)``
    tensors (see :meth:`layer_tensors`). One tensor instead of two per layer keeps
    the optimiser's per-tensor work constant, whatever the depth.

    Args:
        num_tasks, in_features, out_features: sizes.
        hidden: hidden widths (``()`` for a single linear layer).
        final_activation: ReLU after the last layer too.
    """

    def __init__(
        self,
        *,
        num_tasks: int,
        in_features: int,
        hidden: int | Sequence[int],
        out_features: int,
        final_activation: bool = False,
    ):
        super().__init__()
        num_tasks = check_int("num_tasks", num_tasks, minimum=1)
        widths = (
            check_int("in_features", in_features, minimum=1),
            *normalize_hidden(hidden, allow_empty=True),
            check_int("out_features", out_features, minimum=1),
        )
        self.num_tasks = num_tasks
        self.shapes = [
            shape
            for a, b in zip(widths[:-1], widths[1:])
            for shape in ((num_tasks, a, b), (num_tasks, b))
        ]
        self.sizes = [math.prod(shape) for shape in self.shapes]
        chunks = []
        for weight_shape, bias_shape in zip(self.shapes[::2], self.shapes[1::2]):
            bound = 1.0 / math.sqrt(weight_shape[1])  # as nn.Linear initialises
            chunks += [
                torch.empty(weight_shape).uniform_(-bound, bound).flatten(),
                torch.empty(bias_shape).uniform_(-bound, bound).flatten(),
            ]
        self.flat = nn.Parameter(torch.cat(chunks))
        self.final_activation = final_activation

    @property
    def num_layers(self) -> int:
        return len(self.shapes) // 2

    def layer_tensors(
        self, flat: torch.Tensor | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``[(weight (T, in, out), bias (T, out)), ...]`` as views of ``flat`` (default: the
        parameters; pass ``self.flat.grad`` to read the gradients layer by layer)."""
        flat = self.flat if flat is None else flat
        views = [
            chunk.view(shape) for chunk, shape in zip(torch.split(flat, self.sizes), self.shapes)
        ]
        return list(zip(views[::2], views[1::2]))

    def forward_padded(self, padded: torch.Tensor) -> torch.Tensor:
        """``(T, M, in)`` -> ``(T, M, out)``."""
        return self._layers(padded, self.layer_tensors())

    def forward_shared(self, x: torch.Tensor) -> torch.Tensor:
        """Every network on the same rows: ``x (B, in)`` -> ``(T, B, out)`` (mixture experts).

        The first layer is one product with every network's weights, so the input is never
        copied T times (nor R x T times for stacked replicas).
        """
        (weight, bias), *rest = self.layer_tensors()
        h = torch.einsum("bi,tio->tbo", x, weight) + bias.unsqueeze(1)  # (T, B, out)
        if rest or self.final_activation:
            h = torch.relu(h)
        return self._layers(h, rest, offset=1)

    def _layers(self, h: torch.Tensor, layers: list, offset: int = 0) -> torch.Tensor:
        last = self.num_layers - 1
        for i, (weight, bias) in enumerate(layers, start=offset):
            h = torch.baddbmm(bias.unsqueeze(1), h, weight)  # (T, M, out)
            if i < last or self.final_activation:
                h = torch.relu(h)
        return h

    def forward(self, x: torch.Tensor, grouping: TaskGrouping) -> torch.Tensor:
        """``x (B, in)`` routed by ``grouping`` -> ``(B, out)``."""
        return grouping.unpad(self.forward_padded(grouping.pad(x)))

    def task_network(self, task: int) -> nn.Sequential:
        """A plain ``nn.Sequential`` holding a copy of task
        ``task``'s weights (for reference checks).
        """
        modules: list[nn.Module] = []
        layers = self.layer_tensors()
        for i, (weight, bias) in enumerate(layers):
            linear = nn.Linear(
                weight.shape[1], weight.shape[2], device=weight.device, dtype=weight.dtype
            )
            with torch.no_grad():
                linear.weight.copy_(weight[task].T)
                linear.bias.copy_(bias[task])
            modules.append(linear)
            if i < len(layers) - 1 or self.final_activation:
                modules.append(nn.ReLU())
        return nn.Sequential(*modules)
