r"""Equal weights, :math:`w_i = 1`: the lecture's plain sum :math:`\sum_i \mathcal{L}_i`."""

from __future__ import annotations

import torch

from .method import LossWeighting

__all__ = ["EqualWeighting"]


class EqualWeighting(LossWeighting):
    """:math:`w_i = 1` for every task.

    Example:
        >>> import torch
        >>> EqualWeighting(num_tasks=3).loss_weights(torch.tensor([0.5, 2.0, 9.0]))
        tensor([1., 1., 1.])
    """

    name = "equal"

    def loss_weights(self, losses: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(self.check_losses(losses))
