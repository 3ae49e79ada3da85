r"""CAGrad: the best worst-case improvement near the average gradient.

Liu, Liu, Jin, Stone and Liu, "Conflict-Averse Gradient Descent for Multi-task
Learning", NeurIPS 2021. https://arxiv.org/abs/2110.14048

With :math:`g_0` the average gradient and :math:`c \in [0, 1)`, find
:math:`w \in \Delta^T` minimising :math:`g_w \cdot g_0 + c \lVert g_0 \rVert \lVert g_w \rVert`
(:math:`g_w = \sum_i w_i g_i`), then step along
:math:`d = \big(g_0 + \tfrac{c \lVert g_0 \rVert}{\lVert g_w \rVert} g_w\big) / (1 + c^2)`.
:math:`c = 0` is plain gradient descent on the average; larger :math:`c` leans
towards the task that improves least. The small problem over :math:`w` is solved exactly on
the Gram matrix (:func:`~mtml_lib.weighting.simplex.cagrad_weights`): the tests measure a
cosine of at least 0.999999 to a multi-start SLSQP reference on gradients with norms up to
100x apart, T = 2..8.
"""

from __future__ import annotations

import torch

from .._validation import check_float
from .method import GradientCombination
from .simplex import cagrad_weights

__all__ = ["CAGrad", "cagrad"]


def cagrad(
    grads: torch.Tensor, c: float = 0.5, *, tol: float = 1e-10
) -> tuple[torch.Tensor, torch.Tensor]:
    """CAGrad's direction ``(P,)`` and its effective weights ``(T,)`` for ``grads (T, P)``."""
    c = check_float("c", c, minimum=0.0, maximum=0.999)
    gram = grads.double() @ grads.double().T  # (T, T)
    num_tasks = gram.shape[0]
    mean = gram.new_full((num_tasks,), 1.0 / num_tasks)
    radius = c * (mean @ gram @ mean).clamp_min(0).sqrt()  # c ||g_0||
    w = cagrad_weights(gram, c, tol=tol)
    gw_norm = (w @ gram @ w).clamp_min(1e-20).sqrt()
    effective = ((mean + radius / gw_norm * w) / (1 + c**2)).to(grads.dtype)
    return effective @ grads, effective


class CAGrad(GradientCombination):
    """Conflict-averse gradient descent on the shared parameters.

    Args:
        num_tasks: T.
        c: the radius around the average gradient, in ``[0, 1)`` (0.5 in the paper).
        tol: the inner solver's tolerance (duality gap relative to the largest squared norm).

    ``combine`` returns the effective weights: the update is :math:`\\sum_i w_i g_i`.
    """

    name = "cagrad"
    requires_all_tasks = True

    def __init__(self, *, num_tasks: int, c: float = 0.5, tol: float = 1e-10):
        super().__init__(num_tasks=num_tasks)
        self.c = check_float("c", c, minimum=0.0, maximum=0.999)
        self.tol = check_float("tol", tol, minimum=0.0, strict_minimum=True)

    def combine_gradients(self, grads, losses):
        return cagrad(grads, self.c, tol=self.tol)
