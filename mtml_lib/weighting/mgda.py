r"""MGDA: the minimum-norm point in the convex hull of the task gradients.

Désidéri, "Multiple-gradient descent algorithm (MGDA) for multiobjective optimization",
2012; Sener and Koltun, "Multi-Task Learning as Multi-Objective Optimization",
NeurIPS 2018. https://arxiv.org/abs/1810.04650

Find :math:`\alpha \in \Delta^T` minimising :math:`\lVert \sum_i \alpha_i g_i \rVert^2`
and step along :math:`d = \sum_i \alpha_i g_i`, a direction that decreases every
task's loss (when :math:`d \ne 0`, it makes a non-negative inner product with every
:math:`g_i`). Two tasks have a closed form,
:math:`\alpha_1 = \mathrm{clip}\big(\frac{(g_2 - g_1) \cdot g_2}{\lVert g_1 - g_2 \rVert^2}, 0,
1\big)`;
more tasks use pairwise Frank-Wolfe on the Gram matrix :math:`G = g g^\top` (each
step moves weight from the worst task in the support to the best one, with an exact
line search; it converges linearly on the simplex, where plain Frank-Wolfe crawls).
"""

from __future__ import annotations

import torch

from .._validation import check_int
from .base import GradientCombination

__all__ = ["MGDA", "min_norm_weights"]


def min_norm_weights(
    grads: torch.Tensor, *, max_iter: int = 100, tolerance: float = 1e-7
) -> torch.Tensor:
    """The :math:`\\alpha \\in \\Delta^T` minimising :math:`\\lVert \\alpha^\\top g \\rVert` for
    ``grads (T, P)``.

    Example:
        >>> import torch
        >>> min_norm_weights(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        tensor([0.5000, 0.5000])
    """
    gram = grads @ grads.T  # (T, T)
    num_tasks = gram.shape[0]
    if num_tasks == 1:
        return grads.new_ones(1)
    if num_tasks == 2:
        g11, g12, g22 = gram[0, 0], gram[0, 1], gram[1, 1]
        alpha = ((g22 - g12) / (g11 - 2 * g12 + g22).clamp_min(1e-20)).clamp(0.0, 1.0)
        return torch.stack([alpha, 1 - alpha])
    alpha = grads.new_full((num_tasks,), 1.0 / num_tasks)
    scale = gram.diagonal().max().clamp_min(1e-20)
    for _ in range(max_iter):
        g_alpha = gram @ alpha  # (T,): g_t . v for v = alpha^T g
        toward = int(torch.argmin(g_alpha))
        away = int(
            torch.argmax(torch.where(alpha > 0, g_alpha, torch.full_like(g_alpha, -torch.inf)))
        )
        gap = g_alpha[away] - g_alpha[toward]
        if toward == away or float(gap) <= tolerance * float(scale):
            break
        # Exact line search of ||v + s (g_toward - g_away)||^2 over s in [0, alpha_away].
        curvature = (gram[toward, toward] - 2 * gram[toward, away] + gram[away, away]).clamp_min(
            1e-20
        )
        step = torch.minimum(gap / curvature, alpha[away])
        alpha = alpha.clone()
        alpha[toward] += step
        alpha[away] -= step
    return alpha.clamp_min(0.0)


class MGDA(GradientCombination):
    """The multiple-gradient descent direction on the shared parameters.

    Args:
        num_tasks: T.
        max_iter: at most this many Frank-Wolfe steps for T > 2 (it stops at convergence).

    ``combine`` returns the weights :math:`\\alpha` (they sum to 1), so the update
    is :math:`\\sum_i \\alpha_i g_i`.
    """

    name = "mgda"
    requires_all_tasks = True

    def __init__(self, *, num_tasks: int, max_iter: int = 100):
        super().__init__(num_tasks=num_tasks)
        self.max_iter = check_int("max_iter", max_iter, minimum=1)

    def combine_gradients(self, grads, losses):
        alpha = min_norm_weights(grads, max_iter=self.max_iter)
        return alpha @ grads, alpha
