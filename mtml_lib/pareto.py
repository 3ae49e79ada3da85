r"""Pareto optimality of multi-task solutions.

A solution :math:`\theta_a` *dominates* :math:`\theta_b` when it is no worse on every task and
better on at least one: :math:`\mathcal{L}_i(\theta_a) \le \mathcal{L}_i(\theta_b)` for all
:math:`i`, with strict inequality for some. A solution no other dominates is *Pareto-optimal*;
together they form the Pareto front. Minimising a weighted sum with positive weights lands on the
front, and so does the worst-case objective; which point is a choice between the tasks.

Example:
    >>> import torch
    >>> pareto_optimal(torch.tensor([[1.0, 3.0], [2.0, 2.0], [2.0, 3.0], [3.0, 1.0]]))
    tensor([ True,  True, False,  True])
"""

from __future__ import annotations

import torch

__all__ = ["pareto_optimal"]


def pareto_optimal(losses: torch.Tensor) -> torch.Tensor:
    """Which rows of ``losses (N, T)`` (lower is better) no other row dominates: boolean ``(N,)``.

    Equal rows do not dominate each other. Memory grows as ``N^2 T``.
    """
    if losses.dim() != 2:
        raise ValueError(
            f"`losses` must be a 2-D tensor (solutions, tasks); got shape {tuple(losses.shape)}."
        )
    no_worse = (losses[:, None, :] <= losses[None, :, :]).all(-1)  # [a, b]: a no worse than b
    better = (losses[:, None, :] < losses[None, :, :]).any(-1)
    return ~(no_worse & better).any(0)  # b is optimal when no a dominates it
