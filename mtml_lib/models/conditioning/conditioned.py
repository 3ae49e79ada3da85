"""The contract every conditioning choice follows: :class:`ConditionedModel`.

A conditioned model maps ``x (B, in_features)`` and ``task_id (B,)`` (a LongTensor; tasks
may be mixed within a batch) to ``(B, out_features)``, and says which of its parameters
are shared by every task (:meth:`ConditionedModel.shared_parameters`, the ones gradient
combinations act on) and which belong to single tasks
(:meth:`ConditionedModel.task_specific_parameters`).

Example:
    >>> import torch
    >>> from mtml_lib.models.conditioning import get_conditioning
    >>> model = get_conditioning("multihead", in_features=64, out_features=2, num_tasks=4,
    ...                          hidden=(32,))
    >>> count_parameters(model, which="task_specific")
    264
"""

from __future__ import annotations

import torch
from torch import nn

from ..._validation import check_choice, check_int, check_tensor

__all__ = ["ConditionedModel", "count_parameters", "DEFAULT_HIDDEN"]

DEFAULT_HIDDEN = (64, 64)


class ConditionedModel(nn.Module):
    """Base class: argument checks, and the shared / task-specific parameter split.

    Subclasses implement ``_forward(x, task_id)`` and list the names (prefixes) of
    their task-specific parameters in ``task_specific_prefixes``.
    """

    task_specific_prefixes: tuple[str, ...] = ()

    def __init__(self, *, in_features: int, out_features: int, num_tasks: int):
        super().__init__()
        self.in_features = check_int("in_features", in_features, minimum=1)
        self.out_features = check_int("out_features", out_features, minimum=1)
        self.num_tasks = check_int("num_tasks", num_tasks, minimum=1)

    def forward(self, x: torch.Tensor, task_id: torch.Tensor) -> torch.Tensor:
        """``x (B, in_features)``, ``task_id (B,)`` long -> ``(B, out_features)``."""
        self.check_inputs(x, task_id)
        return self._forward(x, task_id)

    def _forward(self, x: torch.Tensor, task_id: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def check_inputs(self, x: torch.Tensor, task_id: torch.Tensor) -> None:
        check_tensor("x", x, shape=(None, self.in_features))
        if not x.is_floating_point():
            raise TypeError(f"`x.dtype` must be a floating point type; got {x.dtype}.")
        check_tensor(
            "task_id", task_id, shape=(x.shape[0],), dtype=(torch.long, torch.int32, torch.int64)
        )
        if task_id.device != x.device:
            raise ValueError(
                f"`task_id` must be on the device of `x` ({x.device}); got {task_id.device}."
            )
        if task_id.numel() and bool(((task_id < 0) | (task_id >= self.num_tasks)).any()):
            bad = task_id[(task_id < 0) | (task_id >= self.num_tasks)][0].item()
            raise ValueError(
                f"`task_id` must hold task indices in [0, {self.num_tasks}); got {bad}."
            )

    def _is_task_specific(self, name: str) -> bool:
        return any(name == p or name.startswith(p + ".") for p in self.task_specific_prefixes)

    def shared_parameters(self) -> list[nn.Parameter]:
        """Parameters every task uses (the ones gradient-combination methods act on)."""
        return [p for n, p in self.named_parameters() if not self._is_task_specific(n)]

    def task_specific_parameters(self) -> list[nn.Parameter]:
        """Parameters (or stacked slices of them) that each belong to one task."""
        return [p for n, p in self.named_parameters() if self._is_task_specific(n)]


def count_parameters(model: nn.Module, *, which: str = "all") -> int:
    """Number of scalar parameters: ``which`` is ``"all"``, ``"shared"`` or ``"task_specific"``."""
    check_choice("which", which, ("all", "shared", "task_specific"))
    if which == "all":
        params = list(model.parameters())
    elif not isinstance(model, ConditionedModel):
        raise TypeError(
            f"`model` must be a ConditionedModel to count {which!r} parameters; got "
            f"{type(model).__name__}."
        )
    else:
        params = (
            model.shared_parameters() if which == "shared" else model.task_specific_parameters()
        )
    return sum(p.numel() for p in params)
