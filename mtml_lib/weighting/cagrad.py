r"""CAGrad: the best worst-case improvement near the average gradient.

Liu, Liu, Jin, Stone and Liu, "Conflict-Averse Gradient Descent for Multi-task
Learning", NeurIPS 2021. https://arxiv.org/abs/2110.14048

With :math:`g_0` the average gradient and :math:`c \in [0, 1)`, find
:math:`w \in \Delta^T` minimising :math:`g_w \cdot g_0 + c \lVert g_0 \rVert \lVert g_w \rVert`
(:math:`g_w = \sum_i w_i g_i`), then step along
:math:`d = \big(g_0 + \tfrac{c \lVert g_0 \rVert}{\lVert g_w \rVert} g_w\big) / (1 + c^2)`.
:math:`c = 0` is plain gradient descent on the average; larger :math:`c` leans
towards the task that improves least. The small problem over :math:`w` is solved
on the Gram matrix by exponentiated-gradient descent with a decaying step (30 steps
reach the optimum's objective to within about 1% for up to 8 tasks).
"""

from __future__ import annotations

import math

import torch

from .._validation import check_float, check_int
from .base import GradientCombination

__all__ = ["CAGrad", "cagrad"]


def cagrad(
    grads: torch.Tensor, c: float = 0.5, *, iterations: int = 30
) -> tuple[torch.Tensor, torch.Tensor]:
    """CAGrad's direction ``(P,)`` and its effective weights ``(T,)`` for ``grads (T, P)``."""
    num_tasks = grads.shape[0]
    gram = grads @ grads.T  # (T, T)
    mean = grads.new_full((num_tasks,), 1.0 / num_tasks)
    g0_norm = (mean @ gram @ mean).clamp_min(0).sqrt()
    radius = c * g0_norm
    g0_dot = gram @ mean  # g_i . g_0

    def objective(w: torch.Tensor) -> torch.Tensor:
        return w @ g0_dot + radius * (w @ gram @ w).clamp_min(1e-20).sqrt()

    w, best, best_value = mean.clone(), mean.clone(), objective(mean)
    for k in range(iterations):
        gradient = g0_dot + radius * (gram @ w) / (w @ gram @ w).clamp_min(1e-20).sqrt()
        gradient = gradient - gradient.min()  # the update is invariant to a shift; this bounds it
        w = w * torch.exp(-2.0 / math.sqrt(k + 1) * gradient / gradient.max().clamp_min(1e-20))
        w = w / w.sum()
        value = objective(w)
        better = value < best_value
        best, best_value = torch.where(better, w, best), torch.where(better, value, best_value)
    gw_norm = (best @ gram @ best).clamp_min(1e-20).sqrt()
    effective = (mean + radius / gw_norm * best) / (1 + c**2)
    return effective @ grads, effective


class CAGrad(GradientCombination):
    """Conflict-averse gradient descent on the shared parameters.

    Args:
        num_tasks: T.
        c: the radius around the average gradient, in ``[0, 1)`` (0.5 in the paper).
        iterations: steps of the inner solver.

    ``combine`` returns the effective weights: the update is :math:`\\sum_i w_i g_i`.
    """

    name = "cagrad"
    requires_all_tasks = True

    def __init__(self, *, num_tasks: int, c: float = 0.5, iterations: int = 30):
        super().__init__(num_tasks=num_tasks)
        self.c = check_float("c", c, minimum=0.0, maximum=0.999)
        self.iterations = check_int("iterations", iterations, minimum=1)

    def combine_gradients(self, grads, losses):
        return cagrad(grads, self.c, iterations=self.iterations)
