r"""Diagnostics of multi-task training.

* :func:`gradient_cosine`: the cosine between the tasks' gradients on the shared
  parameters (negative: the tasks pull the shared weights in conflicting directions).

Example:
    >>> import torch
    >>> theta = torch.zeros(2, requires_grad=True)
    >>> losses = torch.stack([theta @ torch.tensor([1.0, 0.0]), theta @ torch.tensor([-1.0, 0.0])])
    >>> gradient_cosine(losses, [theta])
    tensor([[ 1., -1.],
            [-1.,  1.]])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .weighting.base import per_task_gradients

__all__ = ["gradient_cosine"]


def gradient_cosine(losses: torch.Tensor, shared_parameters: Sequence[torch.Tensor]) -> torch.Tensor:
    """Cosine similarity of every pair of task gradients on ``shared_parameters``: ``(T, T)``.

    ``losses`` must still hold its graph (it is differentiated, not modified). A
    task whose gradient is zero has cosine 0 with every task.
    """
    grads = per_task_gradients(losses, list(shared_parameters))  # (T, P)
    unit = grads / grads.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return (unit @ unit.T).detach()
