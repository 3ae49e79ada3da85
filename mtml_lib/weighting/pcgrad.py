r"""PCGrad: project away the conflicting part of each task's gradient.

Yu, Kumar, Gupta, Levine, Hausman and Finn, "Gradient Surgery for Multi-Task Learning",
NeurIPS 2020. https://arxiv.org/abs/2001.06782

For each task :math:`i`, visit the other tasks :math:`j` in random order; whenever
:math:`g_i \cdot g_j < 0`, remove the component along the *original* :math:`g_j`:
:math:`g_i \leftarrow g_i - \frac{g_i \cdot g_j}{\lVert g_j \rVert^2} g_j`. The update
is the sum of the projected gradients. The projections are sequential, so the
work grows as :math:`T^2`.
"""

from __future__ import annotations

from typing import Any

import torch

from ..seeding import make_generator
from .method import GradientCombination

__all__ = ["PCGrad", "pcgrad"]


def pcgrad(grads: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The PCGrad update for per-task gradients ``grads (T, P)``; returns ``(P,)``.

    Example:
        >>> import torch
        >>> pcgrad(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]))
        tensor([0.5000, 1.5000])
    """
    num_tasks = grads.shape[0]
    generator = make_generator(0 if generator is None else generator)
    squared_norms = (grads * grads).sum(dim=1).clamp_min(1e-20)  # (T,)
    projected = grads.clone()
    for i in range(num_tasks):
        for j in torch.randperm(num_tasks, generator=generator).tolist():
            if j == i:
                continue
            dot = projected[i] @ grads[j]
            # Only conflicting pairs (dot < 0) are projected; no host sync on the test.
            projected[i] = projected[i] - torch.clamp(dot, max=0.0) / squared_norms[j] * grads[j]
    return projected.sum(dim=0)


class PCGrad(GradientCombination):
    """Gradient surgery on the shared parameters; task-specific ones keep their own gradient.

    Args:
        num_tasks: T.
        generator: seed or CPU generator of the visiting orders (default 0: reproducible).

    ``combine`` returns ``None``: the projections change directions, so no weights
    reproduce the update.
    """

    name = "pcgrad"

    def __init__(self, *, num_tasks: int, generator: int | torch.Generator | None = 0):
        super().__init__(num_tasks=num_tasks)
        self.generator = make_generator(generator)

    def combine_gradients(self, grads, losses):
        return pcgrad(grads, self.generator), None

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
