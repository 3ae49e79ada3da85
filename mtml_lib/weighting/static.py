r"""Fixed, hand-chosen weights :math:`w_i` (e.g. from a validation search)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._validation import check_float
from .method import LossWeighting

__all__ = ["StaticWeighting"]


class StaticWeighting(LossWeighting):
    """Given non-negative weights, one per task.

    Args:
        weights: ``T`` non-negative numbers, not all zero.

    Example:
        >>> import torch
        >>> StaticWeighting(num_tasks=2, weights=[1.0, 0.1]).loss_weights(torch.tensor([3.0, 30.0]))
        tensor([1.0000, 0.1000])
    """

    name = "static"

    def __init__(self, *, num_tasks: int, weights: Sequence[float]):
        super().__init__(num_tasks=num_tasks)
        if (
            isinstance(weights, (str, bytes))
            or not isinstance(weights, Sequence)
            and not isinstance(weights, torch.Tensor)
        ):
            raise TypeError(
                f"`weights` must be a sequence of {num_tasks} numbers; got {weights!r}."
            )
        values = [
            check_float(f"weights[{i}]", float(w), minimum=0.0) for i, w in enumerate(weights)
        ]
        if len(values) != self.num_tasks:
            raise ValueError(
                f"`weights` must hold one weight per task ({self.num_tasks}); got {len(values)}."
            )
        if not any(values):
            raise ValueError(f"`weights` must not all be zero; got {values!r}.")
        self.weights = torch.tensor(values)

    def loss_weights(self, losses: torch.Tensor) -> torch.Tensor:
        return self.weights.to(self.check_losses(losses).device, losses.dtype).expand_as(losses)
